/*
 * test_sem.c — the counting semaphore, as a specification.
 *
 * Permits are counted exactly; requests are served strictly in arrival
 * order (a big request at the head is not overtaken by later small ones);
 * timeouts and cancellation pass on permits already handed over.
 */
#include "sync_helpers.h"

#include <pthread.h>

struct shared {
	tangle_sem s;
	char log[32];
	_Atomic int n;
	_Atomic int go;
};

struct arg {
	struct shared *sh;
	char name;
	uint32_t permits;
	int64_t timeout_ms;
};

/* Acquire, log, hold until `go`, release. */
static void *client(void *p)
{
	struct arg *a = p;
	int r = tangle_sem_acquire_timeout(&a->sh->s, a->permits, a->timeout_ms);
	if (r != TANGLE_OK)
		return INT_PTR(r);
	int i = atomic_fetch_add(&a->sh->n, 1);
	if (i < (int)sizeof a->sh->log)
		a->sh->log[i] = a->name;
	while (!atomic_load(&a->sh->go))
		tangle_yield();
	CHECK_OK(tangle_sem_release(&a->sh->s, a->permits));
	return INT_PTR(r);
}

/* ---- basics -------------------------------------------------------------------------- */

static void *basics_main(void *p)
{
	(void)p;
	tangle_sem s;
	CHECK_OK(tangle_sem_init(&s, 3, "basics"));
	CHECK_EQ(tangle_sem_available(&s), 3);
	CHECK_OK(tangle_sem_acquire(&s, 2));
	CHECK_EQ(tangle_sem_available(&s), 1);
	CHECK_EQ(tangle_sem_try_acquire(&s, 2), TANGLE_EAGAIN);
	CHECK_EQ(tangle_sem_acquire_timeout(&s, 2, 0), TANGLE_ETIMEDOUT);
	CHECK_OK(tangle_sem_try_acquire(&s, 1));
	CHECK_EQ(tangle_sem_available(&s), 0);
	CHECK_OK(tangle_sem_release(&s, 3));
	CHECK_EQ(tangle_sem_available(&s), 3);
	CHECK_OK(tangle_sem_destroy(&s));
	return NULL;
}

static void test_acquire_release(void **state)
{
	(void)state;
	run_rt(1, 1, basics_main, NULL);
}

/* ---- FIFO ----------------------------------------------------------------------------- */

/* 4 permits, main holds 3. A wants 3 and waits; B wants 1 and, although
 * one is free, queues behind A. Releasing 3 serves A, then B. */
static void *big_first_main(void *p)
{
	(void)p;
	struct shared sh = {0};
	CHECK_OK(tangle_sem_init(&sh.s, 4, "fifo"));
	CHECK_OK(tangle_sem_acquire(&sh.s, 3));
	struct arg a = {&sh, 'A', 3, -1}, b = {&sh, 'B', 1, -1};
	tangle_task *ta = tangle_spawn("big", client, &a);
	settle();
	tangle_task *tb = tangle_spawn("small", client, &b);
	settle();
	CHECK_EQ(sh.n, 0);
	CHECK_EQ(tangle_sem_available(&sh.s), 1);
	CHECK_EQ(tangle_sem_try_acquire(&sh.s, 1), TANGLE_EAGAIN);
	CHECK_OK(tangle_sem_release(&sh.s, 3));
	CHECK_EQ(tangle_sem_available(&sh.s), 0); /* handed to A and B */
	settle();
	CHECK_EQ(sh.n, 2);
	CHECK(memcmp(sh.log, "AB", 2) == 0);
	atomic_store(&sh.go, 1);
	CHECK_EQ(join_int(ta), TANGLE_OK);
	CHECK_EQ(join_int(tb), TANGLE_OK);
	CHECK_EQ(tangle_sem_available(&sh.s), 4);
	CHECK_OK(tangle_sem_destroy(&sh.s));
	return NULL;
}

static void test_big_request_not_overtaken(void **state)
{
	(void)state;
	run_rt(1, 1, big_first_main, NULL);
}

/* Waiters for one permit each are served in arrival order. */
static void *order_main(void *p)
{
	(void)p;
	struct shared sh = {0};
	struct arg a[5];
	tangle_task *t[5];
	sh.go = 1;
	CHECK_OK(tangle_sem_init(&sh.s, 1, "order"));
	CHECK_OK(tangle_sem_acquire(&sh.s, 1));
	for (int i = 0; i < 5; i++) {
		a[i] = (struct arg){&sh, (char)('a' + i), 1, -1};
		t[i] = tangle_spawn("client", client, &a[i]);
		settle();
	}
	CHECK_OK(tangle_sem_release(&sh.s, 1));
	for (int i = 0; i < 5; i++)
		CHECK_EQ(join_int(t[i]), TANGLE_OK);
	CHECK(memcmp(sh.log, "abcde", 5) == 0);
	CHECK_OK(tangle_sem_destroy(&sh.s));
	return NULL;
}

static void test_fifo_order(void **state)
{
	(void)state;
	run_rt(1, 1, order_main, NULL);
}

/* ---- timeouts and cancellation -------------------------------------------------------------- */

/* The big request at the head times out: the small one behind it is
 * served from the permits that were free all along. */
static void *head_leaves_main(void *p)
{
	(void)p;
	struct shared sh = {0};
	CHECK_OK(tangle_sem_init(&sh.s, 4, "abort"));
	CHECK_OK(tangle_sem_acquire(&sh.s, 3));
	struct arg a = {&sh, 'A', 3, 30}, b = {&sh, 'B', 1, -1};
	/* From before the wait starts: 30 ms, on a clock a few ms stale at worst. */
	uint64_t t0 = now_ms();
	tangle_task *ta = tangle_spawn("big", client, &a);
	settle();
	tangle_task *tb = tangle_spawn("small", client, &b);
	settle();
	CHECK_EQ(join_int(ta), TANGLE_ETIMEDOUT);
	CHECK(now_ms() - t0 >= 25);
	settle();
	CHECK_EQ(sh.n, 1);
	CHECK_EQ(sh.log[0], 'B');
	atomic_store(&sh.go, 1);
	CHECK_EQ(join_int(tb), TANGLE_OK);
	CHECK_OK(tangle_sem_release(&sh.s, 3));
	CHECK_EQ(tangle_sem_available(&sh.s), 4);
	CHECK_OK(tangle_sem_destroy(&sh.s));
	return NULL;
}

static void test_head_timeout_serves_next(void **state)
{
	(void)state;
	run_rt(1, 1, head_leaves_main, NULL);
}

/* Permits handed to a task that is then cancelled before it runs go to
 * the next waiter; none is lost. */
static void *cancel_granted_main(void *p)
{
	(void)p;
	struct shared sh = {0};
	sh.go = 1;
	CHECK_OK(tangle_sem_init(&sh.s, 2, "cancel"));
	CHECK_OK(tangle_sem_acquire(&sh.s, 2));
	struct arg a = {&sh, 'A', 2, -1}, b = {&sh, 'B', 2, -1};
	tangle_task *ta = tangle_spawn("granted", client, &a);
	settle();
	tangle_task *tb = tangle_spawn("next", client, &b);
	settle();
	CHECK_OK(tangle_sem_release(&sh.s, 2)); /* handed to A */
	CHECK_OK(tangle_cancel(ta));
	CHECK_EQ(join_int(ta), TANGLE_ECANCELED);
	CHECK_EQ(join_int(tb), TANGLE_OK);
	CHECK_EQ(sh.n, 1);
	CHECK_EQ(sh.log[0], 'B');
	CHECK_EQ(tangle_sem_available(&sh.s), 2);
	CHECK_OK(tangle_sem_destroy(&sh.s));
	return NULL;
}

static void test_cancel_after_grant_passes_on(void **state)
{
	(void)state;
	run_rt(1, 1, cancel_granted_main, NULL);
}

static void *cancel_waiting_main(void *p)
{
	(void)p;
	struct shared sh = {0};
	sh.go = 1;
	CHECK_OK(tangle_sem_init(&sh.s, 1, "cancel-wait"));
	CHECK_OK(tangle_sem_acquire(&sh.s, 1));
	struct arg a = {&sh, 'A', 1, -1};
	tangle_task *ta = tangle_spawn("waiter", client, &a);
	settle();
	CHECK_OK(tangle_cancel(ta));
	CHECK_EQ(join_int(ta), TANGLE_ECANCELED);
	CHECK_OK(tangle_sem_release(&sh.s, 1));
	CHECK_EQ(tangle_sem_available(&sh.s), 1);
	CHECK_OK(tangle_sem_destroy(&sh.s));
	return NULL;
}

static void test_cancel_while_waiting(void **state)
{
	(void)state;
	run_rt(1, 1, cancel_waiting_main, NULL);
}

/* ---- races --------------------------------------------------------------------------------------- */

static void *canceller(void *p)
{
	tangle_cancel(p);
	return NULL;
}

static void *race_main(void *p)
{
	(void)p;
	struct shared sh = {0};
	sh.go = 1;
	int ok = 0;
	const int rounds = ROUNDS(2000);
	CHECK_OK(tangle_sem_init(&sh.s, 3, "race"));
	for (int round = 0; round < rounds; round++) {
		CHECK_OK(tangle_sem_acquire(&sh.s, 3));
		struct arg a = {&sh, 'A', 2, round % 3 ? -1 : 1};
		struct arg b = {&sh, 'B', 3, 5000};
		tangle_task *ta = tangle_spawn("victim", client, &a);
		tangle_task *tb = tangle_spawn("behind", client, &b);
		for (int i = 0; i < round % 32; i++)
			tangle_yield();
		tangle_task *tc = tangle_spawn("canceller", canceller, ta);
		CHECK_OK(tangle_sem_release(&sh.s, 3));
		int r = (int)join_int(ta);
		CHECK(r == TANGLE_OK || r == TANGLE_ECANCELED || r == TANGLE_ETIMEDOUT);
		ok += r == TANGLE_OK;
		CHECK_EQ(join_int(tb), TANGLE_OK);
		join_int(tc);
		CHECK_EQ(tangle_sem_available(&sh.s), 3);
	}
	CHECK_EQ(sh.n, ok + rounds);
	CHECK_OK(tangle_sem_destroy(&sh.s));
	return NULL;
}

static void test_race_grant_vs_cancel_and_timeout(void **state)
{
	(void)state;
	run_rt(2, 0, race_main, NULL);
}

/* Permits in use never exceed the total, and all come back. */
struct bounded {
	tangle_sem s;
	_Atomic int in_use;
	_Atomic int max_in_use;
};

static void *user(void *p)
{
	struct bounded *b = p;
	uint32_t seed = (uint32_t)tangle_task_id(tangle_task_current()) * 7919u;
	for (int i = 0; i < 1000; i++) {
		uint32_t n = 1 + rnd_next(&seed) % 3;
		CHECK_OK(tangle_sem_acquire(&b->s, n));
		int u = atomic_fetch_add(&b->in_use, (int)n) + (int)n;
		int m = atomic_load(&b->max_in_use);
		while (u > m && !atomic_compare_exchange_weak(&b->max_in_use, &m, u))
			;
		if (i % 3 == 0)
			tangle_yield();
		atomic_fetch_sub(&b->in_use, (int)n);
		CHECK_OK(tangle_sem_release(&b->s, n));
	}
	return NULL;
}

static void *bounded_main(void *p)
{
	(void)p;
	struct bounded b = {0};
	tangle_task *t[8];
	CHECK_OK(tangle_sem_init(&b.s, 4, "bounded"));
	for (int i = 0; i < 8; i++)
		t[i] = tangle_spawn("user", user, &b);
	for (int i = 0; i < 8; i++)
		join_int(t[i]);
	CHECK(atomic_load(&b.max_in_use) <= 4);
	CHECK(atomic_load(&b.max_in_use) >= 2);
	CHECK_EQ(tangle_sem_available(&b.s), 4);
	CHECK_OK(tangle_sem_destroy(&b.s));
	return NULL;
}

static void test_permits_bounded_under_contention(void **state)
{
	(void)state;
	run_rt(2, 0, bounded_main, NULL);
}

/* ---- bad use and plain threads ----------------------------------------------------------------------- */

static void *errors_main(void *p)
{
	(void)p;
	tangle_sem s;
	CHECK_OK(tangle_sem_init(&s, 2, "errors"));
	CHECK_EQ(tangle_sem_acquire(&s, 0), TANGLE_EINVAL);
	CHECK_EQ(tangle_sem_acquire(&s, 3), TANGLE_EINVAL);
	CHECK_EQ(tangle_sem_try_acquire(&s, 0), TANGLE_EINVAL);
	CHECK_EQ(tangle_sem_try_acquire(&s, 3), TANGLE_EINVAL);
	CHECK_EQ(tangle_sem_release(&s, 1), TANGLE_EINVAL); /* above the total */
	CHECK_EQ(tangle_sem_release(&s, 0), TANGLE_EINVAL);
	CHECK_OK(tangle_sem_acquire(&s, 1));
	CHECK_EQ(tangle_sem_destroy(&s), TANGLE_EBUSY);
	CHECK_EQ(tangle_sem_release(&s, 2), TANGLE_EINVAL);
	CHECK_OK(tangle_sem_release(&s, 1));
	CHECK_OK(tangle_sem_destroy(&s));
	CHECK_EQ(tangle_sem_init(NULL, 1, "x"), TANGLE_EINVAL);
	CHECK_EQ(tangle_sem_acquire(NULL, 1), TANGLE_EINVAL);
	CHECK_EQ(tangle_sem_release(NULL, 1), TANGLE_EINVAL);
	CHECK_EQ(tangle_sem_available(NULL), 0);
	return NULL;
}

static void test_errors(void **state)
{
	(void)state;
	run_rt(1, 1, errors_main, NULL);
}

static _Atomic int thread_done;

static void *plain_releaser(void *p)
{
	struct timespec d = {0, 20 * 1000000};
	nanosleep(&d, NULL);
	tangle_sem_release(p, 1);
	atomic_store(&thread_done, 1);
	return NULL;
}

/* A plain thread may try_acquire and release; a waiting acquire is for
 * tasks. A release from a thread wakes a waiting task. */
static void *thread_wakes_main(void *p)
{
	tangle_sem *s = p;
	CHECK_OK(tangle_sem_acquire(s, 1)); /* released by the plain thread */
	CHECK_OK(tangle_sem_release(s, 1));
	while (!atomic_load(&thread_done)) /* it may still be waking us */
		tangle_sleep_ms(1);
	return NULL;
}

static void test_plain_threads(void **state)
{
	(void)state;
	tangle_sem s;
	assert_int_equal(tangle_sem_init(&s, 1, "plain"), TANGLE_OK);
	assert_int_equal(tangle_sem_acquire(&s, 1), TANGLE_ENOTASK);
	assert_int_equal(tangle_sem_try_acquire(&s, 1), TANGLE_OK);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, plain_releaser, &s), 0);
	run_rt(1, 1, thread_wakes_main, &s);
	pthread_join(th, NULL);
	assert_int_equal(tangle_sem_available(&s), 1);
	assert_int_equal(tangle_sem_destroy(&s), TANGLE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acquire_release),
		cmocka_unit_test(test_big_request_not_overtaken),
		cmocka_unit_test(test_fifo_order),
		cmocka_unit_test(test_head_timeout_serves_next),
		cmocka_unit_test(test_cancel_after_grant_passes_on),
		cmocka_unit_test(test_cancel_while_waiting),
		cmocka_unit_test(test_race_grant_vs_cancel_and_timeout),
		cmocka_unit_test(test_permits_bounded_under_contention),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_plain_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
