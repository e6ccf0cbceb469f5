/* test_cancel.c — cooperative cancellation: the current wait (sleep, join,
 * park) and every later wait return TANGLE_ECANCELED. */
#include <stdatomic.h>

#include "rt_test.h"

struct victim {
	int first, second;
	int flag_seen;
	_Atomic int started;
};

static void *sleep_victim(void *arg)
{
	struct victim *v = arg;
	atomic_store(&v->started, 1);
	v->first = tangle_sleep_ms(10000);
	v->flag_seen = tangle_task_cancelled();
	v->second = tangle_sleep_ms(1);
	return NULL;
}

static void *park_victim(void *arg)
{
	struct victim *v = arg;
	atomic_store(&v->started, 1);
	v->first = tangle_park("nothing will wake me");
	v->flag_seen = tangle_task_cancelled();
	v->second = tangle_yield() == TANGLE_OK ? tangle_park("again") : -100;
	return NULL;
}

static void *forever(void *arg)
{
	(void)arg;
	tangle_sleep_ms(10000);
	return NULL;
}

static void *join_victim(void *arg)
{
	struct victim *v = arg;
	tangle_task *f = tangle_spawn("forever", forever, NULL);
	atomic_store(&v->started, 1);
	v->first = tangle_join(f, NULL);
	v->flag_seen = tangle_task_cancelled();
	/* The joined task is still joinable: cancel it and join it. */
	tangle_cancel(f);
	v->second = tangle_join(f, NULL); /* the caller is cancelled too */
	return f;
}

static void run_victim(tangle_fn fn, struct victim *v)
{
	*v = (struct victim){0};
	tangle_task *t = tangle_spawn("victim", fn, v);
	while (!atomic_load(&v->started))
		tangle_yield();
	tangle_sleep_ms(5);
	uint64_t t0 = rt_test_now_ns();
	assert_int_equal(tangle_cancel(t), TANGLE_OK);
	void *r = NULL;
	assert_int_equal(tangle_join(t, &r), TANGLE_OK);
	assert_true(rt_test_now_ns() - t0 < 2000000000u);
	assert_int_equal(v->first, TANGLE_ECANCELED);
	assert_true(v->flag_seen);
	assert_int_equal(v->second, TANGLE_ECANCELED);
	if (r) /* join_victim left its child joinable */
		assert_int_equal(tangle_join(r, NULL), TANGLE_OK);
}

static void *sleep_body(void *arg)
{
	(void)arg;
	struct victim v;
	run_victim(sleep_victim, &v);
	return NULL;
}

static void *park_body(void *arg)
{
	(void)arg;
	struct victim v;
	run_victim(park_victim, &v);
	return NULL;
}

static void *join_body(void *arg)
{
	(void)arg;
	struct victim v;
	run_victim(join_victim, &v);
	return NULL;
}

static void cancel_ends_a_sleep(void **state)
{
	(void)state;
	rt_test_both(sleep_body, NULL);
}

static void cancel_ends_a_park(void **state)
{
	(void)state;
	rt_test_both(park_body, NULL);
}

static void cancel_ends_a_join_and_leaves_the_target_joinable(void **state)
{
	(void)state;
	rt_test_both(join_body, NULL);
}

static void *quick(void *arg)
{
	return arg;
}

static void *before_start_body(void *arg)
{
	(void)arg;
	/* Cancelled before it ever ran: it still runs, and its first wait
	 * fails. */
	struct victim v = {0};
	tangle_task *t = tangle_spawn("victim", sleep_victim, &v);
	tangle_cancel(t);
	tangle_join(t, NULL);
	assert_int_equal(v.first, TANGLE_ECANCELED);
	/* Cancelling a finished task is harmless. */
	tangle_task *q = tangle_spawn("quick", quick, (void *)7);
	tangle_sleep_ms(1);
	assert_int_equal(tangle_cancel(q), TANGLE_OK);
	void *r;
	assert_int_equal(tangle_join(q, &r), TANGLE_OK);
	assert_int_equal((uintptr_t)r, 7);
	assert_int_equal(tangle_cancel(NULL), TANGLE_EINVAL);
	return NULL;
}

static void cancel_before_the_first_wait(void **state)
{
	(void)state;
	rt_test_both(before_start_body, NULL);
}

/* ---- A cancel racing with the end of the joined task ------------------------ */

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
enum { RACES = 300 }; /* TSan makes every task expensive */
#else
enum { RACES = 2000 };
#endif

struct race {
	tangle_task *target;
	_Atomic int go;
	int rc;
};

static void *short_work(void *arg)
{
	struct race *r = arg;
	while (!atomic_load(&r->go))
		tangle_yield();
	return (void *)7;
}

static void *racing_joiner(void *arg)
{
	struct race *r = arg;
	atomic_store(&r->go, 1);
	void *res = NULL;
	r->rc = tangle_join(r->target, &res);
	if (r->rc == TANGLE_OK && res != (void *)7)
		r->rc = -100;
	return NULL;
}

static void *race_body(void *arg)
{
	(void)arg;
	int ok = 0, cancelled = 0;
	for (int i = 0; i < RACES; i++) {
		struct race r = {0};
		r.target = tangle_spawn("target", short_work, &r);
		tangle_task *j = tangle_spawn("joiner", racing_joiner, &r);
		while (!atomic_load(&r.go))
			tangle_yield();
		if (i & 1)
			tangle_yield();
		tangle_cancel(j);
		assert_int_equal(tangle_join(j, NULL), TANGLE_OK);
		/* Exactly one outcome: joined (the handle is gone), or
		 * cancelled (the target is still ours to join). */
		if (r.rc == TANGLE_OK) {
			ok++;
		} else {
			assert_int_equal(r.rc, TANGLE_ECANCELED);
			void *res = NULL;
			assert_int_equal(tangle_join(r.target, &res), TANGLE_OK);
			assert_ptr_equal(res, (void *)7);
			cancelled++;
		}
	}
	assert_int_equal(ok + cancelled, RACES);
	return NULL;
}

static void a_cancel_racing_with_the_joined_tasks_end_has_one_outcome(void **state)
{
	(void)state;
	rt_test_both(race_body, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cancel_ends_a_sleep),
		cmocka_unit_test(cancel_ends_a_park),
		cmocka_unit_test(cancel_ends_a_join_and_leaves_the_target_joinable),
		cmocka_unit_test(cancel_before_the_first_wait),
		cmocka_unit_test(a_cancel_racing_with_the_joined_tasks_end_has_one_outcome),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
