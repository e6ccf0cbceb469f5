/* test_sleep.c — tangle_sleep_ms: accuracy (generous bounds), ordering of
 * many sleepers, and other tasks running meanwhile. */
#include <stdatomic.h>

#include "rt_test.h"

static void *sleep_body(void *arg)
{
	(void)arg;
	uint64_t t0 = rt_test_now_ns();
	assert_int_equal(tangle_sleep_ms(30), TANGLE_OK);
	uint64_t took = rt_test_now_ns() - t0;
	assert_true(took >= 30000000u);
	assert_true(took < 1000000000u);
	t0 = rt_test_now_ns();
	assert_int_equal(tangle_sleep_ms(0), TANGLE_OK);
	assert_true(rt_test_now_ns() - t0 < 1000000000u);
	return NULL;
}

static void sleep_lasts_at_least_its_time(void **state)
{
	(void)state;
	rt_test_both(sleep_body, NULL);
}

struct wakeup {
	uint64_t ms;
	_Atomic int *order;
	int rank;
};

static void *sleep_then_rank(void *arg)
{
	struct wakeup *w = arg;
	tangle_sleep_ms(w->ms);
	w->rank = atomic_fetch_add(w->order, 1);
	return NULL;
}

static void *ordering_body(void *arg)
{
	(void)arg;
	_Atomic int order = 0;
	static const uint64_t ms[5] = {90, 10, 50, 130, 30};
	static const int expect[5] = {3, 0, 2, 4, 1};
	struct wakeup w[5];
	tangle_task *t[5];
	for (int i = 0; i < 5; i++) {
		w[i] = (struct wakeup){ms[i], &order, -1};
		t[i] = tangle_spawn("sleeper", sleep_then_rank, &w[i]);
	}
	for (int i = 0; i < 5; i++)
		tangle_join(t[i], NULL);
	for (int i = 0; i < 5; i++)
		assert_int_equal(w[i].rank, expect[i]);
	return NULL;
}

static void sleepers_wake_in_deadline_order(void **state)
{
	(void)state;
	rt_test_both(ordering_body, NULL);
}

static void *counter(void *arg)
{
	_Atomic long *n = arg;
	for (int i = 0; i < 1000; i++) {
		atomic_fetch_add(n, 1);
		tangle_yield();
	}
	return NULL;
}

static void *meanwhile_body(void *arg)
{
	(void)arg;
	_Atomic long n = 0;
	tangle_task *c = tangle_spawn("counter", counter, &n);
	tangle_sleep_ms(20);
	tangle_join(c, NULL);
	assert_int_equal(atomic_load(&n), 1000);
	return NULL;
}

static void other_tasks_run_while_one_sleeps(void **state)
{
	(void)state;
	rt_test_both(meanwhile_body, NULL);
}

static void *many_body(void *arg)
{
	(void)arg;
	enum { N = 500 };
	static tangle_task *t[N];
	static struct wakeup w[N];
	_Atomic int order = 0;
	for (int i = 0; i < N; i++) {
		w[i] = (struct wakeup){(uint64_t)(i % 7) * 3, &order, -1};
		t[i] = tangle_spawn("many", sleep_then_rank, &w[i]);
	}
	for (int i = 0; i < N; i++)
		tangle_join(t[i], NULL);
	assert_int_equal(atomic_load(&order), N);
	return NULL;
}

static void many_sleepers_all_wake(void **state)
{
	(void)state;
	rt_test_both(many_body, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sleep_lasts_at_least_its_time),
		cmocka_unit_test(sleepers_wake_in_deadline_order),
		cmocka_unit_test(other_tasks_run_while_one_sleeps),
		cmocka_unit_test(many_sleepers_all_wake),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
