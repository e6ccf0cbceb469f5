/*
 * inspect_synthetic.c — how fast the engine opens and triages a big
 * program: a synthetic debug table of N tasks (default 100,000) in memory,
 * shaped like a busy server (idle connections, idle receivers, sleepers,
 * lock traffic, runnable tasks, one deadlock), read through the buffer
 * reader. Prints the time of each step; `inspect-synthetic N` for others.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tb.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void build(tb *b, int n)
{
	uint64_t io = tb_site(b, "/srv/server.c", "handle_conn", 60);
	uint64_t rx = tb_site(b, "/srv/server.c", "worker", 80);
	uint64_t sl = tb_site(b, "/srv/server.c", "ticker", 90);
	uint64_t lk = tb_site(b, "/srv/cache.c", "lookup", 30);
	uint64_t spawn = tb_site(b, "/srv/main.c", "main_task", 20);
	uint64_t chans[64], locks[256];
	char name[32];
	for (int i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "queue-%d", i);
		chans[i] = tb_chan(b, name, 128, 0);
	}
	for (int i = 0; i < 256; i++) {
		snprintf(name, sizeof(name), "shard-%d", i);
		locks[i] = tb_mutex(b, name);
	}
	uint64_t id = 1;
	for (int i = 0; i < n; i++, id++) {
		int kind = i % 20;
		snprintf(name, sizeof(name), "task-%d", i);
		uint64_t t = tb_task(b, id, name, TANGLE_DEBUG_TASK_WAITING);
		tb_set(b, TANGLE_DR_TASK, t, TANGLE_DF_TASK_SPAWN_SITE, spawn);
		tb_set(b, TANGLE_DR_TASK, t, TANGLE_DF_TASK_PARENT_ID, 1);
		if (kind < 12) { /* idle connection */
			uint64_t w = tb_wait(b, t, TANGLE_DEBUG_WAIT_IO, TANGLE_DEBUG_OP_IO_READ, 0,
			                     TB_S(50), io, 0);
			tb_set(b, TANGLE_DR_WAITER, w, TANGLE_DF_WAITER_COUNT, 100 + (uint64_t)i);
		} else if (kind < 16) { /* idle receiver */
			tb_wait(b, t, TANGLE_DEBUG_WAIT_CHAN, TANGLE_DEBUG_OP_RECV, chans[i % 64],
			        TB_S(60), rx, 2);
		} else if (kind < 18) { /* sleeper */
			uint64_t w = tb_wait(b, t, TANGLE_DEBUG_WAIT_SLEEP, TANGLE_DEBUG_OP_SLEEP, 0,
			                     TB_S(99), sl, 0);
			tb_set(b, TANGLE_DR_WAITER, w, TANGLE_DF_WAITER_DEADLINE, TB_S(101));
		} else if (kind == 18) { /* short lock wait */
			uint64_t m = locks[i % 256];
			tb_wait(b, t, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, m,
			        TB_S(100) - TB_MS(1), lk, 1);
		} else { /* runnable */
			tb_set(b, TANGLE_DR_TASK, t, TANGLE_DF_TASK_STATE, TANGLE_DEBUG_TASK_RUNNABLE);
			tb_set(b, TANGLE_DR_TASK, t, TANGLE_DF_TASK_WORKER, (uint64_t)(i % 2));
		}
	}
	/* holders of the shard locks, and one ABBA deadlock */
	for (int i = 0; i < 256; i++) {
		snprintf(name, sizeof(name), "holder-%d", i);
		uint64_t t = tb_task(b, id++, name, TANGLE_DEBUG_TASK_RUNNABLE);
		tb_hold(b, t, locks[i], TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, TB_S(100) - TB_MS(2), lk);
	}
	uint64_t a = tb_mutex(b, "accounts"), l = tb_mutex(b, "ledger");
	uint64_t ta = tb_task(b, id++, "transfer-a", TANGLE_DEBUG_TASK_WAITING);
	uint64_t tb2 = tb_task(b, id++, "transfer-b", TANGLE_DEBUG_TASK_WAITING);
	uint64_t site = tb_site(b, "/srv/bank.c", "transfer", 88);
	tb_hold(b, ta, a, TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, TB_S(90), site);
	tb_hold(b, tb2, l, TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, TB_S(90), site);
	tb_wait(b, ta, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, l, TB_S(91), site, 1);
	tb_wait(b, tb2, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, a, TB_S(91), site, 1);
}

static double run(tangle_session *s, const char *line)
{
	FILE *null = fopen("/dev/null", "w");
	char buf[128], *argv[8];
	int argc = 0;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	double t0 = now_ms();
	tangle_error *err = NULL;
	int st = tangle_session_command(s, argc, argv, null, &err);
	double dt = now_ms() - t0;
	fclose(null);
	if (st == 2) {
		fprintf(stderr, "%s: %s\n", line, err->message);
		exit(1);
	}
	return dt;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100000;
	if (n < 1)
		n = 1;
	tb *b = tb_new(&(tb_opts){.seed = 17, .slab_capacity = 1024,
	                          .size = (size_t)n * 1200 + (64u << 20)});
	double t0 = now_ms();
	build(b, n);
	tangle_reader r;
	tb_reader(b, &r);
	double built = now_ms() - t0;

	t0 = now_ms();
	tangle_session_options o = {.now_kind = TANGLE_NOW_MONO, .now = TB_S(100)};
	tangle_session *s = NULL;
	tangle_error *err = tangle_session_open(tb_reader_ptr(b), NULL, &o, &s);
	if (err) {
		fprintf(stderr, "open: %s\n", err->message);
		return 1;
	}
	double open = now_ms() - t0;
	if (argc > 2 && strcmp(argv[2], "open") == 0) { /* for profiling */
		printf("open %.1f ms\n", open);
		tangle_session_free(s);
		tb_free(b);
		return 0;
	}
	double triage = run(s, "triage");
	double again = run(s, "triage");
	double json = run(s, "triage --json");
	double tasks = run(s, "tasks");
	double group = run(s, "tasks --group");
	double tjson = run(s, "tasks --json");
	printf("inspect-synthetic: %d tasks (%zu in session), table built in %.0f ms\n", n + 258,
	       tangle_session_task_count(s), built);
	printf("  open (decode + graph)   %8.1f ms\n", open);
	printf("  triage (first: analyze) %8.1f ms\n", triage);
	printf("  triage (again)          %8.1f ms\n", again);
	printf("  open + triage           %8.1f ms\n", open + triage);
	printf("  triage --json           %8.1f ms\n", json);
	printf("  tasks                   %8.1f ms\n", tasks);
	printf("  tasks --group           %8.1f ms\n", group);
	printf("  tasks --json            %8.1f ms\n", tjson);
	tangle_session_free(s);
	tb_free(b);
	return 0;
}
