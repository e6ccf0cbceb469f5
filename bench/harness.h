/*
 * harness.h — the benchmark harness shared by the bench/ programs.
 *
 * A benchmark is a function that runs inside a task, does n operations and
 * returns how long they took (ns, CLOCK_MONOTONIC). The harness creates a
 * fresh runtime per benchmark (current-thread or BENCH_WORKERS workers),
 * runs the whole measurement in its main task: calibration runs that grow n
 * until one run takes >= 20 ms (they are the warm-up), n scaled to
 * BENCH_TARGET_MS (default 300) per run, then BENCH_REPS (default 5) runs.
 * BENCH_ITERS=n skips the calibration and runs n operations per run (for
 * instruction counts under valgrind, see bench/instr.py).
 * It prints one line per benchmark, the same line as bench/peers/tokio:
 *
 *     bench <name> median_ns=<x> min_ns=<y> reps=<r> iters=<n>
 *
 * Any unexpected error from the runtime ends the program with a message:
 * a benchmark that does not do what it says must not print a figure.
 */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

#include <stdint.h>

typedef uint64_t (*bench_fn)(uint64_t n);

typedef struct bench {
	const char *name;
	int multi_thread;  /* 0: current-thread runtime; 1: BENCH_WORKERS */
	bench_fn fn;
} bench;

/* CLOCK_MONOTONIC in ns. */
uint64_t bench_now_ns(void);
/* An environment variable as an unsigned number, or def. */
uint64_t bench_env(const char *name, uint64_t def);
/* Report a failed runtime call and exit(1). */
_Noreturn void bench_fail(const char *file, int line, const char *call,
                          int err);

/* Evaluate a call returning a TANGLE_* code; exit on anything but OK. */
#define BENCH_CHECK(call)                                                    \
	do {                                                                 \
		int bench_err_ = (call);                                     \
		if (bench_err_ != 0)                                         \
			bench_fail(__FILE__, __LINE__, #call, bench_err_);   \
	} while (0)
/* The same for a call returning a pointer (NULL + errno on failure). */
#define BENCH_CHECK_PTR(call)                                                \
	__extension__({                                                      \
		__typeof__(call) bench_p_ = (call);                          \
		if (bench_p_ == NULL)                                        \
			bench_fail(__FILE__, __LINE__, #call, 0);            \
		bench_p_;                                                    \
	})

/* Keep v alive as far as the optimizer is concerned. */
#define BENCH_KEEP(v) __asm__ volatile("" : : "r"(v) : "memory")

/* Measure b and print its line; returns 0, or -1 if the runtime failed. */
int bench_run(const bench *b);

/* For bench/ab.c, which alternates two builds in one process: n for one
 * run of about target_ms (0 if the runtime failed), and the ns per
 * operation of one run of n in a fresh runtime (< 0 if it failed). */
uint64_t bench_calibrate(const bench *b, uint64_t target_ms);
double bench_slice(const bench *b, uint64_t n);

/* The benchmarks, by file. */
extern const bench bench_tasks[];    /* bench_tasks.c, ends with {0} */
extern const bench bench_sync[];     /* bench_sync.c, ends with {0} */
extern const bench bench_switch[];   /* bench_switch.c (not sanitized) */

#endif /* BENCH_HARNESS_H */
