/*
 * test_corrupt.c — hostile memory: cycles in every list, wild pointers,
 * huge counts, truncated slabs, unterminated strings and bad layout
 * entries give an error or an "unreadable" mark, never a crash or a hang
 * (this file runs under ASan+UBSan), and the rest is still decoded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenarios.h"

#define WILD 0xdead0000beefull

static const char *const commands[] = {
	"triage", "triage --json", "tasks", "tasks --group", "tasks --json",
	"bt all", "bt all --all", "locks", "locks --json", "deadlocks",
	"deadlocks --json", "graph", "graph --json", "bt all --json", "why 12",
	"why 13 --json",
};

/* Every command; returns the triage text (malloc'd). */
static char *exercise(tangle_session *s)
{
	char *triage = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		int st;
		char *out = tb_run(s, commands[i], &st);
		assert_non_null(out);
		assert_true(st >= 0 && st <= 2);
		if (i == 0)
			triage = out;
		else
			tangle_inspect_free(out);
	}
	tangle_task_info info;
	for (size_t i = 0; i < tangle_session_task_count(s); i++) {
		assert_int_equal(tangle_session_task_at(s, i, &info), 0);
		char buf[200];
		tangle_session_describe(s, info.address, buf, sizeof(buf));
	}
	return triage;
}

static tb *base(unsigned seed)
{
	tb *b = tb_new(&(tb_opts){.seed = seed, .size = 1u << 20});
	sc_lock_order(b, 12, 0, "accounts", "ledger");
	sc_ring(b, 40);
	sc_permits(b, 60);
	return b;
}

/* Open after `damage` ran on the frozen table; expect a problem mentioning
 * `mark` (or, with mark NULL, just survival). */
static void check(tb *b, const char *mark)
{
	tangle_error *err = NULL;
	tangle_session *s = tb_open(b, NOW, &err);
	if (!s) {
		assert_non_null(err);
		assert_non_null(err->message);
		if (mark && !strstr(err->message, mark))
			fail_msg("error '%s' lacks '%s'", err->message, mark);
		tangle_error_free(err);
		tb_free(b);
		return;
	}
	char *out = exercise(s);
	if (mark && !strstr(out, mark))
		fail_msg("no '%s' in:\n%s", mark, out);
	tangle_inspect_free(out);
	tangle_session_free(s);
	tb_free(b);
}

static tb *frozen(unsigned seed)
{
	tb *b = base(seed);
	tangle_reader r;
	tb_reader(b, &r);
	return b;
}

static void test_list_cycles(void **state)
{
	(void)state;
	tb *b = frozen(1);
	tb_set(b, TANGLE_DR_RUNTIME, tb_runtime(b, 0), TANGLE_DF_RUNTIME_NEXT, tb_runtime(b, 0));
	check(b, "runtime list loops");

	b = base(2);
	for (int i = 0; i < 70; i++) /* a second slab */
		tb_task(b, 100 + (uint64_t)i, "filler", TANGLE_DEBUG_TASK_RUNNABLE);
	tangle_reader r;
	tb_reader(b, &r);
	tb_set(b, TANGLE_DR_SLAB, tb_slab(b, 0, 1), TANGLE_DF_SLAB_NEXT, tb_slab(b, 0, 0));
	check(b, "slab list loops");

	b = frozen(3);
	uint64_t head = 0;
	memcpy(&head, (char *)tb_ptr(b, tb_root(b)) + tb_off(b, TANGLE_DR_ROOT, TANGLE_DF_ROOT_OBJECTS), 8);
	tb_set(b, TANGLE_DR_OBJECT, head, TANGLE_DF_OBJECT_NEXT, head);
	check(b, "object registry loops");

	/* a waiter queue that loops: the permits waiters point back */
	b = tb_new(&(tb_opts){.seed = 4});
	uint64_t m = tb_mutex(b, "loop");
	uint64_t t1 = tb_task(b, 1, "a", TANGLE_DEBUG_TASK_WAITING);
	uint64_t t2 = tb_task(b, 2, "b", TANGLE_DEBUG_TASK_WAITING);
	tb_wait(b, t1, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, m, TB_S(1), 0, 1);
	tb_wait(b, t2, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, m, TB_S(1), 0, 1);
	tb_reader(b, &r);
	tb_set(b, TANGLE_DR_WAITER, tb_task_waiter(b, t2), TANGLE_DF_WAITER_NEXT,
	       tb_task_waiter(b, t1));
	check(b, "waiter queue of mutex \"loop\" loops");
}

static void test_wild_pointers(void **state)
{
	(void)state;
	const int T = TANGLE_DR_TASK, W = TANGLE_DR_WAITER, O = TANGLE_DR_OBJECT;
	tb *b = base(5);
	uint64_t t = tb_task(b, 90, "wild", TANGLE_DEBUG_TASK_WAITING);
	tb_set(b, T, t, TANGLE_DF_TASK_SPAWN_SITE, WILD);
	uint64_t w = tb_wait(b, t, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, WILD, TB_S(1),
	                     WILD + 8, 0);
	tb_set(b, W, w, TANGLE_DF_WAITER_WHAT, WILD);
	tb_hold(b, t, tb_mutex(b, "named"), TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, TB_S(1), WILD);
	uint64_t o = tb_mutex(b, "x");
	tb_set(b, O, o, TANGLE_DF_OBJECT_NAME, WILD);
	tb_set(b, O, o, TANGLE_DF_OBJECT_CREATED_AT, WILD);
	tb_set(b, O, o, TANGLE_DF_OBJECT_WAITERS, WILD);
	tb_set(b, O, o, TANGLE_DF_OBJECT_WAITERS2, 1);
	tb_set(b, O, o, TANGLE_DF_OBJECT_OWNER_ID, 90);
	check(b, "object record at 0xdead0000beef unreadable");

	b = frozen(6);
	tb_set(b, TANGLE_DR_RUNTIME, tb_runtime(b, 0), TANGLE_DF_RUNTIME_WORKERS, WILD);
	tb_set(b, TANGLE_DR_SLAB, tb_slab(b, 0, 0), TANGLE_DF_SLAB_TASKS, WILD);
	check(b, "unreadable");

	b = frozen(7);
	tb_root_set(b, TANGLE_DF_ROOT_RUNTIMES, WILD);
	tb_root_set(b, TANGLE_DF_ROOT_OBJECTS, WILD);
	check(b, "runtime record at 0xdead0000beef unreadable");

	/* the worker's current task points into the middle of nowhere */
	b = base(8);
	tb_set(b, TANGLE_DR_WORKER, tb_worker(b, 0, 0), TANGLE_DF_WORKER_STATE,
	       TANGLE_DEBUG_WORKER_RUNNING);
	tb_set(b, TANGLE_DR_WORKER, tb_worker(b, 0, 0), TANGLE_DF_WORKER_CURRENT, WILD);
	tb_set(b, TANGLE_DR_WORKER, tb_worker(b, 0, 0), TANGLE_DF_WORKER_RUNNING_SINCE, TB_S(1));
	check(b, "worker 0 (tid 1000)  running\n  (no unwinder: frames not shown)");
}

static void test_huge_counts(void **state)
{
	(void)state;
	const int T = TANGLE_DR_TASK, O = TANGLE_DR_OBJECT;
	tb *b = base(9);
	uint64_t t = tb_task(b, 91, "huge", TANGLE_DEBUG_TASK_WAITING);
	tb_set(b, T, t, TANGLE_DF_TASK_HOLD_COUNT, 255);
	tb_set(b, T, t, TANGLE_DF_TASK_LABEL_COUNT, 255);
	tb_set(b, T, t, TANGLE_DF_TASK_SPAN_DEPTH, 255);
	tb_set(b, T, t, TANGLE_DF_TASK_HOLD_OVERFLOW, 0xffffffff);
	uint64_t o = tb_mutex(b, "big");
	tb_set(b, O, o, TANGLE_DF_OBJECT_WAITER_COUNT, 0xffffffff);
	tangle_reader r;
	tb_reader(b, &r);
	tb_set(b, TANGLE_DR_RUNTIME, tb_runtime(b, 0), TANGLE_DF_RUNTIME_WORKER_COUNT, 0xffffffff);
	tb_set(b, TANGLE_DR_SLAB, tb_slab(b, 0, 0), TANGLE_DF_SLAB_CAPACITY, 0xffffffff);
	tb_root_set(b, TANGLE_DF_ROOT_OBJECT_COUNT, 0xffffffff);
	check(b, "hold count 255 exceeds its 4 slots");
}

/* Many records sharing one array or one queue: bounded work, no repeats. */
static void test_shared_arrays(void **state)
{
	(void)state;
	const int S = TANGLE_DR_SLAB, O = TANGLE_DR_OBJECT;
	tb *b = base(16);
	uint64_t first = tb_slab(b, 0, 0), tasks = 0;
	memcpy(&tasks, (char *)tb_ptr(b, first) + tb_off(b, S, TANGLE_DF_SLAB_TASKS), 8);
	uint64_t prev = first;
	for (int i = 0; i < 300; i++) { /* 300 more slabs over the same records */
		uint64_t sl = tb_alloc(b, tb_size(b, S));
		memcpy(tb_ptr(b, sl), tb_ptr(b, first), tb_size(b, S));
		tb_set(b, S, sl, TANGLE_DF_SLAB_NEXT, 0);
		tb_set(b, S, prev, TANGLE_DF_SLAB_NEXT, sl);
		prev = sl;
	}
	/* 500 mutexes whose queues all start at the same waiter */
	uint64_t m = tb_mutex(b, "shared");
	uint64_t t = tb_task(b, 300, "q", TANGLE_DEBUG_TASK_WAITING);
	tb_wait(b, t, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, m, TB_S(1), 0, 1);
	for (int i = 0; i < 500; i++) {
		uint64_t o = tb_mutex(b, "copy");
		tb_set(b, O, o, TANGLE_DF_OBJECT_WAITERS, tb_task_waiter(b, t));
	}
	tangle_error *err = NULL;
	tangle_session *s = tb_open(b, NOW, &err);
	assert_non_null(s);
	int st;
	char *out = tb_run(s, "triage", &st);
	assert_non_null(strstr(out, "belong to another slab too"));
	assert_non_null(strstr(out, "waits on 0x"));
	tangle_inspect_free(out);
	tangle_session_free(s);
	tb_free(b);
}

static void test_truncated_slab(void **state)
{
	(void)state;
	tb *b = base(10);
	for (int i = 0; i < 10; i++)
		tb_task(b, 200 + (uint64_t)i, "late", TANGLE_DEBUG_TASK_RUNNABLE);
	/* hide the second half of the slab's task records */
	uint64_t slab = tb_slab(b, 0, 0);
	uint64_t tasks = 0;
	memcpy(&tasks, (char *)tb_ptr(b, slab) + tb_off(b, TANGLE_DR_SLAB, TANGLE_DF_SLAB_TASKS), 8);
	uint32_t stride = tb_size(b, TANGLE_DR_TASK) + 16;
	tb_hole(b, tasks + 10ull * stride + 40, (size_t)stride * 54);
	tangle_error *err = NULL;
	tangle_session *s = tb_open(b, NOW, &err);
	assert_non_null(s);
	assert_int_equal(tangle_session_task_count(s), 10); /* the readable ones */
	char *out = exercise(s);
	assert_non_null(strstr(out, "task records 10..63 unreadable"));
	tangle_inspect_free(out);
	tangle_session_free(s);
	tb_free(b);
}

static void test_unterminated_strings(void **state)
{
	(void)state;
	tb *b = base(11);
	uint64_t t = tb_task(b, 92, "", TANGLE_DEBUG_TASK_WAITING);
	memset(tb_ptr(b, t + tb_off(b, TANGLE_DR_TASK, TANGLE_DF_TASK_NAME)), 'A', 32);
	/* a name string that runs to the end of readable memory */
	uint64_t o = tb_mutex(b, "x");
	uint64_t end = tb_alloc(b, 16);
	memset(tb_ptr(b, end), 'B', 16);
	tb_set(b, TANGLE_DR_OBJECT, o, TANGLE_DF_OBJECT_NAME, end);
	tb_wait(b, t, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, o, TB_S(1), 0, 1);
	tangle_error *err = NULL;
	tangle_session *s = tb_open(b, NOW, &err);
	assert_non_null(s);
	int st;
	char *out = tb_run(s, "tasks", &st);
	assert_non_null(strstr(out, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	assert_non_null(strstr(out, "BBBBBBBBBBBBBBBB"));
	tangle_inspect_free(out);
	tangle_session_free(s);
	tb_free(b);
}

static void test_bad_layout(void **state)
{
	(void)state;
	tb *b = base(12);
	tb_layout_extra(b, TANGLE_DR_TASK, 1, 0, 8); /* duplicate: the first wins */
	tb_drop_field(b, TANGLE_DR_TASK, TANGLE_DF_TASK_NAME);
	tb_layout_extra(b, TANGLE_DR_TASK, TANGLE_DF_TASK_NAME, 0xfffffff0, 64);
	check(b, "layout: field 5.5");

	/* a task record without an id: nothing can be decoded */
	b = base(13);
	tb_drop_field(b, TANGLE_DR_TASK, TANGLE_DF_TASK_ID);
	check(b, "no task record with id and state");

	/* header damage */
	const size_t offs[] = {12, 16, 20, 24, 28, 29};
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		b = frozen(14);
		uint8_t *h = tb_ptr(b, tb_root(b));
		memset(h + offs[i], 0xff, offs[i] >= 28 ? 1 : 4);
		check(b, "debug table");
	}
	/* an inline array narrower than its element */
	b = base(15);
	tb_drop_field(b, TANGLE_DR_TASK, TANGLE_DF_TASK_WAIT);
	tb_layout_extra(b, TANGLE_DR_TASK, TANGLE_DF_TASK_WAIT,
	                tb_off(b, TANGLE_DR_TASK, TANGLE_DF_TASK_WAIT), 4);
	check(b, "narrower than its element record");
}

/* Random damage with a fixed seed: survive every time. */
static void test_random_damage(void **state)
{
	(void)state;
	unsigned seed = 12345;
	for (int round = 0; round < 400; round++) {
		tb *b = frozen((unsigned)round);
		uint8_t *start = tb_ptr(b, tb_root(b)); /* the table follows the root */
		for (int k = 0; k < 30; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t off = (seed >> 8) % 40000;
			start[off] = (uint8_t)(seed >> 3);
		}
		check(b, NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_cycles),
		cmocka_unit_test(test_wild_pointers),
		cmocka_unit_test(test_huge_counts),
		cmocka_unit_test(test_shared_arrays),
		cmocka_unit_test(test_truncated_slab),
		cmocka_unit_test(test_unterminated_strings),
		cmocka_unit_test(test_bad_layout),
		cmocka_unit_test(test_random_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
