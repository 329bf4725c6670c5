/* par.c - see par.h. */
#include <sched.h>

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "par.h"

static int threads = 1;

void par_init(void)
{
    openblas_set_num_threads(1);
#ifdef _OPENMP
    omp_set_num_threads(1);
    omp_set_dynamic(0); /* a region gets the threads it asks for */
#endif
    threads = 1;
}

int par_affinity_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set))
        return 1;
    int n = CPU_COUNT(&set);
    return n > 0 ? n : 1;
}

void par_set_threads(int t)
{
#ifdef _OPENMP
    threads = t < 1 ? 1 : t > PAR_MAX_THREADS ? PAR_MAX_THREADS : t;
#else
    threads = 1; /* built without OpenMP: every region runs on the caller */
#endif
}

int par_threads(void)
{
    return threads;
}
