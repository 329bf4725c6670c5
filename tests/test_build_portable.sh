#!/bin/sh
# Builds where researchers are (docs/cluster.md, "Building on a cluster"), on this
# Debian machine: pkg-config finds nothing, and parallel HDF5, OpenBLAS and
# libinih come from HDF5_DIR, OPENBLAS_DIR and INIH_DIR, prefixes of symlinks
# into Debian's files laid out the way a Spack prefix is (libinih in lib64, as
# meson puts it on Red Hat); zlib from the compiler's own path. The binary
# builds into its own BUILD folder, carries the prefixes in its run path and
# runs a small sweep. Then: a serial HDF5 is refused before anything compiles,
# with the message; nothing found names the variables; tools/build/deps.sh without
# dpkg checks instead of installing; make install DESTDIR=... PREFIX=/opt/ts
# lays out the files without rebuilding (the man page too), the Python package
# with its commands where the PYTHONPATH it prints says, of the binary's version.
. "$(dirname "$0")/lib.sh"
# a build of its own, whatever make (and flags) started the suite
unset MAKEFLAGS MFLAGS MAKELEVEL

ma=$(cc -print-multiarch 2>/dev/null)
inc_hdf5=/usr/include/hdf5/openmpi lib_hdf5=/usr/lib/$ma/hdf5/openmpi
inc_blas=/usr/include/$ma/openblas-pthread lib_blas=/usr/lib/$ma/openblas-pthread
for f in "$inc_hdf5/H5pubconf.h" "$lib_hdf5/libhdf5.so" "$inc_blas/cblas.h" \
    "$lib_blas/libopenblas.so" /usr/include/ini.h "/usr/lib/$ma/libinih.so"; do
    [ -e "$f" ] || skip "$f is missing: this test lays out prefixes from Debian's packages"
done

# pkg-config finds nothing: no Debian names, no system folders
export PKG_CONFIG_PATH="$W/no-pkgconfig" PKG_CONFIG_LIBDIR=
mkdir -p "$PKG_CONFIG_PATH"
! pkg-config --exists zlib 2>/dev/null || fail "pkg-config still finds zlib"

# prefix DIR INCDIR LIBDIR LIBFILE...: DIR/include holds a symlink to every
# file of INCDIR, DIR/LIBDIR one to every LIBFILE
prefix() {
    mkdir -p "$1/include" "$1/$3" || exit 1
    ln -s "$2"/* "$1/include/" || exit 1
    d=$1/$3
    shift 3
    ln -s "$@" "$d/" || exit 1
}
S=$W/spack
prefix "$S/hdf5-1.10.8-openmpi" "$inc_hdf5" lib "$lib_hdf5/libhdf5.so"
prefix "$S/openblas-0.3.21" "$inc_blas" lib "$lib_blas/libopenblas.so"
mkdir -p "$S/inih-55/include" "$S/inih-55/lib64"
ln -s /usr/include/ini.h "$S/inih-55/include/"
ln -s "/usr/lib/$ma/libinih.so" "$S/inih-55/lib64/"
DIRS="HDF5_DIR=$S/hdf5-1.10.8-openmpi OPENBLAS_DIR=$S/openblas-0.3.21 INIH_DIR=$S/inih-55"

# --- the build, from the prefixes ---
B=$W/build
# shellcheck disable=SC2086
make -C "$TOP" BUILD="$B" $DIRS >"$W/build.log" 2>&1 || { tail -n 30 "$W/build.log"; fail "build from *_DIR"; }
for l in "deps: parallel HDF5 1.10.8: HDF5_DIR=$S/hdf5-1.10.8-openmpi" \
    "deps: OpenBLAS: OPENBLAS_DIR=$S/openblas-0.3.21" "deps: libinih: INIH_DIR=$S/inih-55" \
    "deps: zlib: the compiler's search path"; do
    grep -qxF "$l" "$W/build.log" || { cat "$W/build.log"; fail "build log lacks: $l"; }
done
grep -q -- "-I$S/hdf5-1.10.8-openmpi/include .*-c src/store.c" "$W/build.log" ||
    fail "store.c was not compiled with HDF5_DIR's include/"
grep -q -- "-I$S/inih-55/include .*-c src/config.c" "$W/build.log" ||
    fail "config.c was not compiled with INIH_DIR's include/"
grep -q -- "-L$S/inih-55/lib64 .*-o $B/ticketsweep" "$W/build.log" ||
    fail "the binary was not linked with INIH_DIR's lib64/"
runpath=$(readelf -d "$B/ticketsweep" | sed -n 's/.*R.*PATH.*\[\(.*\)\]/\1/p')
for d in hdf5-1.10.8-openmpi/lib openblas-0.3.21/lib inih-55/lib64; do
    case ":$runpath:" in *":$S/$d:"*) ;; *) fail "run path '$runpath' lacks $S/$d" ;; esac
done

# a second make with the same settings does nothing
# shellcheck disable=SC2086
make -C "$TOP" BUILD="$B" $DIRS 2>&1 | grep -q "Nothing to be done" || fail "second make rebuilt"

# --- it runs ---
"$B/ticketsweep" --version >"$W/version" || fail "--version exit status"
grep -q "^ticketsweep [0-9]" "$W/version" || fail "--version printed: $(cat "$W/version")"
# shellcheck disable=SC2034 # mpirun_ts (lib.sh) runs $TS
TS=$B/ticketsweep
small_data "$W/data" 600 200
tiny_job "$W/job.ini" "$W/data"
mpirun_ts 2 run "$W/job.ini" -o "$W/out.h5" --set sweep.seeds=1 --set prune.controls=random \
    >"$W/run.log" 2>&1 || { tail -n 20 "$W/run.log"; fail "the sweep exited $?"; }
grep -q "HDF5 1.10.8" "$W/run.log" || { head -n 20 "$W/run.log"; fail "run header lacks HDF5 1.10.8"; }
[ "$(statuses "$W/out.h5")" = "1111" ] || fail "trial statuses $(statuses "$W/out.h5")"

# --- make install DESTDIR=... PREFIX=/opt/ts, without rebuilding ---
D=$W/dest
# shellcheck disable=SC2086
make -C "$TOP" BUILD="$B" $DIRS install DESTDIR="$D" PREFIX=/opt/ts >"$W/install.log" 2>&1 ||
    { cat "$W/install.log"; fail "make install"; }
! grep -q -- "-c src/" "$W/install.log" || fail "make install recompiled"
PYSITE=/opt/ts/lib/python3/dist-packages
grep -qxF "ticketsweep: installed; the Python package needs PYTHONPATH=$PYSITE" "$W/install.log" ||
    { cat "$W/install.log"; fail "make install did not print PYTHONPATH=$PYSITE"; }
# the package's own files apart (pip adds its metadata and byte code)
(cd "$D" && find . -type f ! -path ".$PYSITE/*" -printf '%m %p\n' | sort) >"$W/installed"
{
    echo "755 ./opt/ts/bin/ticketsweep"
    echo "644 ./opt/ts/share/ticketsweep/hostfile.example"
    for f in "$TOP"/jobs/*; do
        case $f in *.sh) m=755 ;; *) m=644 ;; esac
        echo "$m ./opt/ts/share/ticketsweep/jobs/${f##*/}"
    done
    echo "644 ./opt/ts/share/ticketsweep/load_ticketsweep.m"
    echo "644 ./opt/ts/share/ticketsweep/plot_ticketsweep_example.m"
    for c in lth_report lenet_claims conv_claims; do echo "755 ./opt/ts/bin/$c"; done
    echo "644 ./opt/ts/share/man/man1/ticketsweep.1"
} | sort >"$W/expected"
diff "$W/expected" "$W/installed" || fail "installed files differ from the list above (- expected, + installed)"
(cd "$TOP/tools/python/ticketsweep" && ls ./*.py; echo ./_version.py) | sort >"$W/py_expected"
(cd "$D$PYSITE/ticketsweep" && ls ./*.py) | sort >"$W/py_installed"
diff "$W/py_expected" "$W/py_installed" || fail "the installed package's modules differ from tools/python's"
ver=$(PYTHONPATH="$D$PYSITE" "$PY" -c 'import ticketsweep; print(ticketsweep.__version__)') || fail "import ticketsweep"
fmt=$(PYTHONPATH="$D$PYSITE" "$PY" -c 'import ticketsweep; print(ticketsweep.FORMAT_VERSION)') || fail "import ticketsweep"
[ "ticketsweep $ver (results format $fmt)" = "$(cat "$W/version")" ] ||
    fail "the package's version $ver or newest format $fmt is not the binary's: $(cat "$W/version")"
PYTHONPATH="$D$PYSITE" "$D/opt/ts/bin/lth_report" --help | grep -q -- "--format" || fail "the installed lth_report --help"
MANWIDTH=200 man -M "$D/opt/ts/share/man" ticketsweep 2>&1 | grep -q "^JOB-FILE KEYS" ||
    fail "man -M $D/opt/ts/share/man ticketsweep: not the page"
cmp -s "$B/ticketsweep" "$D/opt/ts/bin/ticketsweep" || fail "the installed binary is not the build's"
"$D/opt/ts/bin/ticketsweep" --version >/dev/null || fail "the installed binary does not run"

# --- a serial HDF5 is refused before anything compiles ---
# Debian's serial headers (libhdf5-dev) when they are there; otherwise the
# parallel ones with H5pubconf.h as the serial build writes it.
serial_inc=${SERIAL_ROOT:-}/usr/include/hdf5/serial
P=$S/hdf5-1.10.8-serial
if [ -e "$serial_inc/H5pubconf.h" ]; then
    echo "serial HDF5: Debian's, $serial_inc"
    prefix "$P" "$serial_inc" lib "/usr/lib/$ma/libhdf5_serial.so.103"
    mv "$P/lib/libhdf5_serial.so.103" "$P/lib/libhdf5.so"
else
    echo "serial HDF5: $inc_hdf5 with H5_HAVE_PARALLEL undefined ($serial_inc is not there)"
    prefix "$P" "$inc_hdf5" lib "$lib_hdf5/libhdf5.so"
    rm "$P/include/H5pubconf.h"
    sed 's|^#define H5_HAVE_PARALLEL 1$|/* #undef H5_HAVE_PARALLEL */|' "$inc_hdf5/H5pubconf.h" \
        >"$P/include/H5pubconf.h"
    ! grep -q "define H5_HAVE_PARALLEL" "$P/include/H5pubconf.h" || fail "could not make a serial H5pubconf.h"
fi
BS=$W/build-serial
# shellcheck disable=SC2086
if make -C "$TOP" BUILD="$BS" $DIRS HDF5_DIR="$P" >"$W/serial.log" 2>&1; then
    fail "a serial HDF5 was accepted"
fi
grep -qF "ticketsweep: HDF5 1.10.8 from HDF5_DIR=$P is a serial build: H5_HAVE_PARALLEL is not defined in $P/include/H5pubconf.h" \
    "$W/serial.log" || { cat "$W/serial.log"; fail "no serial-HDF5 message"; }
! grep -q -- "-c src/" "$W/serial.log" || fail "sources were compiled against a serial HDF5"
if [ -e "$BS/ticketsweep" ] || [ -e "$BS/config.mk" ]; then fail "the refused build left files behind"; fi

# --- nothing found: every missing library named, with its variable ---
# shellcheck disable=SC2086
if make -C "$TOP" BUILD="$W/build-none" >"$W/none.log" 2>&1; then
    fail "built with no libraries found"
fi
for v in HDF5_DIR OPENBLAS_DIR INIH_DIR; do
    grep -q "^ticketsweep: .* not found: .*$v is not set" "$W/none.log" || { cat "$W/none.log"; fail "no message names $v"; }
done

# --- tools/build/deps.sh where there is no dpkg: checks, installs nothing ---
mkdir "$W/bin"
ln -s /usr/bin/* "$W/bin/" && rm -f "$W/bin"/dpkg*
export PATH="$W/bin:/usr/sbin"
# shellcheck disable=SC2086
env $DIRS sh "$TOP/tools/build/deps.sh" >"$W/deps.log" 2>&1 || { cat "$W/deps.log"; fail "deps.sh with *_DIR exited $?"; }
grep -q "^deps: the build finds everything it needs" "$W/deps.log" || fail "deps.sh did not say the build finds it"
grep -q "parallel HDF5 built with that MPI" "$W/deps.log" || fail "deps.sh did not print what is needed"
if sh "$TOP/tools/build/deps.sh" >"$W/deps.log" 2>&1; then
    fail "deps.sh without HDF5_DIR passed"
fi
grep -q "^ticketsweep: the build cannot find what it needs" "$W/deps.log" || { cat "$W/deps.log"; fail "deps.sh failure message"; }
exit 0
