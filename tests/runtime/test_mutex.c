/*
 * test_mutex.c — the async mutex, as a specification.
 *
 * Ordering, hand-off, timeouts, cancellation and their races with a
 * hand-off, and bad use. Ordering tests use the single-threaded flavour,
 * where queued tasks run in order; races use two workers.
 */
#include "sync_helpers.h"

#include <stdlib.h>

struct shared {
	tangle_mutex m;
	int order[16];
	_Atomic int n;
	_Atomic int got;
	long counter;
};

struct arg {
	struct shared *s;
	int i;
	int64_t timeout_ms;
};

/* Lock, note the arrival, unlock; returns the lock's result. */
static void *locker(void *p)
{
	struct arg *a = p;
	int r = tangle_mutex_lock_timeout(&a->s->m, a->timeout_ms);
	if (r == TANGLE_OK) {
		int k = atomic_fetch_add(&a->s->n, 1);
		if (k < 16)
			a->s->order[k] = a->i;
		atomic_fetch_add(&a->s->got, 1);
		CHECK_OK(tangle_mutex_unlock(&a->s->m));
	}
	return INT_PTR(r);
}

/* ---- basics ---------------------------------------------------------------- */

static void *basics_main(void *p)
{
	(void)p;
	tangle_mutex m;
	CHECK_OK(tangle_mutex_init(&m, "basics"));
	CHECK_OK(tangle_mutex_lock(&m));
	CHECK_EQ(tangle_mutex_try_lock(&m), TANGLE_EAGAIN);
	CHECK_EQ(tangle_mutex_lock_timeout(&m, 0), TANGLE_ETIMEDOUT);
	CHECK_OK(tangle_mutex_unlock(&m));
	CHECK_EQ(tangle_mutex_unlock(&m), TANGLE_ENOTOWNER);
	CHECK_OK(tangle_mutex_try_lock(&m));
	CHECK_OK(tangle_mutex_unlock(&m));
	CHECK_OK(tangle_mutex_lock_timeout(&m, 0));
	CHECK_OK(tangle_mutex_unlock(&m));
	CHECK_OK(tangle_mutex_destroy(&m));
	return NULL;
}

static void test_lock_unlock_try(void **state)
{
	(void)state;
	run_rt(1, 1, basics_main, NULL);
}

/* ---- FIFO hand-off ------------------------------------------------------------ */

static void *fifo_main(void *p)
{
	(void)p;
	struct shared s = {0};
	struct arg a[6];
	tangle_task *t[6];
	CHECK_OK(tangle_mutex_init(&s.m, "fifo"));
	CHECK_OK(tangle_mutex_lock(&s.m));
	for (int i = 0; i < 6; i++) {
		a[i] = (struct arg){&s, i, -1};
		t[i] = tangle_spawn("locker", locker, &a[i]);
		settle(); /* it queues before the next one arrives */
	}
	CHECK_EQ(atomic_load(&s.got), 0);
	CHECK_OK(tangle_mutex_unlock(&s.m));
	/* Handed to the first waiter, which has not run yet: no barging. */
	CHECK_EQ(tangle_mutex_try_lock(&s.m), TANGLE_EAGAIN);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(join_int(t[i]), TANGLE_OK);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(s.order[i], i);
	CHECK_OK(tangle_mutex_destroy(&s.m));
	return NULL;
}

static void test_fifo_hand_off(void **state)
{
	(void)state;
	run_rt(1, 1, fifo_main, NULL);
}

/* ---- timeouts ---------------------------------------------------------------------- */

static void *timeout_main(void *p)
{
	(void)p;
	struct shared s = {0};
	CHECK_OK(tangle_mutex_init(&s.m, "timeout"));
	CHECK_OK(tangle_mutex_lock(&s.m));
	struct arg a = {&s, 0, 30};
	uint64_t t0 = now_ms();
	tangle_task *t = tangle_spawn("waiter", locker, &a);
	CHECK_EQ(join_int(t), TANGLE_ETIMEDOUT);
	CHECK(now_ms() - t0 >= 25);
	/* The waiter left the queue: nothing is handed to it. */
	CHECK_OK(tangle_mutex_unlock(&s.m));
	CHECK_OK(tangle_mutex_try_lock(&s.m));
	CHECK_OK(tangle_mutex_unlock(&s.m));
	CHECK_OK(tangle_mutex_destroy(&s.m));
	return NULL;
}

static void test_lock_timeout(void **state)
{
	(void)state;
	run_rt(1, 1, timeout_main, NULL);
}

/* The hand-off comes after the waiter's deadline but before it runs: it
 * must pass the mutex on and report the timeout. */
static void *late_grant_main(void *p)
{
	(void)p;
	struct shared s = {0};
	CHECK_OK(tangle_mutex_init(&s.m, "late"));
	CHECK_OK(tangle_mutex_lock(&s.m));
	struct arg a0 = {&s, 0, 20}, a1 = {&s, 1, -1};
	tangle_task *t0 = tangle_spawn("late", locker, &a0);
	settle();
	tangle_task *t1 = tangle_spawn("next", locker, &a1);
	settle();
	uint64_t start = now_ms();
	while (now_ms() - start < 40) /* block the only worker past the deadline */
		;
	CHECK_OK(tangle_mutex_unlock(&s.m));
	CHECK_EQ(join_int(t0), TANGLE_ETIMEDOUT);
	CHECK_EQ(join_int(t1), TANGLE_OK);
	CHECK_EQ(atomic_load(&s.got), 1);
	CHECK_EQ(s.order[0], 1);
	CHECK_OK(tangle_mutex_try_lock(&s.m));
	CHECK_OK(tangle_mutex_unlock(&s.m));
	CHECK_OK(tangle_mutex_destroy(&s.m));
	return NULL;
}

static void test_late_grant_is_passed_on(void **state)
{
	(void)state;
	run_rt(1, 1, late_grant_main, NULL);
}

/* ---- cancellation --------------------------------------------------------------- */

static void *cancel_waiting_main(void *p)
{
	(void)p;
	struct shared s = {0};
	CHECK_OK(tangle_mutex_init(&s.m, "cancel"));
	CHECK_OK(tangle_mutex_lock(&s.m));
	struct arg a = {&s, 0, -1};
	tangle_task *t = tangle_spawn("waiter", locker, &a);
	settle();
	CHECK_OK(tangle_cancel(t));
	CHECK_EQ(join_int(t), TANGLE_ECANCELED);
	/* It left the queue, so the mutex is not handed to it. */
	CHECK_OK(tangle_mutex_unlock(&s.m));
	CHECK_OK(tangle_mutex_try_lock(&s.m));
	CHECK_OK(tangle_mutex_unlock(&s.m));
	CHECK_OK(tangle_mutex_destroy(&s.m));
	return NULL;
}

static void test_cancel_while_waiting(void **state)
{
	(void)state;
	run_rt(1, 1, cancel_waiting_main, NULL);
}

/* Cancelled after the mutex was handed to it but before it ran: it passes
 * the mutex to the next waiter and returns ECANCELED. */
static void *cancel_after_grant_main(void *p)
{
	(void)p;
	struct shared s = {0};
	CHECK_OK(tangle_mutex_init(&s.m, "cancel-granted"));
	CHECK_OK(tangle_mutex_lock(&s.m));
	struct arg a0 = {&s, 0, -1}, a1 = {&s, 1, -1};
	tangle_task *t0 = tangle_spawn("granted", locker, &a0);
	settle();
	tangle_task *t1 = tangle_spawn("next", locker, &a1);
	settle();
	CHECK_OK(tangle_mutex_unlock(&s.m)); /* handed to t0 */
	CHECK_OK(tangle_cancel(t0));
	CHECK_EQ(join_int(t0), TANGLE_ECANCELED);
	CHECK_EQ(join_int(t1), TANGLE_OK);
	CHECK_EQ(atomic_load(&s.got), 1);
	CHECK_EQ(s.order[0], 1);
	CHECK_OK(tangle_mutex_destroy(&s.m));
	return NULL;
}

static void test_cancel_after_grant_passes_on(void **state)
{
	(void)state;
	run_rt(1, 1, cancel_after_grant_main, NULL);
}

/* A cancelled task's later waits fail, even on a free mutex. */
static void *cancel_self(void *p)
{
	tangle_mutex *m = p;
	tangle_cancel(tangle_task_current());
	return INT_PTR(tangle_mutex_lock(m));
}

static void *cancelled_later_main(void *p)
{
	(void)p;
	tangle_mutex m;
	CHECK_OK(tangle_mutex_init(&m, "later"));
	CHECK_EQ(join_int(tangle_spawn("self", cancel_self, &m)), TANGLE_ECANCELED);
	CHECK_OK(tangle_mutex_try_lock(&m));
	CHECK_OK(tangle_mutex_unlock(&m));
	CHECK_OK(tangle_mutex_destroy(&m));
	return NULL;
}

static void test_cancelled_task_cannot_lock(void **state)
{
	(void)state;
	run_rt(1, 1, cancelled_later_main, NULL);
}

/* ---- races: hand-off against cancellation and timeout ------------------------------ */

#define RACE_ROUNDS ROUNDS(2000)

static void *canceller(void *p)
{
	tangle_cancel(p);
	return NULL;
}

static void *race_cancel_main(void *p)
{
	(void)p;
	struct shared s = {0};
	int ok = 0, cancelled = 0;
	CHECK_OK(tangle_mutex_init(&s.m, "race-cancel"));
	for (int round = 0; round < RACE_ROUNDS; round++) {
		CHECK_OK(tangle_mutex_lock(&s.m));
		struct arg a0 = {&s, 0, -1}, a1 = {&s, 1, 5000};
		tangle_task *t0 = tangle_spawn("victim", locker, &a0);
		tangle_task *t1 = tangle_spawn("behind", locker, &a1);
		for (int i = 0; i < round % 64; i++)
			tangle_yield();
		tangle_task *c = tangle_spawn("canceller", canceller, t0);
		CHECK_OK(tangle_mutex_unlock(&s.m));
		int r = (int)join_int(t0);
		CHECK(r == TANGLE_OK || r == TANGLE_ECANCELED);
		ok += r == TANGLE_OK;
		cancelled += r == TANGLE_ECANCELED;
		CHECK_EQ(join_int(t1), TANGLE_OK); /* never lost */
		join_int(c);
		/* Free again: not granted twice, not left held. */
		CHECK_OK(tangle_mutex_try_lock(&s.m));
		CHECK_OK(tangle_mutex_unlock(&s.m));
	}
	CHECK_EQ(ok + cancelled, RACE_ROUNDS);
	CHECK_EQ(atomic_load(&s.got), ok + RACE_ROUNDS);
	CHECK_OK(tangle_mutex_destroy(&s.m));
	return NULL;
}

static void test_race_grant_vs_cancel(void **state)
{
	(void)state;
	run_rt(2, 0, race_cancel_main, NULL);
}

/* A wake-up that does not end the wait, racing the hand-off that does: the
 * waiter, resumed for nothing, looks at its wait again and sleeps, while
 * the releaser grants it and finds it runnable. The grant's wake must not
 * be lost between the two (a lost one hangs this test). */
struct spurious {
	tangle_mutex m;
	_Atomic(tangle_waker *) waker;
	_Atomic int got;
};

static void *spurious_locker(void *p)
{
	struct spurious *s = p;
	atomic_store(&s->waker, tangle_waker_current());
	CHECK_OK(tangle_mutex_lock(&s->m));
	atomic_fetch_add(&s->got, 1);
	CHECK_OK(tangle_mutex_unlock(&s->m));
	return NULL;
}

static void *spurious_waker(void *p)
{
	struct spurious *s = p;
	tangle_waker *w;
	while (!(w = atomic_exchange(&s->waker, NULL)))
		tangle_yield();
	tangle_waker_wake(w);
	tangle_waker_drop(w);
	return NULL;
}

static void *race_spurious_main(void *p)
{
	(void)p;
	struct spurious s = {.waker = NULL};
	CHECK_OK(tangle_mutex_init(&s.m, "race-spurious"));
	for (int round = 0; round < RACE_ROUNDS; round++) {
		CHECK_OK(tangle_mutex_lock(&s.m));
		tangle_task *l = tangle_spawn("locker", spurious_locker, &s);
		tangle_task *w = tangle_spawn("waker", spurious_waker, &s);
		for (int i = 0; i < round % 16; i++)
			tangle_yield();
		CHECK_OK(tangle_mutex_unlock(&s.m));
		join_int(l);
		join_int(w);
		CHECK_EQ(atomic_load(&s.got), round + 1);
	}
	CHECK_OK(tangle_mutex_destroy(&s.m));
	return NULL;
}

static void test_race_grant_vs_spurious_wake(void **state)
{
	(void)state;
	run_rt(2, 0, race_spurious_main, NULL);
}

static void *race_timeout_main(void *p)
{
	(void)p;
	struct shared s = {0};
	int ok = 0, timedout = 0;
	const int rounds = ROUNDS(200);
	CHECK_OK(tangle_mutex_init(&s.m, "race-timeout"));
	for (int round = 0; round < rounds; round++) {
		CHECK_OK(tangle_mutex_lock(&s.m));
		struct arg a0 = {&s, 0, 1}, a1 = {&s, 1, 5000};
		tangle_task *t0 = tangle_spawn("victim", locker, &a0);
		tangle_task *t1 = tangle_spawn("behind", locker, &a1);
		/* Unlock around the victim's 1 ms deadline. */
		struct timespec d = {0, 600000 + (round % 16) * 50000};
		nanosleep(&d, NULL);
		CHECK_OK(tangle_mutex_unlock(&s.m));
		int r = (int)join_int(t0);
		CHECK(r == TANGLE_OK || r == TANGLE_ETIMEDOUT);
		ok += r == TANGLE_OK;
		timedout += r == TANGLE_ETIMEDOUT;
		CHECK_EQ(join_int(t1), TANGLE_OK);
		CHECK_OK(tangle_mutex_try_lock(&s.m));
		CHECK_OK(tangle_mutex_unlock(&s.m));
	}
	CHECK_EQ(ok + timedout, rounds);
	CHECK_EQ(atomic_load(&s.got), ok + rounds);
	CHECK_OK(tangle_mutex_destroy(&s.m));
	return NULL;
}

static void test_race_grant_vs_timeout(void **state)
{
	(void)state;
	run_rt(2, 0, race_timeout_main, NULL);
}

/* ---- mutual exclusion under contention -------------------------------------------- */

#define CONTENDERS 8
#define INCREMENTS 3000

static void *incrementer(void *p)
{
	struct shared *s = p;
	for (int i = 0; i < INCREMENTS; i++) {
		CHECK_OK(tangle_mutex_lock(&s->m));
		long v = s->counter;
		if (i % 7 == 0)
			tangle_yield(); /* hold it across a switch now and then */
		s->counter = v + 1;
		CHECK_OK(tangle_mutex_unlock(&s->m));
	}
	return NULL;
}

static void *contended_main(void *p)
{
	(void)p;
	struct shared s = {0};
	tangle_task *t[CONTENDERS];
	CHECK_OK(tangle_mutex_init(&s.m, "counter"));
	for (int i = 0; i < CONTENDERS; i++)
		t[i] = tangle_spawn("inc", incrementer, &s);
	for (int i = 0; i < CONTENDERS; i++)
		join_int(t[i]);
	CHECK_EQ(s.counter, (long)CONTENDERS * INCREMENTS);
	CHECK_OK(tangle_mutex_destroy(&s.m));
	return NULL;
}

static void test_mutual_exclusion(void **state)
{
	(void)state;
	run_rt(2, 0, contended_main, NULL);
}

/* ---- bad use ------------------------------------------------------------------------ */

static void *unlock_other(void *p)
{
	return INT_PTR(tangle_mutex_unlock(p));
}

static void *errors_main(void *p)
{
	(void)p;
	tangle_mutex m;
	CHECK_OK(tangle_mutex_init(&m, "errors"));
	CHECK_OK(tangle_mutex_lock(&m));
	/* Another task cannot unlock it. */
	CHECK_EQ(join_int(tangle_spawn("other", unlock_other, &m)),
	         TANGLE_ENOTOWNER);
	/* Not reentrant: a second lock by the owner waits (here, times out). */
	CHECK_EQ(tangle_mutex_lock_timeout(&m, 20), TANGLE_ETIMEDOUT);
	CHECK_EQ(tangle_mutex_destroy(&m), TANGLE_EBUSY);
	CHECK_OK(tangle_mutex_unlock(&m));
	CHECK_OK(tangle_mutex_destroy(&m));

	CHECK_EQ(tangle_mutex_init(NULL, "x"), TANGLE_EINVAL);
	CHECK_EQ(tangle_mutex_lock(NULL), TANGLE_EINVAL);
	CHECK_EQ(tangle_mutex_try_lock(NULL), TANGLE_EINVAL);
	CHECK_EQ(tangle_mutex_unlock(NULL), TANGLE_EINVAL);
	CHECK_EQ(tangle_mutex_destroy(NULL), TANGLE_EINVAL);
	return NULL;
}

static void test_errors(void **state)
{
	(void)state;
	run_rt(1, 1, errors_main, NULL);
}

struct held {
	tangle_mutex m;
	_Atomic int release;
};

/* Lock, then hold the mutex until told to let go. */
static void *holder(void *p)
{
	struct held *h = p;
	int r = tangle_mutex_lock(&h->m);
	while (!atomic_load(&h->release))
		tangle_yield();
	if (r == TANGLE_OK)
		CHECK_OK(tangle_mutex_unlock(&h->m));
	return INT_PTR(r);
}

static void *destroy_waited_main(void *p)
{
	(void)p;
	struct held h = {0};
	CHECK_OK(tangle_mutex_init(&h.m, "waited"));
	CHECK_OK(tangle_mutex_lock(&h.m));
	tangle_task *t = tangle_spawn("waiter", holder, &h);
	settle();
	CHECK_EQ(tangle_mutex_destroy(&h.m), TANGLE_EBUSY); /* held, waited on */
	CHECK_OK(tangle_mutex_unlock(&h.m)); /* handed to the waiter */
	CHECK_EQ(tangle_mutex_destroy(&h.m), TANGLE_EBUSY);
	settle();
	CHECK_EQ(tangle_mutex_destroy(&h.m), TANGLE_EBUSY); /* it holds it */
	atomic_store(&h.release, 1);
	CHECK_EQ(join_int(t), TANGLE_OK);
	CHECK_OK(tangle_mutex_destroy(&h.m));
	return NULL;
}

static void test_destroy_busy(void **state)
{
	(void)state;
	run_rt(1, 1, destroy_waited_main, NULL);
}

static void test_outside_task(void **state)
{
	(void)state;
	tangle_mutex m;
	assert_int_equal(tangle_mutex_init(&m, "plain"), TANGLE_OK);
	assert_int_equal(tangle_mutex_lock(&m), TANGLE_ENOTASK);
	assert_int_equal(tangle_mutex_try_lock(&m), TANGLE_ENOTASK);
	assert_int_equal(tangle_mutex_unlock(&m), TANGLE_ENOTASK);
	assert_int_equal(tangle_mutex_destroy(&m), TANGLE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_unlock_try),
		cmocka_unit_test(test_fifo_hand_off),
		cmocka_unit_test(test_lock_timeout),
		cmocka_unit_test(test_late_grant_is_passed_on),
		cmocka_unit_test(test_cancel_while_waiting),
		cmocka_unit_test(test_cancel_after_grant_passes_on),
		cmocka_unit_test(test_cancelled_task_cannot_lock),
		cmocka_unit_test(test_race_grant_vs_cancel),
		cmocka_unit_test(test_race_grant_vs_spurious_wake),
		cmocka_unit_test(test_race_grant_vs_timeout),
		cmocka_unit_test(test_mutual_exclusion),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_destroy_busy),
		cmocka_unit_test(test_outside_task),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
