/* test_blocking.c — tangle_blocking: the call runs on the pool, only the
 * calling task waits, and other tasks progress meanwhile. */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "rt_test.h"

static void *slow_double(void *arg)
{
	usleep(50000);
	return (void *)((uintptr_t)arg * 2);
}

static void *counter(void *arg)
{
	_Atomic long *n = arg;
	while (atomic_load(n) >= 0) {
		atomic_fetch_add(n, 1);
		tangle_yield();
	}
	return NULL;
}

static void *caller(void *arg)
{
	void *r = NULL;
	int rc = tangle_blocking(slow_double, arg, &r);
	assert_int_equal(rc, TANGLE_OK);
	return r;
}

static void *progress_body(void *arg)
{
	(void)arg;
	_Atomic long n = 0;
	tangle_task *c = tangle_spawn("counter", counter, &n);
	tangle_task *b = tangle_spawn("caller", caller, (void *)21);
	void *r;
	tangle_join(b, &r);
	assert_int_equal((uintptr_t)r, 42);
	/* The counter ran while the call slept (even on one worker). */
	assert_true(atomic_load(&n) > 10);
	atomic_store(&n, -1000000);
	tangle_join(c, NULL);
	return NULL;
}

static void only_the_calling_task_waits(void **state)
{
	(void)state;
	rt_test_both(progress_body, NULL);
}

static void *parallel_body(void *arg)
{
	(void)arg;
	/* Eight calls of 50 ms at once take about 50 ms, not 400. */
	tangle_task *t[8];
	uint64_t t0 = rt_test_now_ns();
	for (int i = 0; i < 8; i++)
		t[i] = tangle_spawn("caller", caller, (void *)(uintptr_t)i);
	for (int i = 0; i < 8; i++) {
		void *r;
		tangle_join(t[i], &r);
		assert_int_equal((uintptr_t)r, 2 * i);
	}
	assert_true(rt_test_now_ns() - t0 < 300000000u);
	return NULL;
}

static void calls_run_in_parallel_threads(void **state)
{
	(void)state;
	rt_test_both(parallel_body, NULL);
}

static void *tid_of(void *arg)
{
	(void)arg;
	return (void *)(uintptr_t)gettid();
}

static void *thread_body(void *arg)
{
	(void)arg;
	void *tid = NULL;
	assert_int_equal(tangle_blocking(tid_of, NULL, &tid), TANGLE_OK);
	assert_true((uintptr_t)tid != (uintptr_t)gettid());
	assert_int_equal(tangle_blocking(NULL, NULL, NULL), TANGLE_EINVAL);
	return NULL;
}

static void the_call_runs_on_another_thread(void **state)
{
	(void)state;
	rt_test_both(thread_body, NULL);
}

/* ---- Calls that depend on each other ---------------------------------------- */

static void *read_one(void *arg)
{
	int fd = *(int *)arg;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 3000) != 1) /* the writer's call never started */
		return (void *)-1;
	char c = 0;
	return read(fd, &c, 1) == 1 ? (void *)(uintptr_t)c : (void *)-2;
}

static void *write_one(void *arg)
{
	int fd = *(int *)arg;
	return write(fd, "k", 1) == 1 ? NULL : (void *)-3;
}

static void *blocking_reader(void *arg)
{
	void *r = NULL;
	assert_int_equal(tangle_blocking(read_one, arg, &r), TANGLE_OK);
	return r;
}

static void *blocking_writer(void *arg)
{
	void *r = (void *)-4;
	assert_int_equal(tangle_blocking(write_one, arg, &r), TANGLE_OK);
	return r;
}

static void *dependent_body(void *arg)
{
	(void)arg;
	/* One pool thread, idle. */
	void *tid;
	assert_int_equal(tangle_blocking(tid_of, NULL, &tid), TANGLE_OK);
	/* Two calls at once, the first waiting for the second: each needs a
	 * thread of its own, even though one was idle when both came. */
	int p[2];
	assert_int_equal(pipe(p), 0);
	tangle_task *r = tangle_spawn("reader", blocking_reader, &p[0]);
	tangle_task *w = tangle_spawn("writer", blocking_writer, &p[1]);
	void *got = NULL, *wrote = NULL;
	tangle_join(r, &got);
	tangle_join(w, &wrote);
	assert_ptr_equal(wrote, NULL);
	assert_int_equal((intptr_t)got, 'k');
	close(p[0]);
	close(p[1]);
	return NULL;
}

static void each_queued_call_gets_a_thread(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		rt_test_both(dependent_body, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(only_the_calling_task_waits),
		cmocka_unit_test(calls_run_in_parallel_threads),
		cmocka_unit_test(the_call_runs_on_another_thread),
		cmocka_unit_test(each_queued_call_gets_a_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
