/*
 * test_notify.c — notify, as a specification.
 *
 * notify_one wakes the longest waiter, or stores one permit when nobody
 * waits; notify_all wakes every current waiter and stores nothing.
 */
#include "sync_helpers.h"

#include <pthread.h>

struct shared {
	tangle_notify n;
	char log[16];
	_Atomic int woke;
};

struct arg {
	struct shared *s;
	char name;
	int64_t timeout_ms;
};

static void *waiter(void *p)
{
	struct arg *a = p;
	int r = tangle_notify_wait_timeout(&a->s->n, a->timeout_ms);
	if (r == TANGLE_OK)
		a->s->log[atomic_fetch_add(&a->s->woke, 1)] = a->name;
	return INT_PTR(r);
}

static void *permit_main(void *p)
{
	(void)p;
	tangle_notify n;
	CHECK_OK(tangle_notify_init(&n, "permit"));
	/* Nobody waits: one permit is stored, however many notifies. */
	CHECK_OK(tangle_notify_one(&n));
	CHECK_OK(tangle_notify_one(&n));
	CHECK_OK(tangle_notify_wait(&n));
	CHECK_EQ(tangle_notify_wait_timeout(&n, 10), TANGLE_ETIMEDOUT);
	/* notify_all stores nothing. */
	CHECK_OK(tangle_notify_all(&n));
	CHECK_EQ(tangle_notify_wait_timeout(&n, 0), TANGLE_ETIMEDOUT);
	CHECK_OK(tangle_notify_destroy(&n));
	return NULL;
}

static void test_one_stores_a_permit(void **state)
{
	(void)state;
	run_rt(1, 1, permit_main, NULL);
}

static void *one_main(void *p)
{
	(void)p;
	struct shared s = {0};
	struct arg a[3];
	tangle_task *t[3];
	CHECK_OK(tangle_notify_init(&s.n, "one"));
	for (int i = 0; i < 3; i++) {
		a[i] = (struct arg){&s, (char)('a' + i), -1};
		t[i] = tangle_spawn("waiter", waiter, &a[i]);
		settle();
	}
	for (int i = 0; i < 3; i++) {
		CHECK_OK(tangle_notify_one(&s.n));
		settle();
		CHECK_EQ(s.woke, i + 1); /* exactly one more, in arrival order */
	}
	for (int i = 0; i < 3; i++)
		CHECK_EQ(join_int(t[i]), TANGLE_OK);
	CHECK(memcmp(s.log, "abc", 3) == 0);
	/* Every notify went to a waiter: no permit is left over. */
	CHECK_EQ(tangle_notify_wait_timeout(&s.n, 0), TANGLE_ETIMEDOUT);
	CHECK_OK(tangle_notify_destroy(&s.n));
	return NULL;
}

static void test_one_wakes_one_in_order(void **state)
{
	(void)state;
	run_rt(1, 1, one_main, NULL);
}

static void *all_main(void *p)
{
	(void)p;
	struct shared s = {0};
	struct arg a[4];
	tangle_task *t[4];
	CHECK_OK(tangle_notify_init(&s.n, "all"));
	for (int i = 0; i < 4; i++) {
		a[i] = (struct arg){&s, (char)('a' + i), -1};
		t[i] = tangle_spawn("waiter", waiter, &a[i]);
	}
	settle();
	CHECK_OK(tangle_notify_all(&s.n));
	for (int i = 0; i < 4; i++)
		CHECK_EQ(join_int(t[i]), TANGLE_OK);
	CHECK_EQ(s.woke, 4);
	CHECK_EQ(tangle_notify_wait_timeout(&s.n, 0), TANGLE_ETIMEDOUT);
	CHECK_OK(tangle_notify_destroy(&s.n));
	return NULL;
}

static void test_all_wakes_every_waiter(void **state)
{
	(void)state;
	run_rt(1, 1, all_main, NULL);
}

static void *timeout_cancel_main(void *p)
{
	(void)p;
	struct shared s = {0};
	CHECK_OK(tangle_notify_init(&s.n, "timeout"));
	struct arg a = {&s, 'a', 20}, b = {&s, 'b', -1};
	uint64_t t0 = now_ms();
	CHECK_EQ(join_int(tangle_spawn("timed", waiter, &a)), TANGLE_ETIMEDOUT);
	CHECK(now_ms() - t0 >= 15);
	tangle_task *tb = tangle_spawn("cancelled", waiter, &b);
	settle();
	CHECK_EQ(tangle_notify_destroy(&s.n), TANGLE_EBUSY);
	CHECK_OK(tangle_cancel(tb));
	CHECK_EQ(join_int(tb), TANGLE_ECANCELED);
	CHECK_OK(tangle_notify_destroy(&s.n));
	return NULL;
}

static void test_timeout_and_cancel(void **state)
{
	(void)state;
	run_rt(1, 1, timeout_cancel_main, NULL);
}

/* A waiter that notify_one chose, cancelled before it ran, passes the
 * notification on to the next waiter. */
static void *cancel_granted_main(void *p)
{
	(void)p;
	struct shared s = {0};
	CHECK_OK(tangle_notify_init(&s.n, "pass-on"));
	struct arg a = {&s, 'a', -1}, b = {&s, 'b', -1};
	tangle_task *ta = tangle_spawn("chosen", waiter, &a);
	settle();
	tangle_task *tb = tangle_spawn("next", waiter, &b);
	settle();
	CHECK_OK(tangle_notify_one(&s.n));
	CHECK_OK(tangle_cancel(ta));
	CHECK_EQ(join_int(ta), TANGLE_ECANCELED);
	CHECK_EQ(join_int(tb), TANGLE_OK);
	CHECK_EQ(s.woke, 1);
	CHECK_EQ(s.log[0], 'b');
	CHECK_OK(tangle_notify_destroy(&s.n));
	return NULL;
}

static void test_cancel_after_notify_passes_on(void **state)
{
	(void)state;
	run_rt(1, 1, cancel_granted_main, NULL);
}

/* notify_one races the cancellation of the waiter it picks (two workers,
 * many rounds): the notification reaches the waiter behind when the first
 * one is cancelled, and none is stored twice. */
static void *canceller(void *p)
{
	tangle_cancel(p);
	return NULL;
}

static void *race_main(void *p)
{
	(void)p;
	struct shared s = {0};
	int first_ok = 0;
	const int rounds = ROUNDS(1000);
	CHECK_OK(tangle_notify_init(&s.n, "race"));
	for (int round = 0; round < rounds; round++) {
		struct arg a = {&s, 'a', -1}, b = {&s, 'b', 5000};
		atomic_store(&s.woke, 0);
		tangle_task *ta = tangle_spawn("first", waiter, &a);
		for (int i = 0; i < round % 4; i++)
			tangle_yield();
		tangle_task *tb = tangle_spawn("second", waiter, &b);
		for (int i = 0; i < round % 16; i++)
			tangle_yield();
		tangle_task *tc = tangle_spawn("canceller", canceller, ta);
		CHECK_OK(tangle_notify_one(&s.n));
		int r = (int)join_int(ta);
		CHECK(r == TANGLE_OK || r == TANGLE_ECANCELED);
		if (r == TANGLE_OK) {
			first_ok++;
			CHECK_OK(tangle_notify_one(&s.n)); /* b's turn */
		}
		CHECK_EQ(join_int(tb), TANGLE_OK);
		join_int(tc);
		CHECK_EQ(atomic_load(&s.woke), r == TANGLE_OK ? 2 : 1);
		CHECK_EQ(tangle_notify_wait_timeout(&s.n, 0), TANGLE_ETIMEDOUT);
	}
	CHECK(first_ok <= rounds);
	CHECK_OK(tangle_notify_destroy(&s.n));
	return NULL;
}

static void test_race_notify_vs_cancel(void **state)
{
	(void)state;
	run_rt(2, 0, race_main, NULL);
}

/* Producer/consumer hand-shake over many rounds on two workers: every
 * notify_one is consumed exactly once. */
struct pingpong {
	tangle_notify ping, pong;
	long count;
};

static void *ponger(void *p)
{
	struct pingpong *pp = p;
	for (int i = 0; i < 5000; i++) {
		CHECK_OK(tangle_notify_wait(&pp->ping));
		pp->count++;
		CHECK_OK(tangle_notify_one(&pp->pong));
	}
	return NULL;
}

static void *pingpong_main(void *p)
{
	(void)p;
	struct pingpong pp = {0};
	CHECK_OK(tangle_notify_init(&pp.ping, "ping"));
	CHECK_OK(tangle_notify_init(&pp.pong, "pong"));
	tangle_task *t = tangle_spawn("ponger", ponger, &pp);
	for (int i = 0; i < 5000; i++) {
		CHECK_OK(tangle_notify_one(&pp.ping));
		CHECK_OK(tangle_notify_wait(&pp.pong));
		CHECK_EQ(pp.count, i + 1);
	}
	join_int(t);
	CHECK_OK(tangle_notify_destroy(&pp.ping));
	CHECK_OK(tangle_notify_destroy(&pp.pong));
	return NULL;
}

static void test_ping_pong(void **state)
{
	(void)state;
	run_rt(2, 0, pingpong_main, NULL);
}

static _Atomic int thread_done;

static void *plain_notifier(void *p)
{
	struct timespec d = {0, 20 * 1000000};
	nanosleep(&d, NULL);
	tangle_notify_one(p);
	atomic_store(&thread_done, 1);
	return NULL;
}

static void *thread_wakes_main(void *p)
{
	CHECK_OK(tangle_notify_wait(p));
	while (!atomic_load(&thread_done)) /* it may still be waking us */
		tangle_sleep_ms(1);
	return NULL;
}

/* Notifying is allowed from plain threads; waiting is for tasks. */
static void test_plain_threads(void **state)
{
	(void)state;
	tangle_notify n;
	assert_int_equal(tangle_notify_init(&n, "plain"), TANGLE_OK);
	assert_int_equal(tangle_notify_wait(&n), TANGLE_ENOTASK);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, plain_notifier, &n), 0);
	run_rt(1, 1, thread_wakes_main, &n);
	pthread_join(th, NULL);
	assert_int_equal(tangle_notify_destroy(&n), TANGLE_OK);
	assert_int_equal(tangle_notify_init(NULL, "x"), TANGLE_EINVAL);
	assert_int_equal(tangle_notify_one(NULL), TANGLE_EINVAL);
	assert_int_equal(tangle_notify_all(NULL), TANGLE_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_stores_a_permit),
		cmocka_unit_test(test_one_wakes_one_in_order),
		cmocka_unit_test(test_all_wakes_every_waiter),
		cmocka_unit_test(test_timeout_and_cancel),
		cmocka_unit_test(test_cancel_after_notify_passes_on),
		cmocka_unit_test(test_race_notify_vs_cancel),
		cmocka_unit_test(test_ping_pong),
		cmocka_unit_test(test_plain_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
