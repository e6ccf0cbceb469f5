/* test_task.c — spawn, join, detach, yield, identity and bad use. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "rt_test.h"

static void *add_one(void *arg)
{
	return (void *)((uintptr_t)arg + 1);
}

static void *spawn_join_body(void *arg)
{
	(void)arg;
	void *r = NULL;
	tangle_task *t = tangle_spawn("adder", add_one, (void *)41);
	assert_non_null(t);
	assert_int_equal(tangle_join(t, &r), TANGLE_OK);
	assert_int_equal((uintptr_t)r, 42);
	return NULL;
}

static void join_returns_the_result(void **state)
{
	(void)state;
	rt_test_both(spawn_join_body, NULL);
}

static void *record(void *arg)
{
	_Atomic int *order = arg;
	return (void *)(uintptr_t)atomic_fetch_add(order, 1);
}

static void *order_body(void *arg)
{
	(void)arg;
	_Atomic int order = 0;
	tangle_task *t[8];
	for (int i = 0; i < 8; i++)
		t[i] = tangle_spawn("rec", record, &order);
	/* Joined in reverse: every join still gets its own task's result. */
	int seen = 0;
	for (int i = 7; i >= 0; i--) {
		void *r;
		assert_int_equal(tangle_join(t[i], &r), TANGLE_OK);
		seen |= 1 << (uintptr_t)r;
	}
	assert_int_equal(seen, 0xff);
	assert_int_equal(atomic_load(&order), 8);
	return NULL;
}

static void every_spawned_task_runs_once(void **state)
{
	(void)state;
	rt_test_both(order_body, NULL);
}

static void *fifo_body(void *arg)
{
	(void)arg;
	/* Current-thread: spawned tasks run in spawn order. */
	_Atomic int order = 0;
	tangle_task *t[5];
	for (int i = 0; i < 5; i++)
		t[i] = tangle_spawn("rec", record, &order);
	for (int i = 0; i < 5; i++) {
		void *r;
		tangle_join(t[i], &r);
		assert_int_equal((uintptr_t)r, i);
	}
	return NULL;
}

static void current_thread_runs_tasks_in_spawn_order(void **state)
{
	(void)state;
	rt_test_run(0, fifo_body, NULL);
}

static void *set_flag(void *arg)
{
	atomic_store((_Atomic int *)arg, 1);
	return NULL;
}

static void *detach_body(void *arg)
{
	(void)arg;
	_Atomic int flag = 0;
	tangle_task *t = tangle_spawn("detached", set_flag, &flag);
	assert_int_equal(tangle_detach(t), TANGLE_OK);
	while (!atomic_load(&flag))
		tangle_yield();
	return NULL;
}

static void a_detached_task_still_runs(void **state)
{
	(void)state;
	rt_test_both(detach_body, NULL);
}

struct ping {
	_Atomic int turn;
	int rounds;
	int bad;
};

static void *pinger(void *arg)
{
	struct ping *p = arg;
	for (int i = 0; i < p->rounds; i++) {
		if (atomic_load(&p->turn) != 0)
			p->bad++;
		atomic_store(&p->turn, 1);
		tangle_yield();
	}
	return NULL;
}

static void *ponger(void *arg)
{
	struct ping *p = arg;
	for (int i = 0; i < p->rounds; i++) {
		if (atomic_load(&p->turn) != 1)
			p->bad++;
		atomic_store(&p->turn, 0);
		tangle_yield();
	}
	return NULL;
}

static void *yield_body(void *arg)
{
	(void)arg;
	struct ping p = {.rounds = 1000};
	tangle_task *a = tangle_spawn("ping", pinger, &p);
	tangle_task *b = tangle_spawn("pong", ponger, &p);
	tangle_join(a, NULL);
	tangle_join(b, NULL);
	assert_int_equal(p.bad, 0);
	return NULL;
}

static void yield_alternates_two_tasks_fairly(void **state)
{
	(void)state;
	rt_test_run(0, yield_body, NULL);
}

struct spinner {
	_Atomic int stop;
	_Atomic long spins;
};

static void *spin_yield(void *arg)
{
	struct spinner *s = arg;
	while (!atomic_load(&s->stop)) {
		atomic_fetch_add(&s->spins, 1);
		tangle_yield();
	}
	return NULL;
}

static void *stopper(void *arg)
{
	atomic_store(&((struct spinner *)arg)->stop, 1);
	return NULL;
}

static void *starve_body(void *arg)
{
	(void)arg;
	/* Two tasks yield forever; a task spawned after them still runs. */
	struct spinner s = {0};
	tangle_task *a = tangle_spawn("spin", spin_yield, &s);
	tangle_task *b = tangle_spawn("spin", spin_yield, &s);
	tangle_yield();
	tangle_task *c = tangle_spawn("stopper", stopper, &s);
	tangle_join(c, NULL);
	tangle_join(a, NULL);
	tangle_join(b, NULL);
	assert_true(atomic_load(&s.stop));
	return NULL;
}

static void yielding_tasks_do_not_starve_others(void **state)
{
	(void)state;
	rt_test_both(starve_body, NULL);
}

/* More yielding tasks than a worker's local queue holds (256): the queue
 * spills to the global one while tasks yield, and every yield still
 * comes back exactly once. */
#define MANY_YIELDERS 600
#define MANY_ROUNDS 10

struct many {
	_Atomic long yields;
};

static void *many_yielder(void *arg)
{
	struct many *m = arg;
	for (int i = 0; i < MANY_ROUNDS; i++) {
		assert_int_equal(tangle_yield(), TANGLE_OK);
		atomic_fetch_add(&m->yields, 1);
	}
	return NULL;
}

static void *many_body(void *arg)
{
	(void)arg;
	static tangle_task *t[MANY_YIELDERS];
	struct many m = {0};
	for (int i = 0; i < MANY_YIELDERS; i++)
		t[i] = tangle_spawn("yielder", many_yielder, &m);
	for (int i = 0; i < MANY_YIELDERS; i++)
		assert_int_equal(tangle_join(t[i], NULL), TANGLE_OK);
	assert_int_equal(atomic_load(&m.yields), (long)MANY_YIELDERS * MANY_ROUNDS);
	return NULL;
}

static void more_yielders_than_a_queue_holds_all_finish(void **state)
{
	(void)state;
	for (unsigned workers = 0; workers <= 2; workers++)
		rt_test_run(workers, many_body, NULL);
}

/* Tasks that keep yielding on one worker take turns in a fixed order. */
#define RR_TASKS 5
#define RR_ROUNDS 40

struct rr {
	int log[RR_TASKS * RR_ROUNDS];
	int n;
};

struct rr_arg {
	struct rr *rr;
	int index;
};

static void *rr_task(void *arg)
{
	struct rr_arg *a = arg;
	for (int i = 0; i < RR_ROUNDS; i++) {
		a->rr->log[a->rr->n++] = a->index;
		tangle_yield();
	}
	return NULL;
}

static void *rr_body(void *arg)
{
	(void)arg;
	struct rr rr = {0};
	struct rr_arg args[RR_TASKS];
	tangle_task *t[RR_TASKS];
	for (int i = 0; i < RR_TASKS; i++) {
		args[i] = (struct rr_arg){&rr, i};
		t[i] = tangle_spawn("rr", rr_task, &args[i]);
	}
	for (int i = 0; i < RR_TASKS; i++)
		tangle_join(t[i], NULL);
	assert_int_equal(rr.n, RR_TASKS * RR_ROUNDS);
	for (int i = 0; i < rr.n; i++)
		assert_int_equal(rr.log[i], i % RR_TASKS);
	return NULL;
}

static void yielders_on_one_worker_take_turns(void **state)
{
	(void)state;
	rt_test_run(0, rr_body, NULL);
	rt_test_run(1, rr_body, NULL);
}

static void *identity_body(void *arg)
{
	(void)arg;
	tangle_task *self = tangle_task_current();
	assert_non_null(self);
	assert_true(tangle_task_id(self) > 0);
	assert_string_equal(tangle_task_name(self), "main");
	assert_non_null(tangle_runtime_current());
	tangle_task *t = tangle_spawn("a-rather-long-task-name-that-is-cut-off", add_one,
	                              NULL);
	assert_true(tangle_task_id(t) > tangle_task_id(self));
	assert_int_equal(strlen(tangle_task_name(t)), 31);
	tangle_join(t, NULL);
	return NULL;
}

static void tasks_have_ids_and_names(void **state)
{
	(void)state;
	rt_test_both(identity_body, NULL);
}

static void *bad_use_body(void *arg)
{
	(void)arg;
	assert_int_equal(tangle_join(tangle_task_current(), NULL), TANGLE_EJOIN);
	tangle_task *t = tangle_spawn("x", add_one, NULL);
	assert_int_equal(tangle_join(t, NULL), TANGLE_OK);
	assert_int_equal(tangle_join(t, NULL), TANGLE_EJOIN); /* double join */
	tangle_task *d = tangle_spawn("d", add_one, NULL);
	assert_int_equal(tangle_detach(d), TANGLE_OK);
	assert_int_equal(tangle_join(d, NULL), TANGLE_EJOIN);
	assert_int_equal(tangle_detach(d), TANGLE_EJOIN);
	assert_int_equal(tangle_join(NULL, NULL), TANGLE_EINVAL);
	errno = 0;
	assert_null(tangle_spawn("nofn", NULL, NULL));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(tangle_runtime_run(tangle_runtime_current(), add_one, NULL),
	                 TANGLE_EINVAL);
	return NULL;
}

static void bad_use_returns_errors(void **state)
{
	(void)state;
	rt_test_both(bad_use_body, NULL);
}

static void calls_outside_a_task_fail(void **state)
{
	(void)state;
	assert_null(tangle_task_current());
	assert_null(tangle_runtime_current());
	assert_int_equal(tangle_yield(), TANGLE_ENOTASK);
	assert_int_equal(tangle_sleep_ms(1), TANGLE_ENOTASK);
	assert_int_equal(tangle_park("x"), TANGLE_ENOTASK);
	assert_int_equal(tangle_task_set_label("k", "v"), TANGLE_ENOTASK);
	assert_int_equal(tangle_span_enter("s"), TANGLE_ENOTASK);
	assert_int_equal(tangle_span_exit(), TANGLE_ENOTASK);
	assert_int_equal(tangle_blocking(add_one, NULL, NULL), TANGLE_ENOTASK);
	assert_int_equal(tangle_io_wait(0, 1, 0), TANGLE_ENOTASK);
	assert_false(tangle_task_cancelled());
	errno = 0;
	assert_null(tangle_spawn("x", add_one, NULL));
	assert_int_equal(errno, EPERM);
	errno = 0;
	assert_null(tangle_waker_current());
	assert_int_equal(errno, EPERM);
	assert_int_equal(tangle_task_id(NULL), 0);
	assert_string_equal(tangle_strerror(TANGLE_ENOTASK), "called outside a task");
	assert_non_null(tangle_strerror(12345));
}

struct hog {
	_Atomic int ran;
	_Atomic uint64_t ran_at;
};

static void *note_run(void *arg)
{
	struct hog *h = arg;
	atomic_store(&h->ran_at, rt_test_now_ns());
	atomic_store(&h->ran, 1);
	return NULL;
}

static void *hog_body(void *arg)
{
	(void)arg;
	/* A task spawned (or woken) by a task that then computes without
	 * switching is not stuck behind it: another worker takes it soon. */
	for (int round = 0; round < 3; round++) {
		struct hog h = {0};
		tangle_sleep_ms(5); /* let the other worker settle down */
		uint64_t t0 = rt_test_now_ns();
		tangle_task *t = tangle_spawn("behind", note_run, &h);
		while (!atomic_load(&h.ran) && rt_test_now_ns() - t0 < 2000000000u)
			; /* compute, never switching */
		assert_true(atomic_load(&h.ran));
		assert_true(atomic_load(&h.ran_at) - t0 < 200000000u);
		tangle_join(t, NULL);
	}
	return NULL;
}

static void a_task_behind_a_busy_worker_runs_elsewhere(void **state)
{
	(void)state;
	rt_test_run(2, hog_body, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(join_returns_the_result),
		cmocka_unit_test(every_spawned_task_runs_once),
		cmocka_unit_test(current_thread_runs_tasks_in_spawn_order),
		cmocka_unit_test(a_detached_task_still_runs),
		cmocka_unit_test(yield_alternates_two_tasks_fairly),
		cmocka_unit_test(yielding_tasks_do_not_starve_others),
		cmocka_unit_test(more_yielders_than_a_queue_holds_all_finish),
		cmocka_unit_test(yielders_on_one_worker_take_turns),
		cmocka_unit_test(tasks_have_ids_and_names),
		cmocka_unit_test(bad_use_returns_errors),
		cmocka_unit_test(calls_outside_a_task_fail),
		cmocka_unit_test(a_task_behind_a_busy_worker_runs_elsewhere),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
