/*
 * par.h - the one place that owns a process's threads.
 *
 * A training runs on T threads (ticketsweep run --threads T): the regions
 * that split its work (par_for and the callers' own `omp parallel
 * num_threads(par_threads())`) are the only parallel code. Every library
 * sees one thread: OpenBLAS is pinned to one (its products run inside our
 * regions, on the caller's thread), and OpenMP's default team size stays 1,
 * so oneDNN, which sizes its blocking by omp_get_max_threads() when a
 * primitive is made, makes the same primitives (and bits) whatever T is, and
 * runs them on the calling thread.
 *
 * The bits of a result never depend on T: work is split into pieces fixed by
 * the shapes (never by T), every piece is computed the same way whichever
 * thread takes it, and pieces that add into one sum are added in piece order
 * (see net.h, "Threads").
 */
#ifndef TS_PAR_H
#define TS_PAR_H

#define PAR_MAX_THREADS 1024

/* The calling thread's number in its region (0 outside one). */
#ifdef _OPENMP
#include <omp.h>
#define PAR_THREAD_NUM() omp_get_thread_num()
#else
#define PAR_THREAD_NUM() 0
#endif

/* Pin the libraries to one thread each (OpenBLAS, OpenMP's default team);
 * before any product or primitive. Threads start at 1. */
void par_init(void);
/* The cores of this process's CPU affinity mask (sched_getaffinity), >= 1. */
int par_affinity_cores(void);
/* Run the training regions on t threads (1 <= t <= PAR_MAX_THREADS). */
void par_set_threads(int t);
/* The threads a region uses now. */
int par_threads(void);
/* The least work (multiply-adds, or elements of an element-wise pass) worth
 * a thread of its own: a region's start and its barrier cost microseconds,
 * so smaller products (a tiny net, an output layer) stay on one thread.
 * Scheduling only: the pieces of work, hence the bits, do not change. The
 * environment's TICKETSWEEP_THREAD_MIN_WORK sets it at par_init (the tests
 * set 1, so that small nets split as wide ones do). */
double par_min_work(void);
void par_set_min_work(double w);

#endif
