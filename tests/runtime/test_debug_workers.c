/*
 * test_debug_workers.c — debug-table fields of workers and runtimes that
 * the runtime keeps up to date as it runs, read in-process through the
 * layout (debug_reader.h): run queues and the global queue, switches,
 * worker indexes and idle times, the default worker count, the blocking
 * pool.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "debug_reader.h"

/* Tasks in a worker's local queue: RUNQ_TAIL - (u32)RUNQ_HEAD (2.1). */
static uint64_t queue_len(const char *w)
{
	uint32_t head = (uint32_t)rd(w, TANGLE_DR_WORKER, TANGLE_DF_WORKER_RUNQ_HEAD);
	uint32_t tail = (uint32_t)rd(w, TANGLE_DR_WORKER, TANGLE_DF_WORKER_RUNQ_TAIL);
	return tail - head;
}

/* WORKER RUNQ_HEAD/TAIL and RUNTIME GLOBAL_QUEUE: tasks spawned without
 * yielding wait in the worker's queue; past its capacity they spill to
 * the runtime's global queue. */
enum { SPAWNED_AT_ONCE = 5, SPAWNED_PAST_CAPACITY = 300 };

static void *queues_body(void *arg)
{
	(void)arg;
	const void *rt = find_runtime("queues");
	assert_non_null(rt);
	const char *w = worker_at(rt, 0);
	tangle_task **t = calloc(SPAWNED_PAST_CAPACITY, sizeof *t);
	assert_non_null(t);
	assert_int_equal(queue_len(w), 0);
	for (int i = 0; i < SPAWNED_AT_ONCE; i++)
		t[i] = tangle_spawn("queued", inc_nothing, NULL);
	assert_int_equal(queue_len(w),
	                 SPAWNED_AT_ONCE);
	assert_int_equal(rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_GLOBAL_QUEUE), 0);
	for (int i = SPAWNED_AT_ONCE; i < SPAWNED_PAST_CAPACITY; i++)
		t[i] = tangle_spawn("queued", inc_nothing, NULL);
	uint64_t local = queue_len(w);
	uint64_t global = rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_GLOBAL_QUEUE);
	assert_true(global > 0);
	assert_true(local > 0);
	assert_int_equal(local + global, SPAWNED_PAST_CAPACITY);
	for (int i = 0; i < SPAWNED_PAST_CAPACITY; i++)
		assert_int_equal(tangle_join(t[i], NULL), TANGLE_OK);
	free(t);
	assert_int_equal(queue_len(w), 0);
	assert_int_equal(rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_GLOBAL_QUEUE), 0);
	return NULL;
}

static void *joins_them(void *arg)
{
	tangle_task **t = arg;
	for (int i = 0; i < 3; i++)
		assert_int_equal(tangle_join(t[i], NULL), TANGLE_OK);
	const void *rt = find_runtime("queues");
	assert_int_equal(rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_GLOBAL_QUEUE), 0);
	return NULL;
}

static void run_queues_and_the_global_queue_count_tasks(void **state)
{
	(void)state;
	tangle_runtime *r = new_runtime(0, "queues");
	const void *rt = find_runtime("queues");
	assert_non_null(rt);
	/* Spawned from a plain thread while nobody runs the runtime: they
	 * wait in the global queue, stamped with the exact clock. */
	tangle_task *t[3];
	uint64_t t0 = rt_test_now_ns();
	for (int i = 0; i < 3; i++)
		t[i] = tangle_spawn_on(r, "outside", inc_nothing, NULL);
	uint64_t t1 = rt_test_now_ns();
	assert_int_equal(rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_GLOBAL_QUEUE), 3);
	for (int i = 0; i < 3; i++) {
		uint64_t at = rd(t[i], TANGLE_DR_TASK, TANGLE_DF_TASK_SPAWNED_AT);
		assert_true(at >= t0 && at <= t1);
		assert_int_equal(rd(t[i], TANGLE_DR_TASK, TANGLE_DF_TASK_STATE),
		                 TANGLE_DEBUG_TASK_RUNNABLE);
	}
	assert_int_equal(tangle_runtime_run(r, joins_them, t), TANGLE_OK);
	assert_int_equal(tangle_runtime_run(r, queues_body, NULL), TANGLE_OK);
	tangle_runtime_free(r);
}

/* WORKER SWITCHES: every resumed task counts, on both flavours. */
struct switches {
	uint64_t spawn_join_delta, yield_delta;
};

static uint64_t all_switches(const void *rt)
{
	uint64_t n = 0, count = rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKER_COUNT);
	for (uint64_t i = 0; i < count; i++)
		n += rd_live(worker_at(rt, i), TANGLE_DR_WORKER, TANGLE_DF_WORKER_SWITCHES);
	return n;
}

static void *yields_a_while(void *arg)
{
	(void)arg;
	for (int i = 0; i < 40; i++)
		tangle_yield();
	return NULL;
}

static void *switches_body(void *arg)
{
	struct switches *s = arg;
	const void *rt = find_runtime("switches");
	/* Each spawned task is resumed at least once to run. */
	uint64_t before = all_switches(rt);
	for (int i = 0; i < 10; i++)
		tangle_join(tangle_spawn("once", inc_nothing, NULL), NULL);
	s->spawn_join_delta = all_switches(rt) - before;
	/* On one worker, each of our yields resumes the yielder and its
	 * yield resumes us. */
	if (rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKER_COUNT) == 1) {
		tangle_task *y = tangle_spawn("yielder", yields_a_while, NULL);
		before = all_switches(rt);
		for (int i = 0; i < 10; i++)
			tangle_yield();
		s->yield_delta = all_switches(rt) - before;
		tangle_join(y, NULL);
	}
	return NULL;
}

static void workers_count_their_switches(void **state)
{
	(void)state;
	for (unsigned workers = 0; workers <= 2; workers += 2) {
		struct switches s = {0};
		tangle_runtime *rt = new_runtime(workers, "switches");
		assert_int_equal(tangle_runtime_run(rt, switches_body, &s), TANGLE_OK);
		tangle_runtime_free(rt);
		assert_true(s.spawn_join_delta >= 10);
		if (workers == 0)
			assert_true(s.yield_delta >= 20);
	}
}

/* WORKER INDEX and IDLE_SINCE on a multi-thread runtime; the main task's
 * TASK WORKER names the worker that runs it. */
enum { IDLE_WORKERS = 3 };

struct idle_report {
	uint64_t index[IDLE_WORKERS];
	int64_t my_worker;
	int current_is_me;
	int found_idle;
	uint64_t idle_since, created, now;
};

static void *idle_body(void *arg)
{
	struct idle_report *r = arg;
	const void *rt = find_runtime("idle");
	const void *me = tangle_task_current();
	r->created = rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_CREATED_AT);
	for (uint64_t i = 0; i < IDLE_WORKERS; i++)
		r->index[i] = rd(worker_at(rt, i), TANGLE_DR_WORKER, TANGLE_DF_WORKER_INDEX);
	/* Nothing else to do: some other worker parks and says since when. */
	uint64_t end = rt_test_now_ns() + PATIENCE_NS;
	while (!r->found_idle && rt_test_now_ns() < end) {
		/* The worker running us, by our record and by its own. */
		r->my_worker = (int32_t)rd_live(me, TANGLE_DR_TASK, TANGLE_DF_TASK_WORKER);
		if (r->my_worker < 0 || r->my_worker >= IDLE_WORKERS)
			break;
		r->current_is_me = (const void *)(uintptr_t)rd_live(
			worker_at(rt, (uint64_t)r->my_worker), TANGLE_DR_WORKER,
			TANGLE_DF_WORKER_CURRENT) == me;
		for (uint64_t i = 0; i < IDLE_WORKERS; i++) {
			const char *w = worker_at(rt, i);
			if ((int64_t)i == r->my_worker)
				continue;
			uint64_t st = rd_live(w, TANGLE_DR_WORKER, TANGLE_DF_WORKER_STATE);
			uint64_t since = rd_live(w, TANGLE_DR_WORKER, TANGLE_DF_WORKER_IDLE_SINCE);
			if ((st == TANGLE_DEBUG_WORKER_IDLE || st == TANGLE_DEBUG_WORKER_POLLING) &&
			    since) {
				r->found_idle = 1;
				r->idle_since = since;
				r->now = rt_test_now_ns();
				break;
			}
		}
		if (!r->found_idle)
			tangle_sleep_ms(1);
	}
	return NULL;
}

static void workers_have_an_index_and_say_since_when_they_idle(void **state)
{
	(void)state;
	struct idle_report r = {0};
	tangle_runtime *rt = new_runtime(IDLE_WORKERS, "idle");
	assert_int_equal(tangle_runtime_run(rt, idle_body, &r), TANGLE_OK);
	tangle_runtime_free(rt);
	for (uint64_t i = 0; i < IDLE_WORKERS; i++)
		assert_int_equal(r.index[i], i);
	assert_true(r.my_worker >= 0 && r.my_worker < IDLE_WORKERS);
	assert_true(r.current_is_me);
	assert_true(r.found_idle);
	assert_true(r.idle_since >= r.created);
	assert_true(r.idle_since <= r.now);
}

/* RUNTIME WORKER_COUNT: workers = 0 means one per online CPU. */
static void the_default_worker_count_is_the_cpu_count(void **state)
{
	(void)state;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	assert_true(cpus > 0);
	tangle_runtime *a = tangle_runtime_new(NULL);
	assert_non_null(a);
	const void *ra = find_runtime("tangle");
	assert_non_null(ra);
	assert_int_equal(rd(ra, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKER_COUNT), cpus);
	assert_int_equal(rd(ra, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_FLAVOR),
	                 TANGLE_DEBUG_FLAVOR_MULTI_THREAD);
	tangle_runtime_free(a);
	tangle_config cfg = {.workers = 0, .name = "cpus"};
	tangle_runtime *b = tangle_runtime_new(&cfg);
	assert_non_null(b);
	const void *rb = find_runtime("cpus");
	assert_non_null(rb);
	assert_int_equal(rd(rb, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKER_COUNT), cpus);
	for (long i = 0; i < cpus; i++)
		assert_int_equal(rd(worker_at(rb, (uint64_t)i), TANGLE_DR_WORKER,
		                    TANGLE_DF_WORKER_INDEX), i);
	tangle_runtime_free(b);
}

/* RUNTIME BLOCKING_BUSY / BLOCKING_QUEUED: with one pool thread, one call
 * runs and a second waits for it. */
static _Atomic int gate_open, gate_entered;

static void *gated(void *arg)
{
	(void)arg;
	atomic_store(&gate_entered, 1);
	uint64_t end = rt_test_now_ns() + PATIENCE_NS;
	while (!atomic_load(&gate_open) && rt_test_now_ns() < end) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	return (void *)1;
}

static void *calls_blocking(void *arg)
{
	(void)arg;
	void *r = NULL;
	tangle_blocking(gated, NULL, &r);
	return r;
}

static uint64_t rt_busy(const void *rt)
{
	return rd_live(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_BLOCKING_BUSY);
}

static uint64_t rt_queued(const void *rt)
{
	return rd_live(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_BLOCKING_QUEUED);
}

static void *blocking_body(void *arg)
{
	(void)arg;
	const void *rt = find_runtime("pool");
	assert_int_equal(rt_busy(rt), 0);
	assert_int_equal(rt_queued(rt), 0);
	tangle_task *a = tangle_spawn("call-a", calls_blocking, NULL);
	assert_true(EVENTUALLY(atomic_load(&gate_entered) == 1));
	assert_int_equal(rt_busy(rt), 1);
	assert_int_equal(rt_queued(rt), 0);
	/* The pool's only thread is taken: the second call queues. */
	tangle_task *b = tangle_spawn("call-b", calls_blocking, NULL);
	const void *brec = b;
	assert_true(EVENTUALLY(task_state(brec) == TANGLE_DEBUG_TASK_WAITING));
	assert_int_equal(rt_busy(rt), 1);
	assert_int_equal(rt_queued(rt), 1);
	atomic_store(&gate_open, 1);
	void *ra = NULL, *rb = NULL;
	assert_int_equal(tangle_join(a, &ra), TANGLE_OK);
	assert_int_equal(tangle_join(b, &rb), TANGLE_OK);
	assert_ptr_equal(ra, (void *)1);
	assert_ptr_equal(rb, (void *)1);
	/* The pool thread counts itself out just after waking the caller. */
	assert_true(EVENTUALLY(rt_busy(rt) == 0));
	assert_int_equal(rt_queued(rt), 0);
	return NULL;
}

static void blocking_calls_are_counted_busy_and_queued(void **state)
{
	(void)state;
	tangle_config cfg = {.current_thread = 1, .blocking_threads = 1, .name = "pool"};
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	assert_non_null(rt);
	assert_int_equal(tangle_runtime_run(rt, blocking_body, NULL), TANGLE_OK);
	tangle_runtime_free(rt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(run_queues_and_the_global_queue_count_tasks),
		cmocka_unit_test(workers_count_their_switches),
		cmocka_unit_test(workers_have_an_index_and_say_since_when_they_idle),
		cmocka_unit_test(the_default_worker_count_is_the_cpu_count),
		cmocka_unit_test(blocking_calls_are_counted_busy_and_queued),
	};
	return cmocka_run_group_tests(tests, debug_reader_setup, NULL);
}
