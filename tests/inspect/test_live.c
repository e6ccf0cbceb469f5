/*
 * test_live.c — the engine on the real runtime's table, read from this very
 * process with tangle_reader_self: hangs made with the public API are named
 * as they should be, and a healthy runtime gives no finding. This checks
 * the runtime's layout against the engine's decoder end to end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tangle.h"
#include "tangle_inspect.h"

static uint64_t mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Run a command on a fresh session of this process. */
static char *inspect(const char *line, int *status)
{
	tangle_reader r;
	assert_null(tangle_reader_self(&r));
	tangle_session_options o = {.now_kind = TANGLE_NOW_MONO, .now = mono(),
	                            .torn = 1};
	tangle_session *s = NULL;
	tangle_error *err = tangle_session_open(&r, NULL, &o, &s);
	if (err)
		fail_msg("open: %s", err->message);
	char buf[256], *argv[16];
	int argc = 0;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && argc < 16;
	     t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	char *out = tangle_session_run(s, argc, argv, status);
	tangle_session_free(s);
	return out;
}

/* Poll until the triage names `want` (up to ~10 s on a loaded machine). */
static char *wait_for(const char *line, const char *want)
{
	char *out = NULL;
	for (int i = 0; i < 1000; i++) {
		int st;
		tangle_inspect_free(out);
		out = inspect(line, &st);
		if (strstr(out, want))
			return out;
		usleep(10000);
	}
	fail_msg("never saw '%s' in:\n%s", want, out);
	return out;
}

/* Cancel and join tasks, so the runtime is freed with none left (tasks
 * abandoned mid-wait would leave their stacks poisoned under ASan). */
static void finish(tangle_task **t, int n)
{
	for (int i = 0; i < n; i++)
		tangle_cancel(t[i]);
	for (int i = 0; i < n; i++)
		tangle_join(t[i], NULL);
}

static void *parker(void *arg)
{
	(void)arg;
	tangle_waker *w = tangle_waker_current();
	tangle_waker_drop(w); /* the bug: nobody can wake us now */
	tangle_park("the latch");
	return NULL;
}

static void test_lost_waker(void **state)
{
	(void)state;
	tangle_runtime *rt = tangle_runtime_new(&(tangle_config){.workers = 2, .name = "live"});
	assert_non_null(rt);
	tangle_task *t = tangle_spawn_on(rt, "parker", parker, NULL);
	assert_non_null(t);
	char *out = wait_for("triage", "LOST-WAKER");
	assert_non_null(strstr(out, "task "));
	assert_non_null(strstr(out, "\"parker\""));
	assert_non_null(strstr(out, "park \"the latch\""));
	tangle_inspect_free(out);
	finish(&t, 1);
	tangle_runtime_free(rt);
}

static tangle_task *volatile left_t, *volatile right_t;

static void *left(void *arg)
{
	(void)arg;
	while (!right_t)
		tangle_sleep_ms(1);
	tangle_join(right_t, NULL);
	return NULL;
}

static void *right(void *arg)
{
	(void)arg;
	while (!left_t)
		tangle_sleep_ms(1);
	tangle_join(left_t, NULL);
	return NULL;
}

static void test_join_cycle(void **state)
{
	(void)state;
	tangle_runtime *rt = tangle_runtime_new(&(tangle_config){.workers = 2});
	left_t = tangle_spawn_on(rt, "left", left, NULL);
	right_t = tangle_spawn_on(rt, "right", right, NULL);
	char *out = wait_for("deadlocks", "DEADLOCK  join cycle between 2 tasks");
	assert_non_null(strstr(out, "to join task"));
	assert_non_null(strstr(out, "(test_live.c:"));
	tangle_inspect_free(out);
	int st;
	out = inspect("why 1 --json", &st);
	tangle_inspect_free(out);
	tangle_task *both[2] = {left_t, right_t};
	finish(both, 2);
	tangle_runtime_free(rt);
}

static void *hog(void *arg)
{
	(void)arg;
	usleep(600000); /* a blocking call on a worker thread */
	return NULL;
}

static void *napper(void *arg)
{
	(void)arg;
	tangle_sleep_ms(10000);
	return NULL;
}

static void test_blocked_and_healthy(void **state)
{
	(void)state;
	tangle_runtime *rt = tangle_runtime_new(&(tangle_config){.workers = 2});
	tangle_task *naps[20];
	for (int i = 0; i < 20; i++)
		naps[i] = tangle_spawn_on(rt, "napper", napper, NULL);
	usleep(50000);
	int st;
	char *out = inspect("triage", &st); /* only sleepers: healthy */
	if (st != 0)
		fail_msg("healthy runtime has findings:\n%s", out);
	tangle_inspect_free(out);
	out = inspect("tasks --group", &st);
	assert_non_null(strstr(out, "20      waiting"));
	tangle_inspect_free(out);

	tangle_task *h = tangle_spawn_on(rt, "hog", hog, NULL);
	out = wait_for("triage --blocked-ms 150", "BLOCKED-EXECUTOR");
	assert_non_null(strstr(out, "\"hog\""));
	assert_non_null(strstr(out, "without a switch"));
	tangle_inspect_free(out);
	tangle_join(h, NULL);
	for (int i = 0; i < 20; i++) {
		tangle_cancel(naps[i]);
		tangle_join(naps[i], NULL);
	}
	tangle_runtime_free(rt);
}

/* ---- the primitives ---- */

static tangle_mutex accounts, ledger;

static void *transfer_a(void *arg)
{
	(void)arg;
	tangle_mutex_lock(&accounts);
	tangle_sleep_ms(30);
	tangle_mutex_lock(&ledger);
	return NULL;
}

static void *transfer_b(void *arg)
{
	(void)arg;
	tangle_mutex_lock(&ledger);
	tangle_sleep_ms(30);
	tangle_mutex_lock(&accounts);
	return NULL;
}

static void test_lock_order(void **state)
{
	(void)state;
	tangle_runtime *rt = tangle_runtime_new(&(tangle_config){.workers = 2});
	tangle_mutex_init(&accounts, "accounts");
	tangle_mutex_init(&ledger, "ledger");
	tangle_task *a = tangle_spawn_on(rt, "transfer-a", transfer_a, NULL);
	tangle_task *b = tangle_spawn_on(rt, "transfer-b", transfer_b, NULL);
	char *out = wait_for("triage", "DEADLOCK  lock-order cycle between 2 tasks");
	assert_non_null(strstr(out, "fix: take \"accounts\" before \"ledger\" everywhere"));
	assert_non_null(strstr(out, "(acquired test_live.c:"));
	tangle_inspect_free(out);
	tangle_task *both[2] = {a, b};
	finish(both, 2);
	tangle_runtime_free(rt);
}

static tangle_chan *ring[3];

static void *stage(void *arg)
{
	int i = (int)(intptr_t)arg, v = i;
	/* two sends before a receive: every channel fills, every stage waits */
	tangle_chan_send(ring[i], &v);
	tangle_chan_send(ring[i], &v);
	tangle_chan_recv(ring[(i + 2) % 3], &v);
	return NULL;
}

static void test_channel_ring(void **state)
{
	(void)state;
	tangle_runtime *rt = tangle_runtime_new(&(tangle_config){.workers = 2});
	const char *names[3] = {"a->b", "b->c", "c->a"};
	for (int i = 0; i < 3; i++)
		ring[i] = tangle_chan_new(sizeof(int), 1, names[i]);
	tangle_task *t[3];
	for (int i = 0; i < 3; i++)
		t[i] = tangle_spawn_on(rt, "stage", stage, (void *)(intptr_t)i);
	char *out = wait_for("deadlocks", "DEADLOCK  ");
	/* the other side is known only for channels someone received from:
	 * here nobody ever did, so it is the quiescence check that names it */
	assert_non_null(strstr(out, "channel"));
	tangle_inspect_free(out);
	finish(t, 3);
	tangle_runtime_free(rt);
}

static tangle_sem pool;

static void *grabber(void *arg)
{
	(void)arg;
	tangle_sem_acquire(&pool, 1);
	tangle_sleep_ms(30);
	tangle_sem_acquire(&pool, 1);
	return NULL;
}

static void test_permits(void **state)
{
	(void)state;
	tangle_runtime *rt = tangle_runtime_new(&(tangle_config){.workers = 2});
	tangle_sem_init(&pool, 2, "pool");
	tangle_task *a = tangle_spawn_on(rt, "job-a", grabber, NULL);
	tangle_task *b = tangle_spawn_on(rt, "job-b", grabber, NULL);
	char *out = wait_for("triage", "DEADLOCK  permits hold-and-wait between 2 tasks");
	tangle_inspect_free(out);
	tangle_task *both[2] = {a, b};
	finish(both, 2);
	tangle_runtime_free(rt);
}

static tangle_mutex cache, state_m, config;

static void *refresher(void *arg)
{
	(void)arg;
	tangle_mutex_lock(&cache);
	tangle_sleep_ms(5000); /* the await, with the lock held */
	tangle_mutex_unlock(&cache);
	return NULL;
}

static void *getter(void *arg)
{
	(void)arg;
	tangle_sleep_ms(20);
	tangle_mutex_lock(&cache);
	tangle_mutex_unlock(&cache);
	return NULL;
}

static void *relocker(void *arg)
{
	(void)arg;
	tangle_mutex_lock(&state_m);
	tangle_mutex_lock(&state_m); /* not reentrant */
	return NULL;
}

static void *loader(void *arg)
{
	(void)arg;
	tangle_mutex_lock(&config);
	return NULL; /* returns holding it */
}

static void test_held_self_orphaned(void **state)
{
	(void)state;
	tangle_runtime *rt = tangle_runtime_new(&(tangle_config){.workers = 2});
	tangle_mutex_init(&cache, "cache");
	tangle_mutex_init(&state_m, "state");
	tangle_mutex_init(&config, "config");
	tangle_task *r = tangle_spawn_on(rt, "refresher", refresher, NULL);
	tangle_task *g[3];
	for (int i = 0; i < 3; i++)
		g[i] = tangle_spawn_on(rt, "getter", getter, NULL);
	tangle_task *self = tangle_spawn_on(rt, "relocker", relocker, NULL);
	tangle_task *l = tangle_spawn_on(rt, "loader", loader, NULL);
	char *out = wait_for("triage --held-ms 100", "LOCK-HELD-ACROSS-AWAIT");
	assert_non_null(strstr(out, "holds mutex \"cache\" while it awaits sleep"));
	tangle_inspect_free(out);
	out = wait_for("triage --held-ms 100", "DEADLOCK  self-deadlock of task");
	tangle_inspect_free(out);
	out = wait_for("triage --held-ms 100", "ORPHANED-LOCK  mutex \"config\" is owned by task");
	tangle_inspect_free(out);
	tangle_task *all[6] = {r, g[0], g[1], g[2], self, l};
	finish(all, 6);
	tangle_runtime_free(rt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lost_waker),
		cmocka_unit_test(test_join_cycle),
		cmocka_unit_test(test_blocked_and_healthy),
		cmocka_unit_test(test_lock_order),
		cmocka_unit_test(test_channel_ring),
		cmocka_unit_test(test_permits),
		cmocka_unit_test(test_held_self_orphaned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
