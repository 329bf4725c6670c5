#!/bin/sh
# tools/build/find-deps.sh - find the libraries ticketsweep builds against, check
# each by compiling and linking a small program with $CC, and print their
# flags as make variables (the Makefile keeps them in $(BUILD)/config.mk).
#
#   library        taken from the first of
#   parallel HDF5  HDF5_DIR, pkg-config hdf5-openmpi (Debian), pkg-config hdf5
#   OpenBLAS       OPENBLAS_DIR, pkg-config openblas
#   libinih        INIH_DIR, pkg-config inih
#   zlib           ZLIB_DIR, pkg-config zlib, the compiler's own search path
#   oneDNN         DNNL_DIR, the compiler's own search path (optional: without
#                  it the convolutions run on im2col + sgemm; DNNL_DIR=no
#                  builds without it even where it is installed)
#
# A *_DIR is an installation prefix (a Spack or EasyBuild prefix, a module's
# root): headers in DIR/include, the library in DIR/lib or DIR/lib64. It wins
# over pkg-config, so setting one is how to choose among several installs.
# Libraries outside /usr and /lib are linked with a run path (RUNPATH, below
# LD_LIBRARY_PATH), so the binary starts on a node where no module is loaded.
#
# An HDF5 without H5_HAVE_PARALLEL (a serial build: Debian's libhdf5-dev,
# Spack's hdf5~mpi) is refused: every rank writes into one shared file.
#
# Output: on stdout, NAME_CFLAGS and NAME_LIBS for HDF5, OPENBLAS, INIH, ZLIB
# and DNNL (DNNL_CFLAGS defines TS_HAVE_DNNL when oneDNN was found, else both are empty);
# on stderr, one line per library found ("deps: ..."). When something is
# missing or unusable: a message for each such library on stderr, exit 1.
# Environment: CC (default mpicc), PKG_CONFIG (default pkg-config), the *_DIRs.
set -u

CC=${CC:-mpicc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ts-deps.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0

# complain LINE...: a message for one library, the first line prefixed.
complain() {
    printf 'ticketsweep: %s\n' "$1" >&2
    shift
    for l in "$@"; do printf '  %s\n' "$l" >&2; done
    failed=1
}

# cc_said: the compiler's first error line from the last try, for messages.
cc_said() {
    line=$(grep -m 1 -i 'error' "$tmp/log" || head -n 1 "$tmp/log")
    printf '%s said: %s' "$CC" "$line"
}

# try MODE CFLAGS LIBS: compile (MODE c) or compile and link (MODE link)
# $tmp/t.c; the compiler's output goes to $tmp/log.
try() {
    # shellcheck disable=SC2086 # flags are word lists
    case $1 in
    c) $CC $2 -c "$tmp/t.c" -o "$tmp/t.o" >"$tmp/log" 2>&1 ;;
    link) $CC $2 "$tmp/t.c" $3 -o "$tmp/t" >"$tmp/log" 2>&1 ;;
    esac
}

# pc_has NAME: pkg-config knows NAME.
pc_has() { command -v "$PKG_CONFIG" >/dev/null 2>&1 && "$PKG_CONFIG" --exists "$1" 2>/dev/null; }

# with_rpath LIBS: LIBS plus a run path for every -L outside the system's
# own folders (there the loader looks anyway, and Debian's build stays as it was).
with_rpath() {
    out=""
    for w in $1; do
        out="$out $w"
        case $w in
        -L/usr/* | -L/lib*) ;;
        -L/*) out="$out -Wl,-rpath,${w#-L}" ;;
        esac
    done
    printf '%s' "${out# }"
}

# prefix_flags DIR LIB: set cflags and libs for lib LIB installed under
# prefix DIR; 1 (with why set) when DIR has no such library.
prefix_flags() {
    cflags="-I$1/include" libs="" why=""
    [ -d "$1/include" ] || { why="$1/include does not exist"; return 1; }
    for l in "$1/lib" "$1/lib64" "$1"/lib/*-linux-gnu; do
        for f in "$l/lib$2.so" "$l/lib$2.a" "$l/lib$2.dylib"; do
            if [ -e "$f" ]; then
                libs="$libs -L$l"
                break
            fi
        done
    done
    [ -n "$libs" ] || { why="no lib$2.so or lib$2.a in $1/lib or $1/lib64"; return 1; }
    libs="$(with_rpath "$libs") -l$2"
}

# choose VAR PKG... : set from (where the flags came from), cflags and libs
# from $VAR as a prefix, else from the first pkg-config name known; 1 if none.
choose() {
    var=$1
    shift
    eval "dir=\${$var:-}"
    if [ -n "$dir" ]; then
        from="$var=$dir"
        return 0
    fi
    for p in "$@"; do
        if pc_has "$p"; then
            from="pkg-config $p"
            cflags=$("$PKG_CONFIG" --cflags "$p")
            libs=$(with_rpath "$("$PKG_CONFIG" --libs "$p")")
            return 0
        fi
    done
    return 1
}

# emit NAME: print NAME_CFLAGS and NAME_LIBS.
emit() {
    printf '%s_CFLAGS = %s\n%s_LIBS = %s\n' "$1" "$cflags" "$1" "$libs"
}

# --- MPI: the compiler wrapper ---
cc_cmd=${CC%% *}
if ! command -v "$cc_cmd" >/dev/null 2>&1; then
    complain "MPI: the C compiler $CC is not on PATH" \
        "ticketsweep builds with an MPI compiler wrapper: load your MPI (module load openmpi," \
        "module load OpenMPI, spack load openmpi) or name yours, e.g. make CC=mpiicx."
    exit 1
fi
printf '%s\n' '#include <mpi.h>' \
    'int main(int argc, char **argv) { MPI_Init(&argc, &argv); return MPI_Finalize(); }' >"$tmp/t.c"
if ! try link "" ""; then
    complain "MPI: $CC cannot build an MPI program" "$(cc_said)" \
        "CC must be an MPI C compiler wrapper (mpicc of Open MPI, MPICH, ...)."
    exit 1
fi

# --- parallel HDF5 ---
hdf5() {
    if ! choose HDF5_DIR hdf5-openmpi hdf5; then
        complain "parallel HDF5 not found: pkg-config knows neither hdf5-openmpi nor hdf5, and HDF5_DIR is not set" \
            "Load a parallel HDF5 (module load hdf5; EasyBuild: module load HDF5/1.14.0-gompi-2023a;" \
            "Spack: spack load hdf5+mpi) or set HDF5_DIR to its prefix (the folder with include/hdf5.h)."
        return
    fi
    if [ -n "$dir" ] && ! prefix_flags "$dir" hdf5; then
        complain "parallel HDF5: $from: $why" \
            "HDF5_DIR must be an HDF5 installation prefix, e.g. \$(spack location -i hdf5+mpi)."
        return
    fi
    printf '%s\n' '#include <hdf5.h>' 'ts_hdf5_version H5_VERS_MAJOR H5_VERS_MINOR H5_VERS_RELEASE' >"$tmp/t.c"
    # shellcheck disable=SC2086
    if ! $CC $cflags -E "$tmp/t.c" >"$tmp/pp" 2>"$tmp/log"; then
        complain "parallel HDF5 ($from): cannot compile with hdf5.h" "$(cc_said)"
        return
    fi
    version=$(awk '$1 == "ts_hdf5_version" { print $2 "." $3 "." $4 }' "$tmp/pp")
    where=$(sed -n 's/^# *[0-9]* "\([^"]*\)H5pubconf\.h".*/\1/p' "$tmp/pp" | head -n 1)
    printf '%s\n' '#include <hdf5.h>' '#ifndef H5_HAVE_PARALLEL' \
        '#error "ticketsweep: serial HDF5"' '#endif' >"$tmp/t.c"
    if ! try c "$cflags"; then
        complain "HDF5 $version from $from is a serial build: H5_HAVE_PARALLEL is not defined in ${where}H5pubconf.h" \
            "ticketsweep writes one results file from every rank and needs HDF5 built with MPI" \
            "(--enable-parallel): Spack hdf5+mpi, an EasyBuild HDF5 of an MPI toolchain (foss, gompi)," \
            "Debian libhdf5-openmpi-dev. Load one, or set HDF5_DIR to its prefix."
        return
    fi
    printf '%s\n' '#include <hdf5.h>' \
        'int main(void) { return H5Pset_fapl_mpio(H5P_DEFAULT, MPI_COMM_WORLD, MPI_INFO_NULL) < 0; }' >"$tmp/t.c"
    if ! try link "$cflags" "$libs"; then
        complain "parallel HDF5 ($from): cannot link with $libs" "$(cc_said)"
        return
    fi
    echo "deps: parallel HDF5 $version: $from" >&2
    emit HDF5
}

# --- OpenBLAS ---
openblas() {
    if ! choose OPENBLAS_DIR openblas; then
        complain "OpenBLAS not found: pkg-config does not know openblas, and OPENBLAS_DIR is not set" \
            "Load it (module load openblas; EasyBuild: module load OpenBLAS/0.3.23-GCC-12.3.0;" \
            "Spack: spack load openblas) or set OPENBLAS_DIR to its prefix (the folder with include/cblas.h)."
        return
    fi
    if [ -n "$dir" ]; then
        if ! prefix_flags "$dir" openblas; then
            complain "OpenBLAS: $from: $why"
            return
        fi
        # some installs keep the headers one folder down
        [ -e "$dir/include/openblas/cblas.h" ] && cflags="$cflags -I$dir/include/openblas"
    fi
    printf '%s\n' '#include <cblas.h>' 'int main(void) {' \
        '    float a = 1, b = 1, c = 0;' \
        '    openblas_set_num_threads(1);' \
        '    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1, &a, 1, &b, 1, 0, &c, 1);' \
        '    return openblas_get_config() == 0;' '}' >"$tmp/t.c"
    if ! try link "$cflags" "$libs"; then
        complain "OpenBLAS ($from): cannot build a program that calls cblas_sgemm and openblas_set_num_threads" \
            "$(cc_said)"
        return
    fi
    echo "deps: OpenBLAS: $from" >&2
    emit OPENBLAS
}

# --- libinih ---
inih() {
    if ! choose INIH_DIR inih; then
        complain "libinih not found: pkg-config does not know inih, and INIH_DIR is not set" \
            "Load it if your cluster has it (or spack install libinih), or build upstream's" \
            "(docs/cluster.md, \"Building on a cluster\"), then set INIH_DIR to its prefix."
        return
    fi
    if [ -n "$dir" ] && ! prefix_flags "$dir" inih; then
        complain "libinih: $from: $why"
        return
    fi
    printf '%s\n' '#include <ini.h>' 'int main(void) { return ini_parse_string("", 0, 0); }' >"$tmp/t.c"
    if ! try link "$cflags" "$libs"; then
        complain "libinih ($from): cannot build a program that calls ini_parse_string" "$(cc_said)"
        return
    fi
    echo "deps: libinih: $from" >&2
    emit INIH
}

# --- zlib ---
zlib() {
    if ! choose ZLIB_DIR zlib; then
        from="the compiler's search path" cflags="" libs="-lz"
    elif [ -n "$dir" ] && ! prefix_flags "$dir" z; then
        complain "zlib: $from: $why"
        return
    fi
    printf '%s\n' '#include <zlib.h>' 'int main(void) { return zlibVersion() == 0; }' >"$tmp/t.c"
    if ! try link "$cflags" "$libs"; then
        complain "zlib ($from): cannot build a program that calls zlibVersion" "$(cc_said)" \
            "Load it (module load zlib, spack load zlib) or set ZLIB_DIR to its prefix."
        return
    fi
    echo "deps: zlib: $from" >&2
    emit ZLIB
}

# --- oneDNN (optional) ---
dnnl() {
    if [ "${DNNL_DIR:-}" = no ]; then
        echo "deps: oneDNN: not used (DNNL_DIR=no): convolutions on im2col + sgemm" >&2
        cflags="" libs=""
        emit DNNL
        return
    fi
    if [ -n "${DNNL_DIR:-}" ]; then
        from="DNNL_DIR=$DNNL_DIR"
        if ! prefix_flags "$DNNL_DIR" dnnl; then
            complain "oneDNN: $from: $why"
            return
        fi
    else
        from="the compiler's search path" cflags="" libs="-ldnnl"
    fi
    # the runtime must be one ticketsweep can pin to one thread (src/dnn.c
    # calls omp_set_num_threads: OpenMP's library named too, where the
    # linker wants it named)
    printf '%s\n' '#include <oneapi/dnnl/dnnl.h>' \
        '#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP' '#include <omp.h>' \
        '#define PIN() omp_set_num_threads(1)' '#elif DNNL_CPU_RUNTIME == DNNL_RUNTIME_SEQ' \
        '#define PIN() (void)0' '#else' \
        '#error "oneDNN built with neither the OpenMP nor the sequential CPU runtime"' '#endif' \
        'int main(void) { dnnl_engine_t e; PIN();' \
        '    return dnnl_engine_create(&e, dnnl_cpu, 0) != dnnl_success || dnnl_version()->major < 2; }' \
        >"$tmp/t.c"
    if ! try link "$cflags" "$libs" && try link "$cflags" "$libs -lgomp"; then
        libs="$libs -lgomp"
    fi
    if ! try link "$cflags" "$libs"; then
        if [ -n "${DNNL_DIR:-}" ]; then
            complain "oneDNN ($from): cannot build a program that creates an engine" "$(cc_said)"
            return
        fi
        echo "deps: oneDNN: not found (optional; Debian: libdnnl-dev): convolutions on im2col + sgemm" >&2
        cflags="" libs=""
        emit DNNL
        return
    fi
    echo "deps: oneDNN: $from ($libs)" >&2
    cflags="$cflags -DTS_HAVE_DNNL"
    emit DNNL
}

hdf5
openblas
inih
zlib
dnnl
exit $failed
