/*
 * test_chan.c — channels, as a specification.
 *
 * FIFO values, bounded and unbounded buffers, blocking and direct
 * hand-off, close (senders fail at once, receivers drain first), timeouts,
 * cancellation, exact delivery with many producers and consumers, the
 * try_ calls from plain threads, and bad use.
 */
#include "sync_helpers.h"

#include <errno.h>
#include <pthread.h>

struct msg {
	uint32_t from;
	uint32_t seq;
	uint64_t pad[2];      /* values wider than a word are copied whole */
};

/* ---- basics ------------------------------------------------------------------------- */

static void *fifo_main(void *p)
{
	(void)p;
	tangle_chan *ch = tangle_chan_new(sizeof(int), 4, "fifo");
	CHECK(ch != NULL);
	for (int i = 0; i < 4; i++)
		CHECK_OK(tangle_chan_send(ch, &i));
	CHECK_EQ(tangle_chan_len(ch), 4);
	int v = 99;
	CHECK_EQ(tangle_chan_try_send(ch, &v), TANGLE_EAGAIN);
	CHECK_EQ(tangle_chan_send_timeout(ch, &v, 0), TANGLE_ETIMEDOUT);
	for (int i = 0; i < 4; i++) {
		CHECK_OK(tangle_chan_recv(ch, &v));
		CHECK_EQ(v, i);
	}
	CHECK_EQ(tangle_chan_try_recv(ch, &v), TANGLE_EAGAIN);
	CHECK_EQ(tangle_chan_recv_timeout(ch, &v, 0), TANGLE_ETIMEDOUT);
	/* Wrap around the ring a few times. */
	for (int i = 0; i < 100; i++) {
		CHECK_OK(tangle_chan_try_send(ch, &i));
		if (i % 3 == 2)
			for (int k = 0; k < 3; k++)
				CHECK_OK(tangle_chan_try_recv(ch, &v));
	}
	CHECK_EQ(tangle_chan_len(ch), 1);
	CHECK_OK(tangle_chan_recv(ch, &v));
	CHECK_EQ(v, 99);
	CHECK_OK(tangle_chan_free(ch));
	return NULL;
}

static void test_bounded_fifo(void **state)
{
	(void)state;
	run_rt(1, 1, fifo_main, NULL);
}

static void *unbounded_main(void *p)
{
	(void)p;
	tangle_chan *ch = tangle_chan_new(sizeof(struct msg), TANGLE_CHAN_UNBOUNDED,
	                                  "unbounded");
	CHECK(ch != NULL);
	struct msg m = {0};
	for (uint32_t i = 0; i < 10000; i++) {
		m.seq = i;
		m.pad[1] = i * 3u;
		CHECK_OK(tangle_chan_send(ch, &m));
		if (i % 10 == 9) { /* take some out, so the ring wraps as it grows */
			CHECK_OK(tangle_chan_recv(ch, &m));
		}
	}
	CHECK_EQ(tangle_chan_len(ch), 9000);
	for (uint32_t i = 1000; i < 10000; i++) {
		CHECK_OK(tangle_chan_recv(ch, &m));
		CHECK_EQ(m.seq, i);
		CHECK_EQ(m.pad[1], i * 3u);
	}
	CHECK_OK(tangle_chan_free(ch));
	return NULL;
}

static void test_unbounded_grows_in_order(void **state)
{
	(void)state;
	run_rt(1, 1, unbounded_main, NULL);
}

/* ---- blocking -------------------------------------------------------------------------- */

struct op_arg {
	tangle_chan *ch;
	int value;
	int64_t timeout_ms;
};

static void *receiver(void *p)
{
	struct op_arg *a = p;
	int r = tangle_chan_recv_timeout(a->ch, &a->value, a->timeout_ms);
	return INT_PTR(r);
}

static void *sender(void *p)
{
	struct op_arg *a = p;
	return INT_PTR(tangle_chan_send_timeout(a->ch, &a->value, a->timeout_ms));
}

static void *blocking_main(void *p)
{
	(void)p;
	tangle_chan *ch = tangle_chan_new(sizeof(int), 1, "blocking");
	/* Receivers wait on an empty channel; each send goes to the longest
	 * waiting receiver directly. */
	struct op_arg r[3];
	tangle_task *t[3];
	for (int i = 0; i < 3; i++) {
		r[i] = (struct op_arg){ch, -1, -1};
		t[i] = tangle_spawn("receiver", receiver, &r[i]);
		settle();
	}
	for (int i = 0; i < 3; i++) {
		int v = 10 + i;
		CHECK_OK(tangle_chan_send(ch, &v));
	}
	CHECK_EQ(tangle_chan_len(ch), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(join_int(t[i]), TANGLE_OK);
		CHECK_EQ(r[i].value, 10 + i);
	}
	/* Senders wait on a full channel, and are let in in order. */
	int v = 0;
	CHECK_OK(tangle_chan_send(ch, &v));
	struct op_arg s[3];
	for (int i = 0; i < 3; i++) {
		s[i] = (struct op_arg){ch, i + 1, -1};
		t[i] = tangle_spawn("sender", sender, &s[i]);
		settle();
	}
	for (int i = 0; i < 4; i++) {
		CHECK_OK(tangle_chan_recv(ch, &v));
		CHECK_EQ(v, i);
	}
	for (int i = 0; i < 3; i++)
		CHECK_EQ(join_int(t[i]), TANGLE_OK);
	CHECK_OK(tangle_chan_free(ch));
	return NULL;
}

static void test_blocking_send_recv_in_order(void **state)
{
	(void)state;
	run_rt(1, 1, blocking_main, NULL);
}

/* ---- close ------------------------------------------------------------------------------- */

static void *close_senders_main(void *p)
{
	(void)p;
	tangle_chan *ch = tangle_chan_new(sizeof(int), 2, "close");
	int v = 1;
	CHECK_OK(tangle_chan_send(ch, &v));
	v = 2;
	CHECK_OK(tangle_chan_send(ch, &v));
	struct op_arg s = {ch, 3, -1};
	tangle_task *t = tangle_spawn("blocked sender", sender, &s);
	settle();
	CHECK_OK(tangle_chan_close(ch));
	CHECK_EQ(join_int(t), TANGLE_ECLOSED);       /* a waiting sender fails */
	CHECK_EQ(tangle_chan_send(ch, &v), TANGLE_ECLOSED); /* so does a new one */
	CHECK_EQ(tangle_chan_try_send(ch, &v), TANGLE_ECLOSED);
	CHECK_EQ(tangle_chan_close(ch), TANGLE_ECLOSED);
	/* Receivers drain what was buffered, then get ECLOSED. */
	CHECK_EQ(tangle_chan_len(ch), 2);
	CHECK_OK(tangle_chan_recv(ch, &v));
	CHECK_EQ(v, 1);
	CHECK_OK(tangle_chan_try_recv(ch, &v));
	CHECK_EQ(v, 2);
	CHECK_EQ(tangle_chan_recv(ch, &v), TANGLE_ECLOSED);
	CHECK_EQ(tangle_chan_try_recv(ch, &v), TANGLE_ECLOSED);
	CHECK_OK(tangle_chan_free(ch));
	return NULL;
}

static void test_close_fails_senders_and_drains(void **state)
{
	(void)state;
	run_rt(1, 1, close_senders_main, NULL);
}

static void *close_receivers_main(void *p)
{
	(void)p;
	tangle_chan *ch = tangle_chan_new(sizeof(int), TANGLE_CHAN_UNBOUNDED, "close");
	struct op_arg r[2] = {{ch, 0, -1}, {ch, 0, -1}};
	tangle_task *t0 = tangle_spawn("receiver", receiver, &r[0]);
	tangle_task *t1 = tangle_spawn("receiver", receiver, &r[1]);
	settle();
	CHECK_OK(tangle_chan_close(ch));
	CHECK_EQ(join_int(t0), TANGLE_ECLOSED);
	CHECK_EQ(join_int(t1), TANGLE_ECLOSED);
	CHECK_OK(tangle_chan_free(ch));
	return NULL;
}

static void test_close_wakes_waiting_receivers(void **state)
{
	(void)state;
	run_rt(1, 1, close_receivers_main, NULL);
}

/* ---- timeouts and cancellation ----------------------------------------------------------------- */

static void *timeout_cancel_main(void *p)
{
	(void)p;
	tangle_chan *ch = tangle_chan_new(sizeof(int), 1, "timeouts");
	int v = 0;
	uint64_t t0 = now_ms();
	CHECK_EQ(tangle_chan_recv_timeout(ch, &v, 20), TANGLE_ETIMEDOUT);
	CHECK(now_ms() - t0 >= 15);
	CHECK_OK(tangle_chan_send(ch, &v));
	CHECK_EQ(tangle_chan_send_timeout(ch, &v, 20), TANGLE_ETIMEDOUT);
	CHECK_EQ(tangle_chan_len(ch), 1);

	struct op_arg s = {ch, 7, -1};
	tangle_task *t = tangle_spawn("sender", sender, &s);
	settle();
	CHECK_EQ(tangle_chan_free(ch), TANGLE_EBUSY); /* a sender waits on it */
	CHECK_OK(tangle_cancel(t));
	CHECK_EQ(join_int(t), TANGLE_ECANCELED);
	CHECK_OK(tangle_chan_recv(ch, &v));
	CHECK_EQ(v, 0);
	/* The cancelled send left nothing behind. */
	CHECK_EQ(tangle_chan_try_recv(ch, &v), TANGLE_EAGAIN);

	struct op_arg r = {ch, 0, -1};
	t = tangle_spawn("receiver", receiver, &r);
	settle();
	CHECK_OK(tangle_cancel(t));
	CHECK_EQ(join_int(t), TANGLE_ECANCELED);
	v = 5;
	CHECK_OK(tangle_chan_send(ch, &v)); /* buffered, not given to it */
	CHECK_EQ(tangle_chan_len(ch), 1);
	CHECK_OK(tangle_chan_free(ch));
	return NULL;
}

static void test_timeouts_and_cancel(void **state)
{
	(void)state;
	run_rt(1, 1, timeout_cancel_main, NULL);
}

/* Receivers with short deadlines race senders: every value sent is
 * received exactly once, by a receive that reported OK. */
#define RACE_VALUES 3000

struct race {
	tangle_chan *ch;
	_Atomic long received_sum;
	_Atomic int received;
	_Atomic int senders_done;
};

static void *race_receiver(void *p)
{
	struct race *r = p;
	for (;;) {
		int v;
		int e = tangle_chan_recv_timeout(r->ch, &v, 1);
		if (e == TANGLE_OK) {
			atomic_fetch_add(&r->received_sum, v);
			atomic_fetch_add(&r->received, 1);
		} else if (e == TANGLE_ECLOSED) {
			return NULL;
		} else {
			CHECK_EQ(e, TANGLE_ETIMEDOUT);
		}
	}
}

static void *race_sender(void *p)
{
	struct race *r = p;
	for (int i = 1; i <= RACE_VALUES; i++) {
		CHECK_OK(tangle_chan_send(r->ch, &i));
		if (i % 97 == 0) {
			struct timespec d = {0, 900000};
			nanosleep(&d, NULL); /* let deadlines expire meanwhile */
		}
	}
	return NULL;
}

static void *race_main(void *p)
{
	(void)p;
	struct race r = {.ch = tangle_chan_new(sizeof(int), 1, "race")};
	tangle_task *rx[3], *tx[2];
	for (int i = 0; i < 3; i++)
		rx[i] = tangle_spawn("rx", race_receiver, &r);
	for (int i = 0; i < 2; i++)
		tx[i] = tangle_spawn("tx", race_sender, &r);
	for (int i = 0; i < 2; i++)
		join_int(tx[i]);
	CHECK_OK(tangle_chan_close(r.ch));
	for (int i = 0; i < 3; i++)
		join_int(rx[i]);
	CHECK_EQ(atomic_load(&r.received), 2 * RACE_VALUES);
	CHECK_EQ(atomic_load(&r.received_sum),
	         2L * RACE_VALUES * (RACE_VALUES + 1) / 2);
	CHECK_OK(tangle_chan_free(r.ch));
	return NULL;
}

static void test_race_recv_timeout_vs_send(void **state)
{
	(void)state;
	run_rt(2, 0, race_main, NULL);
}

/* ---- many producers, many consumers ---------------------------------------------------------------- */

#define PRODUCERS 4
#define CONSUMERS 3
#define PER_PRODUCER 5000

struct mpmc {
	tangle_chan *ch;
	_Atomic int seen[PRODUCERS][PER_PRODUCER];
	_Atomic int out_of_order;
};

static void *producer(void *p)
{
	struct mpmc *x = p;
	static _Atomic uint32_t next_id;
	uint32_t id = atomic_fetch_add(&next_id, 1) % PRODUCERS;
	struct msg m = {.from = id};
	for (uint32_t i = 0; i < PER_PRODUCER; i++) {
		m.seq = i;
		m.pad[0] = ~(uint64_t)i;
		CHECK_OK(tangle_chan_send(x->ch, &m));
	}
	return NULL;
}

static void *consumer(void *p)
{
	struct mpmc *x = p;
	uint32_t last[PRODUCERS];
	memset(last, 0xff, sizeof last);
	struct msg m;
	while (tangle_chan_recv(x->ch, &m) == TANGLE_OK) {
		CHECK(m.from < PRODUCERS && m.seq < PER_PRODUCER);
		CHECK_EQ(m.pad[0], ~(uint64_t)m.seq);
		atomic_fetch_add(&x->seen[m.from][m.seq], 1);
		/* One consumer sees each producer's values in order. */
		if (last[m.from] != UINT32_MAX && m.seq <= last[m.from])
			atomic_fetch_add(&x->out_of_order, 1);
		last[m.from] = m.seq;
	}
	return NULL;
}

static void mpmc_run(size_t capacity)
{
	static struct mpmc x;
	memset(&x, 0, sizeof x);
	x.ch = tangle_chan_new(sizeof(struct msg), capacity, "mpmc");
	tangle_task *c[CONSUMERS], *pr[PRODUCERS];
	for (int i = 0; i < CONSUMERS; i++)
		c[i] = tangle_spawn("consumer", consumer, &x);
	for (int i = 0; i < PRODUCERS; i++)
		pr[i] = tangle_spawn("producer", producer, &x);
	for (int i = 0; i < PRODUCERS; i++)
		join_int(pr[i]);
	CHECK_OK(tangle_chan_close(x.ch));
	for (int i = 0; i < CONSUMERS; i++)
		join_int(c[i]);
	int missing = 0, dup = 0;
	for (int i = 0; i < PRODUCERS; i++)
		for (int k = 0; k < PER_PRODUCER; k++) {
			missing += atomic_load(&x.seen[i][k]) == 0;
			dup += atomic_load(&x.seen[i][k]) > 1;
		}
	CHECK_EQ(missing, 0);
	CHECK_EQ(dup, 0);
	CHECK_EQ(atomic_load(&x.out_of_order), 0);
	CHECK_OK(tangle_chan_free(x.ch));
}

static void *mpmc_main(void *p)
{
	mpmc_run((size_t)(uintptr_t)p);
	return NULL;
}

static void test_mpmc_exactly_once_bounded(void **state)
{
	(void)state;
	run_rt(2, 0, mpmc_main, (void *)(uintptr_t)3);
}

static void test_mpmc_exactly_once_unbounded(void **state)
{
	(void)state;
	run_rt(2, 0, mpmc_main, (void *)(uintptr_t)TANGLE_CHAN_UNBOUNDED);
}

/* ---- plain threads and bad use ---------------------------------------------------------------------- */

static _Atomic int producer_done;

static void *thread_producer(void *p)
{
	tangle_chan *ch = p;
	for (int i = 0; i < 1000; i++)
		while (tangle_chan_try_send(ch, &i) == TANGLE_EAGAIN)
			sched_yield();
	atomic_store(&producer_done, 1);
	return NULL;
}

static void *thread_consumer_main(void *p)
{
	tangle_chan *ch = p;
	for (int i = 0; i < 1000; i++) {
		int v;
		CHECK_OK(tangle_chan_recv(ch, &v));
		CHECK_EQ(v, i);
	}
	/* The thread may still be inside its last try_send (waking us): the
	 * runtime must outlive that. */
	while (!atomic_load(&producer_done))
		tangle_sleep_ms(1);
	return NULL;
}

/* try_send / try_recv work from plain threads, and wake waiting tasks;
 * the waiting calls are for tasks. */
static void test_plain_threads(void **state)
{
	(void)state;
	tangle_chan *ch = tangle_chan_new(sizeof(int), 2, "plain");
	assert_non_null(ch);
	int v = 1;
	assert_int_equal(tangle_chan_send(ch, &v), TANGLE_ENOTASK);
	assert_int_equal(tangle_chan_recv(ch, &v), TANGLE_ENOTASK);
	assert_int_equal(tangle_chan_try_send(ch, &v), TANGLE_OK);
	assert_int_equal(tangle_chan_try_recv(ch, &v), TANGLE_OK);
	assert_int_equal(tangle_chan_try_recv(ch, &v), TANGLE_EAGAIN);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, thread_producer, ch), 0);
	run_rt(1, 1, thread_consumer_main, ch);
	pthread_join(th, NULL);
	assert_int_equal(tangle_chan_free(ch), TANGLE_OK);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	errno = 0;
	assert_null(tangle_chan_new(0, 4, "zero"));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(tangle_chan_new(SIZE_MAX / 2, 4, "huge"));
	assert_int_equal(errno, EINVAL);
	tangle_chan *ch = tangle_chan_new(1, 1, "c");
	assert_non_null(ch);
	assert_int_equal(tangle_chan_try_send(ch, NULL), TANGLE_EINVAL);
	assert_int_equal(tangle_chan_try_recv(ch, NULL), TANGLE_EINVAL);
	assert_int_equal(tangle_chan_try_send(NULL, "x"), TANGLE_EINVAL);
	assert_int_equal(tangle_chan_close(NULL), TANGLE_EINVAL);
	assert_int_equal(tangle_chan_free(NULL), TANGLE_EINVAL);
	assert_int_equal(tangle_chan_len(NULL), 0);
	assert_int_equal(tangle_chan_free(ch), TANGLE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounded_fifo),
		cmocka_unit_test(test_unbounded_grows_in_order),
		cmocka_unit_test(test_blocking_send_recv_in_order),
		cmocka_unit_test(test_close_fails_senders_and_drains),
		cmocka_unit_test(test_close_wakes_waiting_receivers),
		cmocka_unit_test(test_timeouts_and_cancel),
		cmocka_unit_test(test_race_recv_timeout_vs_send),
		cmocka_unit_test(test_mpmc_exactly_once_bounded),
		cmocka_unit_test(test_mpmc_exactly_once_unbounded),
		cmocka_unit_test(test_plain_threads),
		cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
