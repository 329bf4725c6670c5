#!/bin/sh
# Install the Debian packages ticketsweep needs to build, run and test.
# As root: runs apt-get update, then apt-get install, only when something is
# missing. Otherwise prints the exact command to run and fails.
# Extra package sets: DEPS_EXTRA="octave slurm-wlm ..." tools/deps.sh
# clang and libclang-rt-dev (its libFuzzer and sanitizer runtimes) build the
# fuzz harnesses that make test runs briefly.
set -eu

PKGS="make gcc pkg-config openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools \
libopenblas-dev zlib1g-dev libinih-dev dataset-fashion-mnist \
python3-h5py python3-numpy python3-matplotlib octave clang libclang-rt-dev ${DEPS_EXTRA:-}"

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
