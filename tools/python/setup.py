"""Build of the ticketsweep Python package: the metadata is in pyproject.toml;
this file gives the version, the binary's.

The binary's version (src/version.c, compiled by the Makefile) is the fixed
release number TS_RELEASE of src/version.c, or, in a git checkout, `git
describe --tags --always --dirty` less a leading "v": the description itself
when a tag is reachable, TS_RELEASE + "+g" + the description when none is.
binary_version() computes the same string from the same two sources; the
build writes it into ticketsweep/_version.py (`ticketsweep.__version__`,
which `ticketsweep --version` prints too), and pep440() spells it the way
packaging metadata must (`pip show ticketsweep`):

    binary                      package metadata
    0.1.0                       0.1.0
    0.1.0+g846f47b-dirty        0.1.0+g846f47b.dirty
    0.2.0-3-gabc1234            0.2.0.post3+gabc1234
    0.2.0-dirty                 0.2.0+dirty

Outside the repository (an sdist), the version comes from the
ticketsweep/_version.py the sdist carries.

The dependencies are numpy, h5py and matplotlib, less those a system
package provides under another distribution name (requirements()).
"""
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))  # the repository: tools/python/../..
VERSION_C = os.path.join(TOP, "src", "version.c")
VERSION_PY = os.path.join("ticketsweep", "_version.py")


def git_describe():
    """(description less a leading v, whether a tag is reachable), or (None,
    False) outside a git checkout or without git: the Makefile's GIT_DESCRIBE
    and GIT_TAGGED."""
    if not os.path.exists(os.path.join(TOP, ".git")):
        return None, False

    def git(*args):
        try:
            p = subprocess.run(["git", "-C", TOP, *args], capture_output=True, text=True)
        except OSError:
            return None
        return p.stdout.strip() if p.returncode == 0 and p.stdout.strip() else None
    desc = git("describe", "--tags", "--always", "--dirty")
    if desc and desc.startswith("v"):
        desc = desc[1:]
    return desc, git("describe", "--tags") is not None


def binary_version():
    """The string `ticketsweep --version` prints for a build of this checkout,
    or None when src/version.c is not there."""
    try:
        text = open(VERSION_C).read()
    except OSError:
        return None
    m = re.search(r'^#define TS_RELEASE "([^"]+)"', text, re.M)
    if not m:
        raise SystemExit(f"setup.py: {VERSION_C}: no `#define TS_RELEASE \"...\"` line")
    desc, tagged = git_describe()
    if desc and tagged:
        return desc
    if desc:
        return f"{m.group(1)}+g{desc}"
    return m.group(1)


def pep440(v):
    """The binary's version as a PEP 440 version (see the table above)."""
    m = re.fullmatch(r"(\d+(?:\.\d+)*)(?:-(\d+)-(g[0-9a-f]+))?(?:\+(g[0-9a-f]+))?(-dirty)?", v)
    if not m:
        raise SystemExit(f"setup.py: version {v!r}: not of the forms src/version.c makes")
    release, commits, tag_hash, hash_, dirty = m.groups()
    local = [x for x in (tag_hash or hash_, "dirty" if dirty else None) if x]
    return release + (f".post{commits}" if commits else "") + ("+" + ".".join(local) if local else "")


def read_version_py():
    """The version an sdist's ticketsweep/_version.py holds, or None."""
    try:
        text = open(os.path.join(HERE, VERSION_PY)).read()
    except OSError:
        return None
    m = re.search(r'^version = "([^"]+)"', text, re.M)
    return m.group(1) if m else None


def requirements():
    """numpy, h5py and matplotlib, less each one that is importable here while
    no distribution of that name is installed: Debian's python3-h5py registers
    as h5py._debian_h5py_serial, so pip, offline (--no-index) and building with
    the system's packages (--no-build-isolation), would look for an h5py it
    cannot fetch and refuse. Built in isolation (from PyPI), nothing is
    importable and every one is required."""
    out = []
    for name in ("numpy", "h5py", "matplotlib"):
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            if importlib.util.find_spec(name) is not None:
                continue  # there under another name: the system's
        out.append(name)
    return out


class BuildPy(build_py):
    """build_py that also writes ticketsweep/_version.py into the build."""

    def run(self):
        # the build folder outlives builds (pip builds in the tree): a module
        # removed from the source must not ship from an older build
        shutil.rmtree(os.path.join(self.build_lib, "ticketsweep"), ignore_errors=True)
        super().run()
        path = os.path.join(self.build_lib, VERSION_PY)
        with open(path, "w") as f:
            f.write('"""The version of ticketsweep this package was built with (written by setup.py)."""\n'
                    f'version = "{VERSION}"\n')


if __name__ == "__main__":  # as builds run it (tests import it to check the functions above)
    VERSION = binary_version() or read_version_py()
    if VERSION is None:
        raise SystemExit(f"setup.py: neither {VERSION_C} nor {VERSION_PY} is there: build from the "
                         "ticketsweep repository (pip install ./tools/python)")
    setup(version=pep440(VERSION), install_requires=requirements(), cmdclass={"build_py": BuildPy})
