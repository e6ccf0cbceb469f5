/* test_waker.c — wakers and tangle_park: wake before park, wake from a
 * plain thread, live-waker counts in the task record (exact, with wakers
 * dropped from anywhere), and the waker pool. */
#include <pthread.h>
#include <stdatomic.h>

#include "rt_test.h"
#include "../../runtime/src/internal.h"

static void *wake_before_park_body(void *arg)
{
	(void)arg;
	struct tangle_task *self = tangle__current();
	tangle_waker *w = tangle_waker_current();
	assert_non_null(w);
	assert_int_equal(atomic_load(&self->wakers), 1);
	tangle_waker_wake(w); /* before the park: not lost */
	assert_int_equal(tangle_park("stored wake"), TANGLE_OK);
	tangle_waker_drop(w);
	assert_int_equal(atomic_load(&self->wakers), 0);
	return NULL;
}

static void a_wake_before_the_park_is_not_lost(void **state)
{
	(void)state;
	rt_test_both(wake_before_park_body, NULL);
}

struct event {
	tangle_waker *_Atomic waker;
	_Atomic int fired;
};

static void *thread_fire(void *arg)
{
	struct event *e = arg;
	tangle_waker *w;
	while (!(w = atomic_load(&e->waker)))
		;
	struct timespec ts = {0, 5000000};
	nanosleep(&ts, NULL);
	atomic_store(&e->fired, 1);
	tangle_waker_wake(w);
	tangle_waker_drop(w);
	return NULL;
}

static void *thread_wake_body(void *arg)
{
	(void)arg;
	struct event e = {.waker = NULL};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, thread_fire, &e), 0);
	atomic_store(&e.waker, tangle_waker_current());
	while (!atomic_load(&e.fired))
		assert_int_equal(tangle_park("the thread's event"), TANGLE_OK);
	pthread_join(th, NULL);
	assert_int_equal(atomic_load(&tangle__current()->wakers), 0);
	return NULL;
}

static void a_plain_thread_can_wake_a_task(void **state)
{
	(void)state;
	rt_test_both(thread_wake_body, NULL);
}

struct parked {
	tangle_waker *_Atomic waker;
	_Atomic int go;
};

static void *park_until_go(void *arg)
{
	struct parked *p = arg;
	atomic_store(&p->waker, tangle_waker_current());
	while (!atomic_load(&p->go))
		tangle_park("go");
	return NULL;
}

static void *record_body(void *arg)
{
	(void)arg;
	struct parked p = {.waker = NULL};
	tangle_task *t = tangle_spawn("parker", park_until_go, &p);
	while (!atomic_load(&p.waker) ||
	       atomic_load(&t->sched.state) != TANGLE_DEBUG_TASK_WAITING)
		tangle_yield();
	/* The record says what it waits for and that one waker is live. */
	assert_int_equal(t->wait.kind, TANGLE_DEBUG_WAIT_PARK);
	assert_string_equal(t->wait.what, "go");
	assert_int_equal(atomic_load(&t->wakers), 1);
	uint64_t wakes = __atomic_load_n(&t->wakes, __ATOMIC_RELAXED);
	atomic_store(&p.go, 1);
	tangle_waker_wake(atomic_load(&p.waker));
	tangle_waker_drop(atomic_load(&p.waker));
	assert_int_equal(atomic_load(&t->wakers), 0);
	tangle_join(t, NULL);
	return NULL;
	(void)wakes;
}

static void the_record_counts_live_wakers(void **state)
{
	(void)state;
	rt_test_both(record_body, NULL);
}

static void *woken_by_body(void *arg)
{
	(void)arg;
	/* Current-thread: woken_by names the waking task. */
	struct parked p = {.waker = NULL};
	tangle_task *t = tangle_spawn("parker", park_until_go, &p);
	while (!atomic_load(&p.waker))
		tangle_yield();
	atomic_store(&p.go, 1);
	tangle_waker_wake(atomic_load(&p.waker));
	assert_int_equal(t->woken_by, tangle_task_id(tangle_task_current()));
	assert_true(t->wakes >= 1);
	tangle_waker_drop(atomic_load(&p.waker));
	tangle_join(t, NULL);
	return NULL;
}

static void the_record_says_who_woke_a_task(void **state)
{
	(void)state;
	rt_test_run(0, woken_by_body, NULL);
}


static void *noop(void *arg)
{
	return arg;
}

static void *stale_body(void *arg)
{
	(void)arg;
	/* A waker that outlives its task does nothing. */
	struct parked p = {.waker = NULL};
	tangle_task *t = tangle_spawn("short", park_until_go, &p);
	while (!atomic_load(&p.waker))
		tangle_yield();
	tangle_waker *w = atomic_load(&p.waker);
	atomic_store(&p.go, 1);
	tangle_waker_wake(w);
	tangle_join(t, NULL);
	for (int i = 0; i < 200; i++) /* reuse the slot */
		tangle_join(tangle_spawn("reuse", noop, NULL), NULL);
	tangle_waker_wake(w);
	tangle_waker_drop(w);
	tangle_waker_drop(NULL);
	tangle_waker_wake(NULL);
	return NULL;
}

static void a_stale_waker_is_harmless(void **state)
{
	(void)state;
	rt_test_both(stale_body, NULL);
}

static void *pooled_body(void *arg)
{
	(void)arg;
	/* A dropped waker's record is reused by the next one: no allocation
	 * per waker on the hot path. */
	tangle_waker *a = tangle_waker_current();
	tangle_waker_drop(a);
	tangle_waker *b = tangle_waker_current();
	assert_ptr_equal(a, b);
	tangle_waker_drop(b);
	return NULL;
}

static void waker_records_are_pooled(void **state)
{
	(void)state;
	rt_test_both(pooled_body, NULL);
}

#define MANY 1000

struct dropper {
	tangle_waker **w;
	int from, to;
};

static void *drop_range(void *arg)
{
	struct dropper *d = arg;
	for (int i = d->from; i < d->to; i++) {
		tangle_waker_wake(d->w[i]);
		tangle_waker_drop(d->w[i]);
	}
	return NULL;
}

static void *many_body(void *arg)
{
	(void)arg;
	struct tangle_task *self = tangle__current();
	static tangle_waker *w[MANY];
	for (int rounds = 0; rounds < 3; rounds++) {
		for (int i = 0; i < MANY; i++) {
			w[i] = tangle_waker_current();
			assert_non_null(w[i]);
		}
		assert_int_equal(atomic_load(&self->wakers), MANY);
		/* A third from a plain thread, a third from another task (maybe
		 * another worker), a third here: the count ends exact. */
		struct dropper a = {w, 0, MANY / 3}, b = {w, MANY / 3, 2 * MANY / 3},
		               c = {w, 2 * MANY / 3, MANY};
		pthread_t th;
		assert_int_equal(pthread_create(&th, NULL, drop_range, &a), 0);
		tangle_task *t = tangle_spawn("dropper", drop_range, &b);
		drop_range(&c);
		tangle_join(t, NULL);
		pthread_join(th, NULL);
		assert_int_equal(atomic_load(&self->wakers), 0);
	}
	return NULL;
}

static void live_waker_counts_stay_exact(void **state)
{
	(void)state;
	rt_test_both(many_body, NULL);
}

static void *keeps_body(void *arg)
{
	(void)arg;
	/* A waker that outlives its task keeps the task's record: the slot
	 * is not reused, and its count stays 1 until the drop. */
	struct parked p = {.waker = NULL};
	tangle_task *t = tangle_spawn("short", park_until_go, &p);
	while (!atomic_load(&p.waker))
		tangle_yield();
	struct tangle_task *rec = (struct tangle_task *)t;
	uint32_t gen = rec->generation;
	uint64_t id = rec->id;
	atomic_store(&p.go, 1);
	tangle_waker_wake(atomic_load(&p.waker));
	tangle_join(t, NULL);
	for (int i = 0; i < 300; i++)
		assert_int_equal(tangle_join(tangle_spawn("other", noop, NULL), NULL),
		                 TANGLE_OK);
	assert_int_equal(rec->generation, gen);
	assert_int_equal(rec->id, id);
	assert_int_equal(atomic_load(&rec->wakers), 1);
	tangle_waker_drop(atomic_load(&p.waker));
	assert_int_equal(atomic_load(&rec->wakers), 0);
	return NULL;
}

static void a_waker_keeps_its_tasks_record(void **state)
{
	(void)state;
	rt_test_both(keeps_body, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_wake_before_the_park_is_not_lost),
		cmocka_unit_test(a_plain_thread_can_wake_a_task),
		cmocka_unit_test(the_record_counts_live_wakers),
		cmocka_unit_test(the_record_says_who_woke_a_task),
		cmocka_unit_test(a_stale_waker_is_harmless),
		cmocka_unit_test(waker_records_are_pooled),
		cmocka_unit_test(live_waker_counts_stay_exact),
		cmocka_unit_test(a_waker_keeps_its_tasks_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
