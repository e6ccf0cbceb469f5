/* test_runtime.c — runtimes: both flavours, spawn_on and join from plain
 * threads, many tasks, several runtimes, run called again, and freeing one
 * where that is not allowed. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt_test.h"

static void *inc(void *arg)
{
	atomic_fetch_add((_Atomic long *)arg, 1);
	return arg;
}

static void *flavour_body(void *arg)
{
	_Atomic long *n = arg;
	assert_non_null(tangle_runtime_current());
	inc(n);
	return NULL;
}

static void both_flavours_run_the_main_task(void **state)
{
	(void)state;
	_Atomic long n = 0;
	rt_test_run(0, flavour_body, &n);
	rt_test_run(1, flavour_body, &n);
	rt_test_run(3, flavour_body, &n);
	assert_int_equal(atomic_load(&n), 3);
	tangle_runtime *rt = tangle_runtime_new(NULL); /* defaults */
	assert_non_null(rt);
	assert_int_equal(tangle_runtime_run(rt, flavour_body, &n), TANGLE_OK);
	assert_int_equal(tangle_runtime_run(rt, NULL, NULL), TANGLE_EINVAL);
	assert_int_equal(tangle_runtime_run(NULL, flavour_body, &n), TANGLE_EINVAL);
	tangle_runtime_free(rt);
	tangle_runtime_free(NULL);
}

static void spawn_on_and_join_from_a_plain_thread(void **state)
{
	(void)state;
	tangle_config cfg = {.workers = 2};
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	_Atomic long n = 0;
	tangle_task *t[50];
	for (int i = 0; i < 50; i++)
		t[i] = tangle_spawn_on(rt, "outside", inc, &n);
	for (int i = 0; i < 50; i++) {
		void *r;
		assert_int_equal(tangle_join(t[i], &r), TANGLE_OK);
		assert_ptr_equal(r, &n);
	}
	assert_int_equal(atomic_load(&n), 50);
	errno = 0;
	assert_null(tangle_spawn_on(NULL, "x", inc, &n));
	assert_int_equal(errno, EINVAL);
	tangle_runtime_free(rt);
}

/* Settings out of range or contradictory are refused with EINVAL, never
 * adjusted silently or left to fail later. */
static void bad_configs_are_refused(void **state)
{
	(void)state;
	static const tangle_config bad[] = {
		{.current_thread = 1, .workers = 4},
		{.stack_size = SIZE_MAX},
		{.stack_size = ((size_t)1 << 30) + 1},
		{.workers = 100000},
		{.blocking_threads = 1u << 20},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		assert_null(tangle_runtime_new(&bad[i]));
		assert_int_equal(errno, EINVAL);
	}
	/* the edges of the ranges are fine */
	tangle_config ok = {.current_thread = 1, .workers = 1, .stack_size = 1};
	tangle_runtime *rt = tangle_runtime_new(&ok);
	assert_non_null(rt);
	tangle_runtime_free(rt);
}

struct outside {
	tangle_runtime *rt;
	_Atomic long n;
	_Atomic int done;
};

static void *spawner_thread(void *arg)
{
	struct outside *o = arg;
	tangle_task *t = tangle_spawn_on(o->rt, "from-thread", inc, &o->n);
	tangle_join(t, NULL);
	atomic_store(&o->done, 1);
	return NULL;
}

static void *current_thread_body(void *arg)
{
	struct outside *o = arg;
	pthread_t th;
	pthread_create(&th, NULL, spawner_thread, o);
	while (!atomic_load(&o->done))
		tangle_sleep_ms(1);
	pthread_join(th, NULL);
	return NULL;
}

static void a_thread_spawns_on_a_current_thread_runtime(void **state)
{
	(void)state;
	tangle_config cfg = {.current_thread = 1};
	struct outside o = {0};
	o.rt = tangle_runtime_new(&cfg);
	assert_int_equal(tangle_runtime_run(o.rt, current_thread_body, &o), TANGLE_OK);
	assert_int_equal(atomic_load(&o.n), 1);
	/* Spawned while nobody runs it: runs at the next run. */
	tangle_task *t = tangle_spawn_on(o.rt, "later", inc, &o.n);
	assert_int_equal(tangle_runtime_run(o.rt, flavour_body, &o.n), TANGLE_OK);
	assert_int_equal(atomic_load(&o.n), 3);
	assert_int_equal(tangle_detach(t), TANGLE_OK);
	tangle_runtime_free(o.rt);
}

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
enum { MANY = 1000 }; /* each TSan fiber reserves ~1 MiB of trace memory */
#else
enum { MANY = 10000 };
#endif

static void *child(void *arg)
{
	_Atomic long *n = arg;
	tangle_yield();
	atomic_fetch_add(n, 1);
	return NULL;
}

static void *many_body(void *arg)
{
	(void)arg;
	_Atomic long n = 0;
	tangle_task **t = malloc(MANY * sizeof *t);
	for (int i = 0; i < MANY; i++) {
		t[i] = tangle_spawn("child", child, &n);
		assert_non_null(t[i]);
	}
	for (int i = 0; i < MANY; i++)
		assert_int_equal(tangle_join(t[i], NULL), TANGLE_OK);
	assert_int_equal(atomic_load(&n), MANY);
	free(t);
	return NULL;
}

static void ten_thousand_tasks_spawn_and_join(void **state)
{
	(void)state;
	rt_test_both(many_body, NULL);
}

static void *tree(void *arg)
{
	uintptr_t depth = (uintptr_t)arg;
	if (!depth)
		return (void *)1;
	tangle_task *a = tangle_spawn("l", tree, (void *)(depth - 1));
	tangle_task *b = tangle_spawn("r", tree, (void *)(depth - 1));
	void *ra, *rb;
	tangle_join(a, &ra);
	tangle_join(b, &rb);
	return (void *)((uintptr_t)ra + (uintptr_t)rb);
}

static void *tree_body(void *arg)
{
	(void)arg;
	assert_int_equal((uintptr_t)tree((void *)10), 1024);
	return NULL;
}

static void nested_spawns_form_a_tree(void **state)
{
	(void)state;
	rt_test_both(tree_body, NULL);
	rt_test_run(4, tree_body, NULL);
}

static void several_runtimes_coexist(void **state)
{
	(void)state;
	tangle_config a = {.workers = 2, .name = "a"}, b = {.current_thread = 1};
	tangle_runtime *ra = tangle_runtime_new(&a), *rb = tangle_runtime_new(&b);
	_Atomic long n = 0;
	assert_int_equal(tangle_runtime_run(rb, many_body, NULL), TANGLE_OK);
	assert_int_equal(tangle_runtime_run(ra, tree_body, NULL), TANGLE_OK);
	tangle_task *t = tangle_spawn_on(ra, "x", inc, &n);
	tangle_join(t, NULL);
	tangle_runtime_free(ra);
	tangle_runtime_free(rb);
	assert_int_equal(atomic_load(&n), 1);
}

static void *sleepy(void *arg)
{
	(void)arg;
	tangle_sleep_ms(100000);
	return NULL;
}

static void free_abandons_live_tasks(void **state)
{
	(void)state;
	tangle_config cfg = {.workers = 2};
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	for (int i = 0; i < 10; i++)
		tangle_detach(tangle_spawn_on(rt, "sleepy", sleepy, NULL));
	struct timespec ts = {0, 10000000};
	nanosleep(&ts, NULL);
	tangle_runtime_free(rt);
}

/* Run fn(arg) with stderr going into buf (NUL-terminated). */
static void capture_stderr(void (*fn)(void *), void *arg, char *buf, size_t cap)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(p[1], 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(p[1]);
	ssize_t n = read(p[0], buf, cap - 1);
	buf[n > 0 ? n : 0] = 0;
	close(p[0]);
}

static void free_current(void *arg)
{
	(void)arg;
	tangle_runtime_free(tangle_runtime_current());
}

static void *free_self_body(void *arg)
{
	char *buf = arg;
	capture_stderr(free_current, NULL, buf, 512);
	/* Still alive and well. */
	_Atomic long n = 0;
	tangle_task *t = tangle_spawn("after", inc, &n);
	assert_int_equal(tangle_join(t, NULL), TANGLE_OK);
	assert_int_equal(atomic_load(&n), 1);
	return NULL;
}

static void freeing_a_runtime_from_its_own_task_says_so(void **state)
{
	(void)state;
	for (unsigned workers = 0; workers <= 2; workers += 2) {
		char buf[512];
		rt_test_run(workers, free_self_body, buf);
		assert_non_null(strstr(buf, "tangle: tangle_runtime_free(\"test\") called "
		                            "from one of its own tasks"));
		assert_non_null(strstr(buf, "\"main\"): ignored\n"));
		int lines = 0;
		for (const char *c = buf; *c; c++)
			lines += *c == '\n';
		assert_int_equal(lines, 1);
	}
}

static void *free_other_body(void *arg)
{
	tangle_runtime *other = arg;
	_Atomic long n = 0;
	tangle_task *t = tangle_spawn_on(other, "there", inc, &n);
	assert_int_equal(tangle_join(t, NULL), TANGLE_OK);
	tangle_runtime_free(other); /* another runtime: allowed */
	return NULL;
}

static void a_task_may_free_another_runtime(void **state)
{
	(void)state;
	for (unsigned workers = 0; workers <= 2; workers += 2) {
		tangle_config cfg = {.workers = 2, .name = "other"};
		tangle_runtime *other = tangle_runtime_new(&cfg);
		assert_non_null(other);
		rt_test_run(workers, free_other_body, other);
	}
}

struct busy_free {
	tangle_runtime *rt;
	char buf[512];
	_Atomic int done;
};

static void free_rt(void *arg)
{
	tangle_runtime_free(arg);
}

static void *free_from_thread(void *arg)
{
	struct busy_free *b = arg;
	capture_stderr(free_rt, b->rt, b->buf, sizeof b->buf);
	atomic_store(&b->done, 1);
	return NULL;
}

static void *run_while_freed_body(void *arg)
{
	struct busy_free *b = arg;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, free_from_thread, b), 0);
	while (!atomic_load(&b->done))
		tangle_sleep_ms(1);
	pthread_join(th, NULL);
	return NULL;
}

static void freeing_a_running_current_thread_runtime_says_so(void **state)
{
	(void)state;
	tangle_config cfg = {.current_thread = 1, .name = "busy"};
	struct busy_free b = {.rt = tangle_runtime_new(&cfg)};
	assert_int_equal(tangle_runtime_run(b.rt, run_while_freed_body, &b), TANGLE_OK);
	assert_string_equal(b.buf, "tangle: tangle_runtime_free(\"busy\") called while "
	                           "tangle_runtime_run runs it: ignored\n");
	tangle_runtime_free(b.rt);
}

/* workers = 0 means one worker per online CPU: that many tasks that
 * wait for each other without yielding all run at once, each on a
 * thread of its own. */
struct rendezvous {
	long need;
	_Atomic long arrived;
	long met; /* tasks that saw all the others arrive */
	pid_t *tids;
};

struct arrival {
	struct rendezvous *r;
	long slot;
};

static void *arrive_and_wait(void *arg)
{
	struct arrival *a = arg;
	struct rendezvous *r = a->r;
	r->tids[a->slot] = gettid();
	atomic_fetch_add(&r->arrived, 1);
	/* Spin (holding the worker) until all are here; generous bound. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	time_t end = ts.tv_sec + 30;
	while (atomic_load(&r->arrived) < r->need) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec > end)
			return (void *)0;
		sched_yield();
	}
	return (void *)1;
}

static void *rendezvous_body(void *arg)
{
	struct rendezvous *r = arg;
	tangle_task **t = calloc((size_t)r->need, sizeof *t);
	struct arrival *a = calloc((size_t)r->need, sizeof *a);
	for (long i = 0; i < r->need; i++) {
		a[i] = (struct arrival){r, i};
		t[i] = tangle_spawn("rendezvous", arrive_and_wait, &a[i]);
	}
	long met = 0;
	for (long i = 0; i < r->need; i++) {
		void *res = NULL;
		tangle_join(t[i], &res);
		met += res == (void *)1;
	}
	free(a);
	free(t);
	r->met = met;
	return NULL;
}

static void the_default_is_one_worker_per_cpu(void **state)
{
	(void)state;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	assert_true(cpus > 0);
	struct rendezvous r = {.need = cpus};
	r.tids = calloc((size_t)cpus, sizeof *r.tids);
	tangle_config cfg = {.workers = 0, .name = "percpu"};
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	assert_non_null(rt);
	/* The main task joins (it does not hold a worker meanwhile). */
	assert_int_equal(tangle_runtime_run(rt, rendezvous_body, &r), TANGLE_OK);
	tangle_runtime_free(rt);
	assert_int_equal(atomic_load(&r.arrived), cpus);
	assert_int_equal(r.met, cpus);
	for (long i = 0; i < cpus; i++)
		for (long j = i + 1; j < cpus; j++)
			assert_true(r.tids[i] != r.tids[j]);
	free(r.tids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(both_flavours_run_the_main_task),
		cmocka_unit_test(spawn_on_and_join_from_a_plain_thread),
		cmocka_unit_test(bad_configs_are_refused),
		cmocka_unit_test(a_thread_spawns_on_a_current_thread_runtime),
		cmocka_unit_test(ten_thousand_tasks_spawn_and_join),
		cmocka_unit_test(nested_spawns_form_a_tree),
		cmocka_unit_test(several_runtimes_coexist),
		cmocka_unit_test(free_abandons_live_tasks),
		cmocka_unit_test(freeing_a_runtime_from_its_own_task_says_so),
		cmocka_unit_test(a_task_may_free_another_runtime),
		cmocka_unit_test(freeing_a_running_current_thread_runtime_says_so),
		cmocka_unit_test(the_default_is_one_worker_per_cpu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
