/* test_free_waiting.c — tangle_runtime_free with tasks still suspended in
 * their waits (mutex, channel, select, sleep): their stacks (with the
 * frames of the waits still on them, and under ASan those frames' poisoned
 * redzones) go away with the runtime, and the next runtime's slabs and
 * stacks, mapped at the same addresses, are clean memory; their waits
 * leave the objects' queues, so the objects work and can be freed.
 * Loops so that the addresses get reused. */
#include <stdatomic.h>
#include <string.h>

#include "rt_test.h"

#define ROUNDS 12
#define STUCK 24

struct stuck {
	tangle_mutex lock;
	tangle_chan *never, *never2;
};

/* Frames with arrays (ASan redzones) under each wait. */
static __attribute__((noinline)) void wait_deep(struct stuck *s, int depth,
                                                int which)
{
	volatile char pad[300];
	memset((char *)pad, depth, sizeof pad);
	if (depth) {
		wait_deep(s, depth - 1, which);
		return;
	}
	long v, v2;
	tangle_select_op ops[2] = {
		{.kind = TANGLE_SELECT_RECV, .chan = s->never, .value = &v},
		{.kind = TANGLE_SELECT_RECV, .chan = s->never2, .value = &v2},
	};
	switch (which % 4) {
	case 0:
		tangle_mutex_lock(&s->lock); /* held by main: never granted */
		break;
	case 1:
		tangle_chan_recv(s->never, &v); /* nobody sends */
		break;
	case 2:
		tangle_select(ops, 2, -1); /* waiters on the stack, on 2 queues */
		break;
	default:
		tangle_sleep_ms(60 * 60 * 1000);
	}
}

static void *stuck_task(void *arg)
{
	static _Atomic int n;
	wait_deep(arg, 8, atomic_fetch_add(&n, 1));
	return NULL;
}

static void *leave_tasks_waiting(void *arg)
{
	struct stuck *s = arg;
	tangle_mutex_init(&s->lock, "held-forever");
	s->never = tangle_chan_new(sizeof(long), 1, "never");
	s->never2 = tangle_chan_new(sizeof(long), 1, "never2");
	assert_non_null(s->never);
	assert_non_null(s->never2);
	assert_int_equal(tangle_mutex_lock(&s->lock), TANGLE_OK);
	for (int i = 0; i < STUCK; i++) {
		tangle_task *t = tangle_spawn("stuck", stuck_task, s);
		assert_non_null(t);
		tangle_detach(t);
	}
	for (int i = 0; i < 20; i++)
		tangle_yield(); /* let them reach their waits */
	tangle_sleep_ms(2);
	return NULL; /* the lock stays held, the tasks stay suspended */
}

static __attribute__((noinline)) uintptr_t use_stack(uintptr_t n)
{
	volatile char pad[700];
	memset((char *)pad, (int)n, sizeof pad);
	return n ? use_stack(n - 1) + (uintptr_t)pad[1] : (uintptr_t)pad[2];
}

static void *worker(void *arg)
{
	(void)arg;
	return (void *)use_stack(40);
}

static void *busy(void *arg)
{
	(void)arg;
	tangle_task *ts[200];
	for (int i = 0; i < 200; i++) /* new slabs and stacks */
		ts[i] = tangle_spawn("busy", worker, NULL);
	for (int i = 0; i < 200; i++) {
		assert_non_null(ts[i]);
		assert_int_equal(tangle_join(ts[i], NULL), TANGLE_OK);
	}
	return NULL;
}

/* The channel the freed tasks waited on is usable again: their waits left
 * its queue with them (else this send would hand the value to a receiver
 * on an unmapped stack). */
static void *reuse_channel(void *arg)
{
	struct stuck *s = arg;
	long v = 42, out = 0;
	assert_int_equal(tangle_chan_send(s->never, &v), TANGLE_OK);
	assert_int_equal(tangle_chan_recv(s->never, &out), TANGLE_OK);
	assert_int_equal(out, 42);
	return NULL;
}

static void freed_with_tasks_waiting_then_a_new_runtime(unsigned workers)
{
	/* Registered objects must outlive their registration: the mutexes
	 * stay held by the finished main tasks, so they stay registered. */
	static struct stuck stuck[2][ROUNDS];
	for (int round = 0; round < ROUNDS; round++) {
		struct stuck *s = &stuck[workers ? 1 : 0][round];
		tangle_config cfg = {.workers = workers, .current_thread = workers == 0,
		                     .name = "left-waiting"};
		tangle_runtime *rt = tangle_runtime_new(&cfg);
		assert_non_null(rt);
		assert_int_equal(tangle_runtime_run(rt, leave_tasks_waiting, s), TANGLE_OK);
		tangle_runtime_free(rt);
		rt_test_run(workers, busy, NULL);
		rt_test_run(workers, reuse_channel, s);
		assert_int_equal(tangle_chan_free(s->never), TANGLE_OK);
		assert_int_equal(tangle_chan_free(s->never2), TANGLE_OK);
		/* held by the finished main task: orphaned, not waited on */
		assert_int_equal(tangle_mutex_destroy(&s->lock), TANGLE_EBUSY);
	}
}

static void free_with_waiting_tasks_current_thread(void **state)
{
	(void)state;
	freed_with_tasks_waiting_then_a_new_runtime(0);
}

static void free_with_waiting_tasks_two_workers(void **state)
{
	(void)state;
	freed_with_tasks_waiting_then_a_new_runtime(2);
}

/* A semaphore's FIFO: a request of runtime B waits behind a bigger one of
 * runtime A though a permit is free. Freeing A (from a task of B) takes
 * A's request out of the queue, and the semaphore serves B's at once. */
static tangle_sem pool;
static tangle_runtime *rt_a;

static void *ask_two(void *arg)
{
	(void)arg;
	tangle_sem_acquire(&pool, 2); /* 1 of 2 is out: waits for good */
	return NULL;
}

static void *a_main(void *arg)
{
	(void)arg;
	assert_int_equal(tangle_sem_acquire(&pool, 1), TANGLE_OK); /* kept */
	assert_int_equal(tangle_detach(tangle_spawn("ask-two", ask_two, NULL)),
	                 TANGLE_OK);
	tangle_sleep_ms(20);
	return NULL;
}

static void *ask_one(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)tangle_sem_acquire_timeout(&pool, 1, 3000);
}

static void *b_main(void *arg)
{
	(void)arg;
	tangle_task *u = tangle_spawn("ask-one", ask_one, NULL);
	assert_non_null(u);
	tangle_sleep_ms(20);
	assert_int_equal(tangle_sem_available(&pool), 1); /* free, yet it waits */
	tangle_runtime_free(rt_a);
	void *r = NULL;
	assert_int_equal(tangle_join(u, &r), TANGLE_OK);
	assert_int_equal((intptr_t)r, TANGLE_OK);
	return NULL;
}

static void freeing_a_runtime_serves_the_waiters_behind_its_tasks(void **state)
{
	(void)state;
	assert_int_equal(tangle_sem_init(&pool, 2, "pool"), TANGLE_OK);
	tangle_config one = {.workers = 1, .name = "a"};
	rt_a = tangle_runtime_new(&one);
	assert_non_null(rt_a);
	assert_int_equal(tangle_runtime_run(rt_a, a_main, NULL), TANGLE_OK);
	rt_test_run(2, b_main, NULL);
	assert_int_equal(tangle_sem_available(&pool), 0);
	assert_int_equal(tangle_sem_release(&pool, 2), TANGLE_OK);
	assert_int_equal(tangle_sem_destroy(&pool), TANGLE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(free_with_waiting_tasks_current_thread),
		cmocka_unit_test(free_with_waiting_tasks_two_workers),
		cmocka_unit_test(freeing_a_runtime_serves_the_waiters_behind_its_tasks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
