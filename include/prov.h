/*
 * prov.h - the provenance of a training's numerics: on what it ran and which
 * kernels did the arithmetic. Two trainings with the same inputs give the
 * same bits when these agree; across CPU generations OpenBLAS picks other
 * kernels (its DYNAMIC_ARCH detection at load time), whose sums may round
 * differently, so a results file records them per training (/nodes/cpu, ...)
 * and `status` and `merge` say when a file mixes them.
 *
 *   cpu                the CPU model (/proc/cpuinfo "model name")
 *   simd               the vector path the trainer chose at run time (the Adam
 *                      kernel: the same bits on every path) and the compile target
 *   blas_core          the core type OpenBLAS chose (openblas_get_corename)
 *   openblas_coretype  OPENBLAS_CORETYPE as set when the run started ("" unset)
 *   openblas_l2_size   OPENBLAS_L2_SIZE, likewise
 *   conv               what ran the convolutions (net_conv_kernels: "none",
 *                      "im2col+sgemm", or oneDNN's version, ISA and rule);
 *                      "" until prov_conv sets it
 *
 * No MPI, no files but /proc/cpuinfo.
 */
#ifndef TS_PROV_H
#define TS_PROV_H

#include <stddef.h>
#include <stdint.h>

#include "blas.h"

#define PROV_LEN 96 /* bytes of each field, with its NUL (longer values are cut) */

enum { PROV_CPU, PROV_SIMD, PROV_BLAS_CORE, PROV_CORETYPE, PROV_L2_SIZE, PROV_CONV, PROV_FIELDS };

typedef struct {
    char field[PROV_FIELDS][PROV_LEN];
} prov_t;

/* The fields' names, as the results file's datasets under /nodes. */
extern const char *const prov_names[PROV_FIELDS];

/* The provenance of this process (conv left "": it depends on the model and
 * the job, see prov_conv). */
void prov_here(prov_t *p);
/* Set the conv field: what runs the convolutions of a training (a string
 * from net_conv_kernels). */
void prov_conv(prov_t *p, const char *kernels);

/*
 * Describe, in one line into out (len bytes, NUL-terminated), how the rows
 * [n] with done[i] nonzero differ: for each field that takes more than one
 * value, its values and how many rows have each ("" shows as "unset" for the
 * environment, "not recorded" otherwise). Returns the number of distinct
 * setups (whole rows) among them: 0 when no row is done, 1 when they agree
 * (out is then ""), or TS_ERUN when out of memory.
 */
int prov_mix(const prov_t *rows, const int8_t *done, int n, char *out, size_t len);

/*
 * What to tell the user of the rows [n] with done[i] nonzero that ran
 * OpenBLAS's generic kernels (blas_core_generic): one line per setup (CPU
 * model, core, OPENBLAS_CORETYPE) among them, each "PREFIX: N trainings ran
 * ..." and ending in '\n', into out (len bytes, NUL-terminated, cut to fit).
 * A setup on this machine's CPU model (here_cpu, prov_here's) is judged with
 * this CPU's instruction sets (isa, blas_cpu_isa): the line is
 * blas_core_advice's, or none when the CPU has neither AVX2 nor AVX-512. A
 * setup on another CPU model is judged by nobody: a file does not record
 * the instruction sets, so its line says how to find out. Returns the number
 * of lines, or TS_ERUN when out of memory.
 */
int prov_blas_advice(const prov_t *rows, const int8_t *done, int n, const char *here_cpu, blas_isa_t isa,
                     const char *prefix, char *out, size_t len);

#endif
