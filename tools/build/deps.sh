#!/bin/sh
# Install the Debian packages ticketsweep needs to build, run and test.
# As root: runs apt-get update, then apt-get install, only when something is
# missing. Otherwise prints the exact command to run and fails.
# Extra package sets: DEPS_EXTRA="octave slurm-wlm ..." tools/build/deps.sh
# clang and libclang-rt-dev (its libFuzzer and sanitizer runtimes) build the
# fuzz harnesses that make test runs briefly. The Python package's tests use
# python3-venv, pip and setuptools (installing offline into a venv), xarray,
# nbconvert with ipykernel (the notebook), chromium (the HTML report) and
# man-db (man, which renders the man page).
#
# Elsewhere (no dpkg: a cluster with modules, Spack, EasyBuild) it installs
# nothing: it prints what the build needs, checks with tools/build/find-deps.sh that
# the build finds it (pkg-config or HDF5_DIR, OPENBLAS_DIR, INIH_DIR,
# ZLIB_DIR), exits 0 if so and 1, after find-deps' messages, if not.
set -eu

# not_debian: the check above, for machines without dpkg.
not_debian() {
    cat >&2 <<'EOF'
deps: no dpkg here, so nothing is installed. ticketsweep builds with
  - an MPI and its C compiler wrapper mpicc (module load openmpi, or OpenMPI on EasyBuild)
  - parallel HDF5 built with that MPI (module load hdf5; EasyBuild HDF5 of a gompi/foss
    toolchain; Spack hdf5+mpi): pkg-config hdf5-openmpi or hdf5, or HDF5_DIR
  - OpenBLAS (module load openblas / OpenBLAS): pkg-config openblas, or OPENBLAS_DIR
  - libinih (any build of it, upstream's as it comes): pkg-config inih, or INIH_DIR
  - zlib (usually there): pkg-config zlib, ZLIB_DIR, or the compiler's own path
  - optionally oneDNN (libdnnl, 2.x): the compiler's own path or DNNL_DIR; without it
    the convolutions run on im2col + sgemm
  - make; see docs/cluster.md, "Building on a cluster"
EOF
    missing=""
    for c in mpirun h5dump h5diff python3 octave clang; do
        command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
    done
    [ -z "$missing" ] ||
        echo "deps: make test also uses$missing (not found: the tests that need them fail or skip)" >&2
    [ -z "${DEPS_EXTRA:-}" ] ||
        echo "deps: this target also uses (Debian package names): $DEPS_EXTRA" >&2
    if ! CC=${CC:-mpicc} "$(dirname "$0")/find-deps.sh" >/dev/null; then
        echo "ticketsweep: the build cannot find what it needs (above); load the modules or set the *_DIR variables" >&2
        exit 1
    fi
    echo "deps: the build finds everything it needs" >&2
    exit 0
}
command -v dpkg-query >/dev/null 2>&1 || not_debian

PKGS="make gcc pkg-config openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools \
libopenblas-dev zlib1g-dev libinih-dev libdnnl-dev dataset-fashion-mnist \
python3-h5py python3-numpy python3-matplotlib python3-pandas python3-xarray \
python3-venv python3-pip python3-setuptools python3-wheel python3-nbconvert python3-nbclient \
python3-ipykernel jupyter-nbconvert chromium man-db \
octave clang libclang-rt-dev ${DEPS_EXTRA:-}"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "ticketsweep: missing Debian packages; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
