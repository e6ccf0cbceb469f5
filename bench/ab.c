/*
 * ab.c — the debug table's cost, measured in one process (tangle-bench-ab).
 *
 * tangle-bench and tangle-bench-nodebug are two programs run one after the
 * other; on a machine whose speed drifts from one run to the next (a VM on
 * a busy host) the drift is as large as the cost to be measured. Here both
 * builds of the runtime are linked into one program (the table-less copy's
 * symbols renamed by rename_lib.sh, its benchmarks compiled a second time
 * against it) and their runs alternate, ON OFF then OFF ON, a fresh
 * runtime and ~slice ms each: the two runs of a pair see the same machine,
 * and the median of the pairs' ratios is the cost.
 *
 * Usage: tangle-bench-ab [--rounds N] [--slice-ms M] [--no-pin] [name...]
 * One line per benchmark:
 *   ab NAME on_ns=X off_ns=Y cost_pct=C q1_pct=A q3_pct=B min_cost_pct=M
 *      rounds=N iters=I
 * on_ns, off_ns: medians of each build's runs; cost_pct: median over the
 * pairs of on/off - 1, with its quartiles; min_cost_pct: from each build's
 * fastest run. One-thread benchmarks run pinned to the last CPU.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* The same benchmarks against the table-less runtime (CMakeLists.txt). */
extern const bench off_bench_tasks[], off_bench_sync[];
uint64_t off_bench_calibrate(const bench *b, uint64_t target_ms);
double off_bench_slice(const bench *b, uint64_t n);

#define MAX_ROUNDS 1000

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The q-quantile of v[0..n) (sorts v). */
static double quantile(double *v, int n, double q)
{
	qsort(v, (size_t)n, sizeof v[0], cmp_double);
	double pos = q * (n - 1);
	int i = (int)pos;
	return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[i];
}

static void pin(int one_cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1)
		ncpu = 1;
	for (long c = one_cpu ? ncpu - 1 : 0; c < ncpu && c < CPU_SETSIZE; c++)
		CPU_SET((int)c, &set);
	sched_setaffinity(0, sizeof set, &set); /* best effort */
}

static const bench *find(const bench *const *groups, size_t ngroups,
                         const char *name)
{
	for (size_t g = 0; g < ngroups; g++)
		for (const bench *b = groups[g]; b->name; b++)
			if (!strcmp(b->name, name))
				return b;
	return NULL;
}

static int run(const bench *on, const bench *off, int rounds,
               uint64_t slice_ms, int do_pin)
{
	pin(do_pin && !on->multi_thread);
	uint64_t n = bench_calibrate(on, slice_ms);
	if (!n || off_bench_slice(off, n) < 0 || bench_slice(on, n) < 0)
		return -1; /* (the two slices: warm-up) */
	static double ons[MAX_ROUNDS], offs[MAX_ROUNDS], ratio[MAX_ROUNDS];
	for (int r = 0; r < rounds; r++) {
		double a, b;
		if (r % 2) {
			b = off_bench_slice(off, n);
			a = bench_slice(on, n);
		} else {
			a = bench_slice(on, n);
			b = off_bench_slice(off, n);
		}
		if (a <= 0 || b <= 0)
			return -1;
		ons[r] = a;
		offs[r] = b;
		ratio[r] = a / b;
	}
	double q1 = quantile(ratio, rounds, 0.25), med = quantile(ratio, rounds, 0.5),
	       q3 = quantile(ratio, rounds, 0.75);
	double on_med = quantile(ons, rounds, 0.5), off_med = quantile(offs, rounds, 0.5);
	printf("ab %s on_ns=%.1f off_ns=%.1f cost_pct=%+.1f q1_pct=%+.1f q3_pct=%+.1f "
	       "min_cost_pct=%+.1f rounds=%d iters=%llu\n",
	       on->name, on_med, off_med, (med - 1) * 100, (q1 - 1) * 100,
	       (q3 - 1) * 100, (ons[0] / offs[0] - 1) * 100, rounds,
	       (unsigned long long)n);
	fflush(stdout);
	return 0;
}

static int wanted(const char *name, int nf, char **filters)
{
	if (!nf)
		return 1;
	for (int i = 0; i < nf; i++)
		if (strstr(name, filters[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = 20, do_pin = 1, nf = 0;
	uint64_t slice_ms = 50;
	char **filters = calloc((size_t)argc, sizeof *filters);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--slice-ms") && i + 1 < argc)
			slice_ms = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--no-pin"))
			do_pin = 0;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: tangle-bench-ab [--rounds N] "
			        "[--slice-ms M] [--no-pin] [name...]\n");
			return 2;
		} else
			filters[nf++] = argv[i];
	}
	if (rounds < 2 || rounds > MAX_ROUNDS || slice_ms < 1) {
		fprintf(stderr, "tangle-bench-ab: --rounds 2..%d, --slice-ms >= 1\n",
		        MAX_ROUNDS);
		return 2;
	}
	const bench *const on_groups[] = {bench_tasks, bench_sync};
	const bench *const off_groups[] = {off_bench_tasks, off_bench_sync};
	printf("# the debug table's cost: %d alternating pairs of ~%llu ms runs\n",
	       rounds, (unsigned long long)slice_ms);
	int failed = 0;
	for (size_t g = 0; g < 2; g++)
		for (const bench *b = on_groups[g]; b->name; b++) {
			if (!wanted(b->name, nf, filters))
				continue;
			const bench *off = find(off_groups, 2, b->name);
			if (!off || run(b, off, rounds, slice_ms, do_pin) != 0) {
				fprintf(stderr, "tangle-bench-ab: %s failed\n", b->name);
				failed = 1;
			}
		}
	free(filters);
	return failed;
}
