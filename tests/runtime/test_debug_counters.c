/*
 * test_debug_counters.c — debug-table fields of tasks and objects that the
 * runtime keeps up to date as it runs, read in-process through the layout
 * (debug_reader.h): the clock pair, a mutex's longest hold and counters,
 * hold overflow, slot generations, wakes (when and by whom).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "debug_reader.h"

/* ROOT SYNC_MONO / SYNC_REAL: the pair a worker takes as it parks and
 * wakes, both clocks read at that moment. */
struct sync_pair {
	uint64_t m0, r0, mono, real, m1, r1;
};

static void *sync_body(void *arg)
{
	struct sync_pair *s = arg;
	s->m0 = rt_test_now_ns();
	s->r0 = real_now_ns();
	/* Nothing else to run: the worker parks until the timer is due and
	 * takes the pair as it wakes, before it resumes us. */
	tangle_sleep_ms(20);
	s->mono = rd(tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_SYNC_MONO);
	s->real = rd(tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_SYNC_REAL);
	s->m1 = rt_test_now_ns();
	s->r1 = real_now_ns();
	return NULL;
}

static void the_sync_clock_pair_is_taken_when_a_worker_wakes(void **state)
{
	(void)state;
	struct sync_pair s;
	rt_test_run(0, sync_body, &s);
	/* Monotonic: taken after the timer was due, before we read it. */
	assert_true(s.mono >= s.m0 + 20 * MS);
	assert_true(s.mono <= s.m1);
	/* Realtime: in the same window (the wall clock may be slewed, so
	 * no 20 ms lower bound on it). */
	assert_true(s.real >= s.r0);
	assert_true(s.real <= s.r1);
	/* A pair: the two clocks read together, so their difference is the
	 * machine's (within preemption between the two reads). */
	int64_t ours = (int64_t)(s.r0 - s.m0), table = (int64_t)(s.real - s.mono);
	assert_true(llabs(table - ours) < (long long)(1000 * MS));
}

/* OBJECT LONGEST_HOLD, ACQUISITIONS, CONTENTIONS, and ROOT SEQ for the
 * object's registration, on a real mutex. */
struct hold_report {
	uint64_t seq0, seq_init, seq_destroy;
	uint64_t longest_first, longest_after_short, longest_after_contended;
	uint64_t held_for;      /* the first hold, measured around it */
	uint64_t acq[3], cont[3];
	int contender_locked;
};

static tangle_mutex hold_mutex;

static void *contender(void *arg)
{
	struct hold_report *r = arg;
	if (tangle_mutex_lock(&hold_mutex) == TANGLE_OK) {
		r->contender_locked = 1;
		tangle_mutex_unlock(&hold_mutex);
	}
	return NULL;
}

static void *hold_body(void *arg)
{
	struct hold_report *r = arg;
	const void *m = &hold_mutex;
	r->seq0 = rd(tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_SEQ);
	assert_int_equal(tangle_mutex_init(&hold_mutex, "held-long"), TANGLE_OK);
	r->seq_init = rd(tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_SEQ);
	assert_int_equal(rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_LONGEST_HOLD), 0);

	/* Held ~50 ms across a sleep. */
	uint64_t t0 = rt_test_now_ns();
	assert_int_equal(tangle_mutex_lock(&hold_mutex), TANGLE_OK);
	tangle_sleep_ms(50);
	assert_int_equal(tangle_mutex_unlock(&hold_mutex), TANGLE_OK);
	r->held_for = rt_test_now_ns() - t0;
	r->longest_first = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_LONGEST_HOLD);
	r->acq[0] = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_ACQUISITIONS);
	r->cont[0] = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_CONTENTIONS);

	/* A short hold later does not lower it. */
	assert_int_equal(tangle_mutex_lock(&hold_mutex), TANGLE_OK);
	assert_int_equal(tangle_mutex_unlock(&hold_mutex), TANGLE_OK);
	r->longest_after_short = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_LONGEST_HOLD);
	r->acq[1] = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_ACQUISITIONS);
	r->cont[1] = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_CONTENTIONS);

	/* A contended acquisition: the contender waits for our unlock. */
	assert_int_equal(tangle_mutex_lock(&hold_mutex), TANGLE_OK);
	tangle_task *c = tangle_spawn("contender", contender, r);
	assert_true(EVENTUALLY(rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITERS) != 0));
	assert_int_equal(tangle_mutex_unlock(&hold_mutex), TANGLE_OK);
	assert_int_equal(tangle_join(c, NULL), TANGLE_OK);
	r->longest_after_contended = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_LONGEST_HOLD);
	r->acq[2] = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_ACQUISITIONS);
	r->cont[2] = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_CONTENTIONS);

	assert_int_equal(tangle_mutex_destroy(&hold_mutex), TANGLE_OK);
	r->seq_destroy = rd(tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_SEQ);
	return NULL;
}

static void a_mutex_keeps_its_longest_hold_and_counts(void **state)
{
	(void)state;
	struct hold_report r = {0};
	rt_test_run(0, hold_body, &r);
	assert_true(r.seq_init > r.seq0);       /* registered */
	assert_true(r.seq_destroy > r.seq_init); /* unregistered */
	assert_true(r.longest_first >= 50 * MS);
	/* The cached clock may lag at the lock: generous slack above. */
	assert_true(r.longest_first <= r.held_for + 1000 * MS);
	assert_int_equal(r.longest_after_short, r.longest_first);
	assert_int_equal(r.acq[0], 1);
	assert_int_equal(r.cont[0], 0);
	assert_int_equal(r.acq[1], 2);
	assert_int_equal(r.cont[1], 0);
	assert_int_equal(r.contender_locked, 1);
	assert_int_equal(r.acq[2], 4); /* ours and the contender's */
	assert_int_equal(r.cont[2], 1);
	assert_true(r.longest_after_contended >= r.longest_first);
}

/* TASK HOLD_COUNT / HOLD_OVERFLOW: more rwlock and semaphore holds than
 * the inline array has room for. */
enum { EXTRA_HOLDS = 2 };

static void *overflow_holds_body(void *arg)
{
	(void)arg;
	const void *me = tangle_task_current();
	unsigned room = entry(TANGLE_DR_TASK, TANGLE_DF_TASK_HOLDS)->size /
	                rec_size(TANGLE_DR_HOLD);
	assert_int_equal(room, 4);
	enum { N = 4 + EXTRA_HOLDS };
	tangle_rwlock locks[N / 2];
	tangle_sem sems[N - N / 2];
	for (int i = 0; i < N / 2; i++)
		assert_int_equal(tangle_rwlock_init(&locks[i], "ovf-lock"), TANGLE_OK);
	for (int i = 0; i < N - N / 2; i++)
		assert_int_equal(tangle_sem_init(&sems[i], 2, "ovf-sem"), TANGLE_OK);

	/* Alternately a write lock and a semaphore's permit: each a hold;
	 * past the array's room only counted. */
	for (int i = 0; i < N; i++) {
		if (i % 2 == 0)
			assert_int_equal(tangle_rwlock_write(&locks[i / 2]), TANGLE_OK);
		else
			assert_int_equal(tangle_sem_acquire(&sems[i / 2], 1), TANGLE_OK);
		uint64_t count = rd(me, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_COUNT);
		uint64_t over = rd(me, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_OVERFLOW);
		assert_int_equal(count, (unsigned)(i + 1) < room ? (unsigned)(i + 1) : room);
		assert_int_equal(over, (unsigned)(i + 1) > room ? (unsigned)(i + 1) - room : 0);
	}
	/* The stored ones are the first four, in order. */
	const char *holds = (const char *)me + entry(TANGLE_DR_TASK, TANGLE_DF_TASK_HOLDS)->offset;
	for (unsigned i = 0; i < room; i++) {
		const char *h = holds + i * rec_size(TANGLE_DR_HOLD);
		const void *obj = i % 2 == 0 ? (const void *)&locks[i / 2]
		                             : (const void *)&sems[i / 2];
		assert_ptr_equal(ptr(h, TANGLE_DR_HOLD, TANGLE_DF_HOLD_OBJECT), obj);
		assert_int_equal(rd(h, TANGLE_DR_HOLD, TANGLE_DF_HOLD_MODE),
		                 i % 2 == 0 ? TANGLE_DEBUG_HOLD_EXCLUSIVE
		                            : TANGLE_DEBUG_HOLD_PERMITS);
	}
	/* Let go in reverse: the unstored ones first, then the rest. */
	for (int i = N - 1; i >= 0; i--) {
		if (i % 2 == 0)
			assert_int_equal(tangle_rwlock_unlock(&locks[i / 2]), TANGLE_OK);
		else
			assert_int_equal(tangle_sem_release(&sems[i / 2], 1), TANGLE_OK);
		uint64_t count = rd(me, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_COUNT);
		uint64_t over = rd(me, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_OVERFLOW);
		assert_int_equal(count, (unsigned)i < room ? (unsigned)i : room);
		assert_int_equal(over, (unsigned)i > room ? (unsigned)i - room : 0);
	}
	for (int i = 0; i < N / 2; i++)
		assert_int_equal(tangle_rwlock_destroy(&locks[i]), TANGLE_OK);
	for (int i = 0; i < N - N / 2; i++)
		assert_int_equal(tangle_sem_destroy(&sems[i]), TANGLE_OK);
	return NULL;
}

static void holds_beyond_the_array_are_counted_as_overflow(void **state)
{
	(void)state;
	rt_test_run(0, overflow_holds_body, NULL);
}

/* TASK GENERATION: a freed slot taken by a later task is a new generation
 * (and a new id). */
static void *generation_body(void *arg)
{
	(void)arg;
	tangle_task *first = tangle_spawn("gen-first", inc_nothing, NULL);
	const void *rec = first;
	uint64_t gen = rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_GENERATION);
	uint64_t id = rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_ID);
	assert_true(gen >= 1);
	assert_int_equal(tangle_join(first, NULL), TANGLE_OK);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_STATE), TANGLE_DEBUG_TASK_FREE);
	/* Freed slots are reused (most recent first); find the later task
	 * that took this one. */
	int reused = 0;
	for (int i = 0; i < 64 && !reused; i++) {
		tangle_task *t = tangle_spawn("gen-later", inc_nothing, NULL);
		if ((const void *)t == rec) {
			reused = 1;
			assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_GENERATION),
			                 gen + 1);
			assert_true(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_ID) > id);
			assert_string_equal(str_at(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_NAME),
			                    "gen-later");
		}
		assert_int_equal(tangle_join(t, NULL), TANGLE_OK);
	}
	assert_true(reused);
	return NULL;
}

static void a_reused_slot_has_a_new_generation(void **state)
{
	(void)state;
	rt_test_run(0, generation_body, NULL);
}

/* TASK SPAWNED_AT, WAKES, WOKEN_AT, WOKEN_BY, FINISHED_AT and FLAGS
 * (cancel requested), for tasks woken by a task, by a plain thread and by
 * a cancel. */
struct woken {
	tangle_notify first, second;
	_Atomic int stage;
	uint64_t thread_before, thread_after;
};

static void *woken_twice(void *arg)
{
	struct woken *k = arg;
	atomic_store(&k->stage, 1);
	tangle_notify_wait(&k->first);
	atomic_store(&k->stage, 2);
	tangle_notify_wait(&k->second);
	atomic_store(&k->stage, 3);
	return NULL;
}

static void *notify_from_thread(void *arg)
{
	struct woken *k = arg;
	k->thread_before = rt_test_now_ns();
	tangle_notify_one(&k->second);
	k->thread_after = rt_test_now_ns();
	return NULL;
}

static void *sleeps_long(void *arg)
{
	(void)arg;
	tangle_sleep_ms(60000);
	return NULL;
}

static void *wake_body(void *arg)
{
	(void)arg;
	struct woken k = {0};
	tangle_notify_init(&k.first, "first");
	tangle_notify_init(&k.second, "second");
	uint64_t my_id = tangle_task_id(tangle_task_current());

	/* The sleep ends with the worker refreshing its cached clock: stamps
	 * taken after it are no earlier than t0. */
	uint64_t t0 = rt_test_now_ns();
	tangle_sleep_ms(2);
	tangle_task *t = tangle_spawn("woken", woken_twice, &k);
	uint64_t t1 = rt_test_now_ns();
	const void *rec = t;
	uint64_t spawned = rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_SPAWNED_AT);
	assert_true(spawned >= t0 && spawned <= t1);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WAKES), 0);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_AT), 0);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_BY), 0);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FINISHED_AT), 0);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FLAGS), 0);

	/* Woken by this task. */
	assert_true(EVENTUALLY(atomic_load(&k.stage) == 1 &&
	                       task_state(rec) == TANGLE_DEBUG_TASK_WAITING));
	uint64_t t2 = rt_test_now_ns();
	tangle_sleep_ms(2);
	assert_int_equal(tangle_notify_one(&k.first), TANGLE_OK);
	uint64_t t3 = rt_test_now_ns();
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WAKES), 1);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_BY), my_id);
	uint64_t woken_at = rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_AT);
	assert_true(woken_at >= t2 && woken_at <= t3);

	/* Woken by a plain thread: no task did it. */
	assert_true(EVENTUALLY(atomic_load(&k.stage) == 2 &&
	                       task_state(rec) == TANGLE_DEBUG_TASK_WAITING));
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, notify_from_thread, &k), 0);
	pthread_join(th, NULL);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WAKES), 2);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_BY), 0);
	woken_at = rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_AT);
	assert_true(woken_at >= k.thread_before && woken_at <= k.thread_after);

	/* Finished, not yet joined: DONE with its finish time. */
	assert_true(EVENTUALLY(task_state(rec) == TANGLE_DEBUG_TASK_DONE));
	assert_int_equal(atomic_load(&k.stage), 3);
	uint64_t finished = rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FINISHED_AT);
	assert_true(finished >= spawned && finished <= rt_test_now_ns());
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FLAGS) &
	                 TANGLE_DEBUG_TASKF_CANCEL_REQUESTED, 0);
	assert_int_equal(tangle_join(t, NULL), TANGLE_OK);

	/* Cancelled: the flag is set by tangle_cancel itself, the wake is
	 * ours, and it stays after the task returns. */
	tangle_task *c = tangle_spawn("cancelled", sleeps_long, NULL);
	rec = c;
	assert_true(EVENTUALLY(task_state(rec) == TANGLE_DEBUG_TASK_WAITING));
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FLAGS) &
	                 TANGLE_DEBUG_TASKF_CANCEL_REQUESTED, 0);
	assert_int_equal(tangle_cancel(c), TANGLE_OK);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FLAGS) &
	                 TANGLE_DEBUG_TASKF_CANCEL_REQUESTED,
	                 TANGLE_DEBUG_TASKF_CANCEL_REQUESTED);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_BY), my_id);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FINISHED_AT), 0);
	assert_true(EVENTUALLY(task_state(rec) == TANGLE_DEBUG_TASK_CANCELLED));
	assert_true(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FINISHED_AT) != 0);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FLAGS) &
	                 TANGLE_DEBUG_TASKF_CANCEL_REQUESTED,
	                 TANGLE_DEBUG_TASKF_CANCEL_REQUESTED);
	assert_int_equal(tangle_join(c, NULL), TANGLE_OK);

	tangle_notify_destroy(&k.first);
	tangle_notify_destroy(&k.second);
	return NULL;
}

static void wakes_record_when_and_by_whom(void **state)
{
	(void)state;
	rt_test_run(0, wake_body, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_sync_clock_pair_is_taken_when_a_worker_wakes),
		cmocka_unit_test(a_mutex_keeps_its_longest_hold_and_counts),
		cmocka_unit_test(holds_beyond_the_array_are_counted_as_overflow),
		cmocka_unit_test(a_reused_slot_has_a_new_generation),
		cmocka_unit_test(wakes_record_when_and_by_whom),
	};
	return cmocka_run_group_tests(tests, debug_reader_setup, NULL);
}
