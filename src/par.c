/* par.c - see par.h. */
#include <sched.h>
#include <stdlib.h>

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "par.h"

static int threads = 1;
static double min_work = 1 << 18; /* about 50 microseconds of a core's multiply-adds */

void par_init(void)
{
    openblas_set_num_threads(1);
#ifdef _OPENMP
    omp_set_num_threads(1);
    omp_set_dynamic(0); /* a region gets the threads it asks for */
#endif
    threads = 1;
    const char *w = getenv("TICKETSWEEP_THREAD_MIN_WORK");
    if (w && atof(w) >= 0)
        min_work = atof(w);
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

double par_min_work(void)
{
    return min_work;
}

void par_set_min_work(double w)
{
    min_work = w >= 0 ? w : 0;
}
