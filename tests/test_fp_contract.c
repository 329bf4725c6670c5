/*
 * test_fp_contract: the build keeps a multiply and an add apart. The
 * kernels whose bits are promised (the clones of sparse.c, the Adam pass of
 * optim.c) round every product before adding it; a compiler allowed to
 * contract (-ffp-contract=fast, or clang's default "on") fuses them into one
 * FMA where the target has it, and the bits change. mul_add below may use
 * FMA instructions (target "fma"), so it fuses exactly when the build lets
 * the compiler contract: the Makefile appends -ffp-contract=off after the
 * user's CFLAGS (NUM_CFLAGS). tests/test_fp_contract.sh builds this test
 * again with CFLAGS=-ffp-contract=fast. Skips where the CPU has no FMA.
 */
#include <stdio.h>

#include "check.h"

__attribute__((target("fma"), noinline)) static float mul_add(float a, float b, float c)
{
    return a * b + c;
}

int main(int argc, char **argv)
{
    (void)argc;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("fma")) {
        printf("skip: this CPU has no FMA, so no build could fuse here\n");
        return 77;
    }
    /* (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24: rounded to float, the 2^-24 (half an
     * ulp, a tie to even) is lost and the sum is 0; fused, it stays */
    volatile float a = 1 + 0x1p-12f, c = -(1 + 0x1p-11f);
    float r = mul_add(a, a, c);
    CHECK(r == 0, "a * b + c gave %a, not 0: the multiply and the add were fused (contraction on)", (double)r);
    return check_summary(argv[0]);
}
