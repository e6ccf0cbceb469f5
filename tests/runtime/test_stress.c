/*
 * test_stress.c — 10,000+ tasks on two workers doing random mutex, rwlock,
 * semaphore, channel and select work, some of them cancelled while they
 * wait. Every operation that reports success is counted, and at the end
 * the totals must match exactly: the counter guarded by the mutex, the
 * pair guarded by the rwlock, the permits in use, the values sent and
 * received. Nothing may be left held or queued.
 */
#include "sync_helpers.h"

#include <stdlib.h>

#define TASKS 10000
#define OPS_PER_TASK 8
#define SEM_PERMITS 3
#define CONSUMERS 8
#define BATCH 1000               /* live at a time */

struct world {
	tangle_mutex m;
	long counter;                  /* guarded by m */
	_Atomic long mutex_ops;

	tangle_rwlock rw;
	long a, b;                     /* guarded by rw: a == b outside writes */
	_Atomic long writes, reads, torn_reads;

	tangle_sem sem;
	_Atomic int in_use;
	_Atomic int over_limit;
	_Atomic long sem_ops;

	tangle_chan *ch, *side;        /* ch: to the consumers; side: select */
	_Atomic long sent, sent_sum, received, received_sum;

	_Atomic long cancelled_ops;
	tangle_task *tasks[TASKS];
};

static struct world W;

static void count_fail(int r)
{
	if (r == TANGLE_ECANCELED || r == TANGLE_ETIMEDOUT)
		atomic_fetch_add(&W.cancelled_ops, 1);
	else
		CHECK_OK(r);
}

static void op_mutex(uint32_t *seed)
{
	int r = rnd_next(seed) % 4 == 0 ? tangle_mutex_lock_timeout(&W.m, 1)
	                                 : tangle_mutex_lock(&W.m);
	if (r != TANGLE_OK) {
		count_fail(r);
		return;
	}
	long v = W.counter;
	if (rnd_next(seed) % 8 == 0)
		tangle_yield();
	W.counter = v + 1;
	atomic_fetch_add(&W.mutex_ops, 1);
	CHECK_OK(tangle_mutex_unlock(&W.m));
}

static void op_rwlock(uint32_t *seed)
{
	bool write = rnd_next(seed) % 4 == 0;
	int r = write ? tangle_rwlock_write(&W.rw) : tangle_rwlock_read(&W.rw);
	if (r != TANGLE_OK) {
		count_fail(r);
		return;
	}
	if (write) {
		W.a++;
		if (rnd_next(seed) % 4 == 0)
			tangle_yield();
		W.b++;
		atomic_fetch_add(&W.writes, 1);
	} else {
		long a = W.a;
		if (rnd_next(seed) % 4 == 0)
			tangle_yield();
		if (a != W.b)
			atomic_fetch_add(&W.torn_reads, 1);
		atomic_fetch_add(&W.reads, 1);
	}
	CHECK_OK(tangle_rwlock_unlock(&W.rw));
}

static void op_sem(uint32_t *seed)
{
	uint32_t n = 1 + rnd_next(seed) % SEM_PERMITS;
	int r = tangle_sem_acquire(&W.sem, n);
	if (r != TANGLE_OK) {
		count_fail(r);
		return;
	}
	if (atomic_fetch_add(&W.in_use, (int)n) + (int)n > SEM_PERMITS)
		atomic_fetch_add(&W.over_limit, 1);
	if (rnd_next(seed) % 2)
		tangle_yield();
	atomic_fetch_sub(&W.in_use, (int)n);
	atomic_fetch_add(&W.sem_ops, 1);
	CHECK_OK(tangle_sem_release(&W.sem, n));
}

static void sent(int v)
{
	atomic_fetch_add(&W.sent, 1);
	atomic_fetch_add(&W.sent_sum, v);
}

static void received(int v)
{
	atomic_fetch_add(&W.received, 1);
	atomic_fetch_add(&W.received_sum, v);
}

static void op_chan(uint32_t *seed)
{
	int v = (int)(rnd_next(seed) % 1000) + 1;
	switch (rnd_next(seed) % 4) {
	case 0: { /* select: send to the consumers or take from the side */
		int out = 0;
		tangle_select_op ops[2] = {
			{W.ch, TANGLE_SELECT_SEND, &v, 0},
			{W.side, TANGLE_SELECT_RECV, &out, 0},
		};
		int r = tangle_select(ops, 2, 2);
		if (r == 0) {
			CHECK_OK(ops[0].result);
			sent(v);
		} else if (r == 1) {
			CHECK_OK(ops[1].result);
			received(out);
		} else {
			count_fail(r);
		}
		break;
	}
	case 1: { /* feed the side channel, which selects drain */
		int r = tangle_chan_send_timeout(W.side, &v, 1);
		if (r == TANGLE_OK)
			sent(v);
		else
			count_fail(r);
		break;
	}
	default: {
		int r = tangle_chan_send(W.ch, &v);
		if (r == TANGLE_OK)
			sent(v);
		else
			count_fail(r);
		break;
	}
	}
}

static void *worker_task(void *p)
{
	uint32_t seed = (uint32_t)(uintptr_t)p * 2654435761u + 1;
	for (int i = 0; i < OPS_PER_TASK; i++) {
		switch (rnd_next(&seed) % 4) {
		case 0: op_mutex(&seed); break;
		case 1: op_rwlock(&seed); break;
		case 2: op_sem(&seed); break;
		default: op_chan(&seed); break;
		}
	}
	return NULL;
}

/* Cancels a task of its wave spawned before it (its handle is in W.tasks
 * already, and is joined only after the whole wave). */
static void *canceller_task(void *p)
{
	uint32_t seed = (uint32_t)(uintptr_t)p * 40503u + 7;
	uintptr_t me = (uintptr_t)p, start = me - me % BATCH;
	tangle_yield();
	CHECK_OK(tangle_cancel(W.tasks[start + rnd_next(&seed) % (me - start)]));
	return NULL;
}

static void *consumer_task(void *p)
{
	tangle_chan *ch = p;
	int v;
	while (tangle_chan_recv(ch, &v) == TANGLE_OK)
		received(v);
	return NULL;
}

static void *stress_main(void *p)
{
	(void)p;
	CHECK_OK(tangle_mutex_init(&W.m, "stress-mutex"));
	CHECK_OK(tangle_rwlock_init(&W.rw, "stress-rwlock"));
	CHECK_OK(tangle_sem_init(&W.sem, SEM_PERMITS, "stress-sem"));
	W.ch = tangle_chan_new(sizeof(int), 8, "stress-chan");
	W.side = tangle_chan_new(sizeof(int), 4, "stress-side");
	CHECK(W.ch && W.side);
	tangle_task *consumers[CONSUMERS];
	for (int i = 0; i < CONSUMERS; i++)
		consumers[i] = tangle_spawn("consumer", consumer_task, W.ch);

	/* In waves of BATCH live tasks, so that stacks are reused. */
	for (uintptr_t start = 0; start < TASKS; start += BATCH) {
		for (uintptr_t i = start; i < start + BATCH; i++) {
			bool cancel = i > start && i % 10 == 0;
			W.tasks[i] = tangle_spawn(cancel ? "canceller" : "worker",
			                          cancel ? canceller_task : worker_task,
			                          (void *)i);
			CHECK(W.tasks[i] != NULL);
		}
		for (uintptr_t i = start; i < start + BATCH; i++)
			CHECK_OK(tangle_join(W.tasks[i], NULL));
	}

	/* Whatever the side channel still holds was sent: drain it. */
	int v;
	while (tangle_chan_try_recv(W.side, &v) == TANGLE_OK)
		received(v);
	CHECK_OK(tangle_chan_close(W.ch));
	for (int i = 0; i < CONSUMERS; i++)
		CHECK_OK(tangle_join(consumers[i], NULL));

	CHECK_EQ(W.counter, atomic_load(&W.mutex_ops));
	CHECK_EQ(W.a, atomic_load(&W.writes));
	CHECK_EQ(W.b, atomic_load(&W.writes));
	CHECK_EQ(atomic_load(&W.torn_reads), 0);
	CHECK_EQ(atomic_load(&W.over_limit), 0);
	CHECK_EQ(atomic_load(&W.in_use), 0);
	CHECK_EQ(atomic_load(&W.sent), atomic_load(&W.received));
	CHECK_EQ(atomic_load(&W.sent_sum), atomic_load(&W.received_sum));
	/* Enough happened for the test to mean something. */
	CHECK(atomic_load(&W.mutex_ops) > TASKS / 4);
	CHECK(atomic_load(&W.reads) > TASKS / 8);
	CHECK(atomic_load(&W.sem_ops) > TASKS / 4);
	CHECK(atomic_load(&W.sent) > TASKS / 4);

	/* Nothing is left held or queued: everything destroys cleanly. */
	CHECK_EQ(tangle_sem_available(&W.sem), SEM_PERMITS);
	CHECK_OK(tangle_mutex_destroy(&W.m));
	CHECK_OK(tangle_rwlock_destroy(&W.rw));
	CHECK_OK(tangle_sem_destroy(&W.sem));
	CHECK_OK(tangle_chan_free(W.ch));
	CHECK_OK(tangle_chan_free(W.side));
	return NULL;
}

static void test_ten_thousand_tasks_exact_totals(void **state)
{
	(void)state;
	run_rt(2, 0, stress_main, NULL);
	fprintf(stderr,
	        "stress: mutex %ld, rwlock %ld+%ld, sem %ld, values %ld, "
	        "cancelled or timed out %ld\n",
	        atomic_load(&W.mutex_ops), atomic_load(&W.writes),
	        atomic_load(&W.reads), atomic_load(&W.sem_ops),
	        atomic_load(&W.sent), atomic_load(&W.cancelled_ops));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ten_thousand_tasks_exact_totals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
