#!/bin/sh
# test_python_package.sh - the Python package (tools/python) installs offline
# into a fresh virtual environment, as README says (Debian's pip and
# setuptools, --no-build-isolation --no-index, numpy and h5py from the system
# site packages), and then:
#   - imports from the environment, not from the checkout: ticketsweep and its
#     modules report, page (the HTML page), lenet_claims, conv_claims, dataset
#     (to_xarray);
#   - is the binary's version: ticketsweep.__version__ is what
#     `ticketsweep --version` prints, the package metadata its PEP 440
#     spelling; setup.py's mapping on every form src/version.c makes; a copy
#     of the sources without git gets version.c's TS_RELEASE;
#   - leaves the checkout clean (its build folders are ignored, so a build
#     does not make the version -dirty);
#   - its commands run: lth_report, lenet_claims and conv_claims --help, and
#     python -m ticketsweep prints the trial table of a small results file.
. "$(dirname "$0")/lib.sh"
[ -x "$TS" ] || fail "$TS is missing: run make first"
export PYTHONDONTWRITEBYTECODE=1
PKG=$TOP/tools/python
V=$W/venv

before=$(git -C "$TOP" status --porcelain 2>/dev/null)
"$PY" -m venv --system-site-packages --without-pip "$V" || fail "python3 -m venv (Debian: python3-venv)"
"$V/bin/python" -m pip install --no-build-isolation --no-index "$PKG" >"$W/pip.log" 2>&1 ||
    { cat "$W/pip.log"; fail "pip install --no-build-isolation --no-index tools/python"; }
[ "$(git -C "$TOP" status --porcelain 2>/dev/null)" = "$before" ] ||
    { git -C "$TOP" status --porcelain; fail "the install left files git sees in the checkout"; }

# --- imported from the environment, every module ---
(cd "$W" && "$V/bin/python" - "$V" <<'PY') || fail "imports from the venv"
import os, sys
import ticketsweep, ticketsweep.report, ticketsweep.lenet_claims, ticketsweep.conv_claims
import ticketsweep.dataset, ticketsweep.page
venv = os.path.realpath(sys.argv[1])
for m in (ticketsweep, ticketsweep.report, ticketsweep.lenet_claims, ticketsweep.conv_claims,
          ticketsweep.dataset, ticketsweep.page):
    where = os.path.realpath(m.__file__)
    assert where.startswith(venv + os.sep), f"{m.__name__} imported from {where}, not {venv}"
assert callable(ticketsweep.load) and issubclass(ticketsweep.FormatError, ValueError)
PY

# --- the version: the binary's, and its PEP 440 spelling in the metadata ---
bin_ver=$("$TS" --version | awk '{print $2}')
pkg_ver=$(cd "$W" && "$V/bin/python" -c 'import ticketsweep; print(ticketsweep.__version__)')
[ "$pkg_ver" = "$bin_ver" ] || fail "ticketsweep.__version__ is $pkg_ver, ticketsweep --version says $bin_ver"
"$V/bin/python" - "$PKG/setup.py" "$bin_ver" <<'PY' || fail "version mapping"
import importlib.metadata, importlib.util, sys
spec = importlib.util.spec_from_file_location("ts_setup", sys.argv[1])
setup = importlib.util.module_from_spec(spec)
spec.loader.exec_module(setup)           # not __main__: defines the functions, builds nothing
assert setup.binary_version() == sys.argv[2], (setup.binary_version(), sys.argv[2])
meta = importlib.metadata.version("ticketsweep")
assert meta == setup.pep440(sys.argv[2]), (meta, sys.argv[2])
for binary, want in (("0.1.0", "0.1.0"), ("0.1.0+g846f47b", "0.1.0+g846f47b"),
                     ("0.1.0+g846f47b-dirty", "0.1.0+g846f47b.dirty"),
                     ("0.2.0-3-gabc1234", "0.2.0.post3+gabc1234"),
                     ("0.2.0-3-gabc1234-dirty", "0.2.0.post3+gabc1234.dirty"),
                     ("0.2.0-dirty", "0.2.0+dirty"), ("0.2.0", "0.2.0")):
    got = setup.pep440(binary)
    assert got == want, f"pep440({binary!r}) = {got!r}, want {want!r}"
try:
    from packaging.version import Version
    assert str(Version(meta)) == meta, f"{meta} is not in PEP 440's normal form"
except ImportError:
    pass
PY

# --- a copy without git (a tarball): version.c's fixed release number ---
mkdir -p "$W/tarball/src" "$W/tarball/tools"
cp "$TOP/src/version.c" "$W/tarball/src/" && cp -r "$PKG" "$W/tarball/tools/python" || fail "copy"
rm -rf "$W/tarball/tools/python/build" "$W/tarball/tools/python/"*.egg-info
release=$(sed -n 's/^#define TS_RELEASE "\(.*\)"$/\1/p' "$TOP/src/version.c")
[ -n "$release" ] || fail "no TS_RELEASE in src/version.c"
tar_ver=$(cd "$W/tarball/tools/python" && "$PY" setup.py --version 2>/dev/null | tail -n 1)
[ "$tar_ver" = "$release" ] || fail "without git the package's version is '$tar_ver', not TS_RELEASE $release"

# --- the commands ---
for c in lth_report lenet_claims conv_claims; do
    "$V/bin/$c" --help >"$W/help" 2>&1 || { cat "$W/help"; fail "$c --help"; }
    grep -q "^usage: $c " "$W/help" || { cat "$W/help"; fail "$c --help: no usage line"; }
done
small_data "$W/data" 600 200
tiny_job "$W/job.ini" "$W/data"
"$TS" run "$W/job.ini" -o "$W/r.h5" --set sweep.seeds=1 >"$W/run.log" 2>&1 || { cat "$W/run.log"; fail "run"; }
(cd "$W" && "$V/bin/python" -m ticketsweep r.h5) >"$W/table" || fail "python -m ticketsweep"
n=$(grep -c '^ *[0-9]\+ \+0\.[58] \+[12] \+1  done ' "$W/table")
[ "$n" = 4 ] || { cat "$W/table"; fail "python -m ticketsweep: $n done trial lines, want 4"; }
echo "python package: ok ($pkg_ver)"
