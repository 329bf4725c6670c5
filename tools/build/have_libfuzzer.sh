#!/bin/sh
# Exit 0 when clang can build a libFuzzer harness with the sanitizers the
# harnesses use (make fuzz-bin); otherwise print why, on one line, and exit 1.
# make test builds the harnesses only then, and tests/test_fuzz_smoke.sh skips
# with this line. tools/build/deps.sh installs clang and its runtime (libclang-rt-dev).
command -v clang >/dev/null 2>&1 || { echo "clang is not installed (Debian: clang)"; exit 1; }
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
    >"$dir/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined "$dir/probe.c" -o "$dir/probe" 2>"$dir/err"; then
    echo "clang cannot link -fsanitize=fuzzer: its runtime is missing (Debian: libclang-rt-dev): $(head -n 1 "$dir/err")"
    exit 1
fi
