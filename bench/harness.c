/*
 * harness.c — calibrate, repeat, print (see harness.h for the protocol).
 * The measurement runs inside the benchmark runtime's main task, so the
 * figures include nothing but the operations themselves.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tangle.h"

#define BENCH_MAX_REPS 101

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_env(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	if (s == NULL || *s == '\0')
		return def;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0') {
		fprintf(stderr, "bench: %s=%s is not a number, using %llu\n",
		        name, s, (unsigned long long)def);
		return def;
	}
	return v;
}

_Noreturn void bench_fail(const char *file, int line, const char *call,
                          int err)
{
	if (err != 0)
		fprintf(stderr, "bench: %s:%d: %s: %s\n", file, line, call,
		        tangle_strerror(err));
	else
		fprintf(stderr, "bench: %s:%d: %s: %s\n", file, line, call,
		        strerror(errno));
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Grow n until a run takes >= 20 ms, then scale it to the target time. */
static uint64_t calibrate(bench_fn fn, double target_ns)
{
	uint64_t n = 16;
	for (;;) {
		double t = (double)fn(n);
		if (t >= 20e6 || n >= (1ull << 36)) {
			double scaled = (double)n * target_ns / (t > 1 ? t : 1);
			return scaled < 16 ? 16 : (uint64_t)scaled;
		}
		n *= t < 2e6 ? 10 : 2;
	}
}

static void *measure(void *arg)
{
	const bench *b = arg;
	double target_ns = (double)bench_env("BENCH_TARGET_MS", 300) * 1e6;
	uint64_t reps = bench_env("BENCH_REPS", 5);
	if (reps < 1)
		reps = 1;
	if (reps > BENCH_MAX_REPS)
		reps = BENCH_MAX_REPS;

	uint64_t fixed = bench_env("BENCH_ITERS", 0);
	uint64_t n = fixed ? fixed : calibrate(b->fn, target_ns);
	double per_op[BENCH_MAX_REPS];
	for (uint64_t i = 0, rescales = 0; i < reps; i++) {
		double t = (double)b->fn(n);
		per_op[i] = t / (double)n;
		/* A run far from the target means the calibration saw
		 * another mode than the runs do (multi-worker benchmarks
		 * spread over the workers only in long runs): scale n and
		 * start the repetitions again, a few times at most. */
		if (!fixed && (t < target_ns / 4 || t > target_ns * 4) &&
		    rescales < 3) {
			/* Up by 4x at most: the other mode may be far slower. */
			double f = target_ns / (t > 1 ? t : 1);
			n = (uint64_t)((double)n * (f > 4 ? 4 : f));
			if (n < 16)
				n = 16;
			rescales++;
			i = (uint64_t)-1;
		}
	}
	qsort(per_op, reps, sizeof per_op[0], cmp_double);
	double median = reps % 2 ? per_op[reps / 2]
	                         : (per_op[reps / 2 - 1] + per_op[reps / 2]) / 2;
	printf("bench %s median_ns=%.1f min_ns=%.1f reps=%llu iters=%llu\n",
	       b->name, median, per_op[0], (unsigned long long)reps,
	       (unsigned long long)n);
	fflush(stdout);
	return NULL;
}

/* fn(b, arg) in the main task of a fresh runtime for b. */
static int in_runtime(const bench *b, tangle_fn fn, void *arg)
{
	tangle_config cfg;
	memset(&cfg, 0, sizeof cfg);
	if (b->multi_thread)
		cfg.workers = (unsigned)bench_env("BENCH_WORKERS", 2);
	else
		cfg.current_thread = 1;
	cfg.name = b->name;
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	if (rt == NULL) {
		fprintf(stderr, "bench: %s: tangle_runtime_new: %s\n", b->name,
		        strerror(errno));
		return -1;
	}
	int err = tangle_runtime_run(rt, fn, arg);
	tangle_runtime_free(rt);
	if (err != 0) {
		fprintf(stderr, "bench: %s: tangle_runtime_run: %s\n", b->name,
		        tangle_strerror(err));
		return -1;
	}
	return 0;
}

int bench_run(const bench *b)
{
	return in_runtime(b, measure, (void *)b);
}

struct slice {
	const bench *b;
	uint64_t n, target_ms;
	double ns;
};

static void *calibrate_main(void *arg)
{
	struct slice *s = arg;
	s->n = calibrate(s->b->fn, (double)s->target_ms * 1e6);
	return NULL;
}

uint64_t bench_calibrate(const bench *b, uint64_t target_ms)
{
	struct slice s = {b, 0, target_ms, 0};
	return in_runtime(b, calibrate_main, &s) == 0 ? s.n : 0;
}

static void *slice_main(void *arg)
{
	struct slice *s = arg;
	s->ns = (double)s->b->fn(s->n) / (double)s->n;
	return NULL;
}

double bench_slice(const bench *b, uint64_t n)
{
	struct slice s = {b, n ? n : 1, 0, -1};
	return in_runtime(b, slice_main, &s) == 0 ? s.ns : -1;
}
