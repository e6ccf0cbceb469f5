/*
 * test_decode.c — decoding by description: any layout and byte order gives
 * the same view; versions are refused by major only, naming both; unknown
 * ids are ignored and missing fields are absent; the task calls frontends
 * use (task info, saved context, describe) and the readers.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenarios.h"

static void build(tb *b)
{
	sc_lock_order(b, 12, 0, "accounts", "ledger");
	uint64_t t = tb_task(b, 30, "api-handler", TANGLE_DEBUG_TASK_WAITING);
	tb_label(b, t, "user", "alice");
	tb_label(b, t, "route", "/pay");
	tb_span(b, t, "request", tb_site(b, "api.c", "serve", 10), TB_S(98));
	tb_span(b, t, "db-query", tb_site(b, "db.c", "query", 20), TB_S(99));
	uint64_t w = tb_wait(b, t, TANGLE_DEBUG_WAIT_IO, TANGLE_DEBUG_OP_IO_READ, 0, TB_S(99),
	                     tb_site(b, "/home/u/db.c", "query", 22), 0);
	tb_set(b, TANGLE_DR_WAITER, w, TANGLE_DF_WAITER_COUNT, 7);
	/* 2.1 layouts: in its fd's queue, as the runtime puts it */
	tb_set(b, TANGLE_DR_WAITER, w, TANGLE_DF_WAITER_QUEUE, tb_alloc(b, 64));
}

static char *run(tangle_session *s, const char *line)
{
	int st;
	char *out = tb_run(s, line, &st);
	assert_true(st == 0 || st == 1);
	return out;
}

static void test_any_layout(void **state)
{
	(void)state;
	char *ref = NULL;
	const tb_opts opts[] = {{.seed = 0}, {.seed = 21, .big_endian = 1},
	                        {.seed = 99, .base = 0x1000000}, {.seed = 5, .big_endian = 1},
	                        /* 2.1: the same table, what it no longer keeps
	                         * derived from what it does */
	                        {.seed = 7, .minor = 1, .mutex_hold_on_object = 1,
	                         .implied_wakers = 1}};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		tb *b = tb_new(&opts[i]);
		build(b);
		tangle_error *err = NULL;
		tangle_session *s = tb_open(b, NOW, &err);
		assert_null(err);
		assert_int_equal(tangle_session_task_count(s), 3);
		char *out = run(s, "triage");
		char *tasks = run(s, "tasks");
		size_t n = strlen(out) + strlen(tasks) + 1;
		char *both = malloc(n);
		snprintf(both, n, "%s%s", out, tasks);
		tangle_inspect_free(out);
		tangle_inspect_free(tasks);
		if (!ref)
			ref = both;
		else {
			assert_string_equal(ref, both);
			free(both);
		}
		tangle_session_free(s);
		tb_free(b);
	}
	assert_non_null(strstr(ref, "io-read fd 7"));
	free(ref);
}

static void test_version_refused(void **state)
{
	(void)state;
	tb *b = tb_new(&(tb_opts){.major = 4, .minor = 3});
	tangle_error *err = NULL;
	tangle_session *s = tb_open(b, NOW, &err);
	assert_null(s);
	assert_non_null(err);
	assert_int_equal(err->code, TANGLE_INSPECT_EVERSION);
	assert_string_equal(err->message,
	                    "debug table ABI version 4.3 cannot be read by this tangle, "
	                    "which reads ABI version 1.x to 3.x (up to 3.0)");
	tangle_error_free(err);
	tb_free(b);
}

static void test_newer_minor(void **state)
{
	(void)state;
	tb *b = tb_new(&(tb_opts){.minor = 9, .seed = 4});
	build(b);
	tb_layout_extra(b, TANGLE_DR_TASK, 31, 0, 8);   /* a field id we do not know */
	tb_layout_extra(b, 11, 30, 4, 4);                /* a known record, new field */
	tb_layout_extra(b, 200, 1, 0, 8);                /* a record we do not know */
	tb_layout_extra(b, 200, 0, 0, 64);
	tangle_error *err = NULL;
	tangle_session *s = tb_open(b, NOW, &err);
	assert_null(err);
	assert_int_equal(tangle_session_task_count(s), 3);
	assert_int_equal(tb_count(s, "deadlock", NULL), 1);
	tangle_session_free(s);
	tb_free(b);
}

/* 2.1: a worker's queue length is its run queue's TAIL - (u32)HEAD; a
 * torn pair (TAIL behind HEAD) reads as empty. */
static void test_runq_length(void **state)
{
	(void)state;
	tb *b = tb_new(&(tb_opts){.seed = 3, .minor = 1, .mutex_hold_on_object = 1,
	                          .implied_wakers = 1});
	build(b);
	const int W = TANGLE_DR_WORKER;
	tb_set(b, W, tb_worker(b, 0, 0), TANGLE_DF_WORKER_RUNQ_HEAD, (9ull << 32) | 7);
	tb_set(b, W, tb_worker(b, 0, 0), TANGLE_DF_WORKER_RUNQ_TAIL, 10);
	tb_set(b, W, tb_worker(b, 0, 1), TANGLE_DF_WORKER_RUNQ_HEAD, 5);
	tb_set(b, W, tb_worker(b, 0, 1), TANGLE_DF_WORKER_RUNQ_TAIL, 4);
	tangle_error *err = NULL;
	tangle_session *s = tb_open(b, NOW, &err);
	assert_null(err);
	char *out = run(s, "triage --json");
	char *w = strstr(out, "\"workers\": [");
	assert_non_null(w);
	char *q0 = strstr(w, "\"queue\": ");
	assert_non_null(q0);
	assert_int_equal(atoi(q0 + strlen("\"queue\": ")), 3);
	char *q1 = strstr(q0 + 1, "\"queue\": ");
	assert_non_null(q1);
	assert_int_equal(atoi(q1 + strlen("\"queue\": ")), 0);
	tangle_inspect_free(out);
	tangle_session_free(s);
	tb_free(b);
}

static void test_missing_fields(void **state)
{
	(void)state;
	tb *b = tb_new(&(tb_opts){.seed = 8});
	build(b);
	uint64_t t = tb_task(b, 50, "parked", TANGLE_DEBUG_TASK_WAITING);
	tb_wait(b, t, TANGLE_DEBUG_WAIT_PARK, TANGLE_DEBUG_OP_PARK, 0, TB_S(90), 0, 0);
	tb_set(b, TANGLE_DR_TASK, t, TANGLE_DF_TASK_LIVE_WAKERS, 0);
	tb_drop_field(b, TANGLE_DR_TASK, TANGLE_DF_TASK_LIVE_WAKERS);
	tb_drop_field(b, TANGLE_DR_TASK, TANGLE_DF_TASK_LABELS);
	tb_drop_field(b, TANGLE_DR_TASK, TANGLE_DF_TASK_SPANS);
	tb_drop_field(b, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_CREATED_AT);
	tangle_error *err = NULL;
	tangle_session *s = tb_open(b, NOW, &err);
	assert_null(err);
	/* without LIVE_WAKERS nothing can be said about lost wakers */
	assert_int_equal(tb_count(s, "lost-waker", NULL), 0);
	assert_int_equal(tb_count(s, "deadlock", NULL), 1);
	char *out = run(s, "bt 30");
	assert_null(strstr(out, "labels:"));
	tangle_inspect_free(out);
	tangle_session_free(s);
	tb_free(b);
}

static void test_not_a_table(void **state)
{
	(void)state;
	tb *b = tb_new(NULL);
	tangle_reader r;
	tb_reader(b, &r);
	/* no symbol: a reader without lookup */
	tangle_reader nolookup = r;
	nolookup.lookup = NULL;
	tangle_session *s = NULL;
	tangle_error *err = tangle_session_open(&nolookup, NULL, NULL, &s);
	assert_non_null(err);
	assert_int_equal(err->code, TANGLE_INSPECT_ENOTABLE);
	assert_non_null(strstr(err->message, "tangle_debug_root"));
	tangle_error_free(err);
	/* bad magic */
	tangle_session_options o = {.root = tb_root(b) + 64};
	err = tangle_session_open(&r, NULL, &o, &s);
	assert_non_null(err);
	assert_int_equal(err->code, TANGLE_INSPECT_ENOTABLE);
	tangle_error_free(err);
	/* unreadable root */
	o.root = 0x10;
	err = tangle_session_open(&r, NULL, &o, &s);
	assert_non_null(err);
	assert_int_equal(err->code, TANGLE_INSPECT_EREAD);
	tangle_error_free(err);
	assert_null(s);
	tb_free(b);
}

static void test_filters_labels_spans(void **state)
{
	(void)state;
	tb *b = tb_new(&(tb_opts){.seed = 2});
	build(b);
	tangle_session *s = tb_open(b, NOW, NULL);
	char *out = run(s, "tasks --label user=alice");
	assert_non_null(strstr(out, "api-handler"));
	assert_null(strstr(out, "transfer-a"));
	tangle_inspect_free(out);
	out = run(s, "tasks --name transfer-*");
	assert_non_null(strstr(out, "transfer-a"));
	assert_non_null(strstr(out, "transfer-b"));
	assert_null(strstr(out, "api-handler"));
	tangle_inspect_free(out);
	out = run(s, "tasks --state waiting --name nothing*");
	assert_null(strstr(out, "transfer"));
	tangle_inspect_free(out);
	out = run(s, "bt 30");
	assert_non_null(strstr(out, "labels: user=alice route=/pay"));
	assert_non_null(strstr(out, "spans: request > db-query"));
	assert_non_null(strstr(out, "at db.c:22 query  <- awaiting I/O on fd 7"));
	tangle_inspect_free(out);
	int st;
	out = tb_run(s, "tasks --state sleeping", &st);
	assert_int_equal(st, 2);
	assert_non_null(strstr(out, "unknown state 'sleeping'"));
	tangle_inspect_free(out);
	tangle_session_free(s);
	tb_free(b);
}

static void test_task_info_context(void **state)
{
	(void)state;
	tb *b = tb_new(&(tb_opts){.seed = 3});
	build(b);
	uint64_t t = tb_task(b, 60, "suspended", TANGLE_DEBUG_TASK_WAITING);
	tb_wait(b, t, TANGLE_DEBUG_WAIT_SLEEP, TANGLE_DEBUG_OP_SLEEP, 0, TB_S(99), 0, 0);
	uint64_t stack = tb_alloc(b, 4096);
	uint64_t sp = stack + 4096 - 7 * 8 - 64;
	for (int i = 0; i < 7; i++)
		tb_put(b, sp + 8 * (uint64_t)i, 0x1000 + (uint64_t)i, 8);
	tb_set(b, TANGLE_DR_TASK, t, TANGLE_DF_TASK_SAVED_SP, sp);
	tb_set(b, TANGLE_DR_TASK, t, TANGLE_DF_TASK_STACK_LO, stack);
	tb_set(b, TANGLE_DR_TASK, t, TANGLE_DF_TASK_STACK_HI, stack + 4096);
	tangle_session *s = tb_open(b, NOW, NULL);
	tangle_task_info info;
	assert_int_equal(tangle_session_task_by_id(s, 60, &info), 0);
	assert_int_equal(info.suspended, 1);
	assert_int_equal(info.context.count, 6);
	assert_int_equal(info.context.regs[0].dwarf, 15);
	assert_int_equal(info.context.regs[0].value, 0x1000);
	assert_int_equal(info.context.regs[5].dwarf, 6);
	assert_int_equal(info.context.pc, 0x1006);
	assert_int_equal(info.context.sp, sp + 56);
	assert_int_equal(info.context.saved_sp, sp);
	assert_int_equal(info.context.resume_pc, 0x401000);
	assert_int_equal(info.context.arch, 62);
	assert_string_equal(info.name, "suspended");
	assert_string_equal(info.wait, "sleep");
	assert_int_equal(tangle_session_task_by_id(s, 12, &info), 0);
	assert_int_equal(info.suspended, 0); /* no saved sp */
	assert_string_equal(info.wait, "lock mutex \"ledger\"");
	assert_int_equal(tangle_session_task_by_id(s, 4242, &info), -1);
	assert_int_equal(tangle_session_task_at(s, 0, &info), 0);
	assert_int_equal(info.id, 12);
	assert_int_equal(tangle_session_task_at(s, 4, &info), -1);
	char buf[256];
	assert_int_equal(tangle_session_describe(s, info.address, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "task 12 \"transfer-a\" waiting 4.1s: lock mutex \"ledger\"");
	assert_int_equal(tangle_session_describe(s, 0x1234, buf, sizeof(buf)), -1);
	assert_string_equal(buf, "");
	tangle_session_free(s);
	tb_free(b);
}

static void test_describe_object(void **state)
{
	(void)state;
	tb *b = tb_new(&(tb_opts){.seed = 3});
	uint64_t m = tb_mutex(b, "ledger");
	uint64_t owner = tb_task(b, 13, "transfer-b", TANGLE_DEBUG_TASK_RUNNABLE);
	tb_hold(b, owner, m, TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, TB_S(96), 0);
	uint64_t w = tb_task(b, 12, "transfer-a", TANGLE_DEBUG_TASK_WAITING);
	tb_wait(b, w, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, m, TB_S(96), 0, 1);
	tangle_session *s = tb_open(b, NOW, NULL);
	char buf[256];
	assert_int_equal(tangle_session_describe(s, m, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "mutex \"ledger\" held by task 13 \"transfer-b\", 1 waiter");
	tangle_session_free(s);
	tb_free(b);
}

/* Briefs: ids, states and the worker of a running task, as task_at gives
 * them, without the context (tb's reader would fail the test if it were
 * asked for a stack: the suspended task's saved sp points at a hole). */
static void test_task_briefs(void **state)
{
	(void)state;
	tb *b = tb_new(&(tb_opts){.seed = 3});
	uint64_t run = tb_task(b, 5, "runner", TANGLE_DEBUG_TASK_RUNNABLE);
	tb_running(b, run, 1, TB_S(99));
	uint64_t t = tb_task(b, 7, "sleeper", TANGLE_DEBUG_TASK_WAITING);
	tb_wait(b, t, TANGLE_DEBUG_WAIT_SLEEP, TANGLE_DEBUG_OP_SLEEP, 0, TB_S(99), 0, 0);
	uint64_t stack = tb_alloc(b, 4096);
	tb_set(b, TANGLE_DR_TASK, t, TANGLE_DF_TASK_SAVED_SP, stack + 2048);
	tb_set(b, TANGLE_DR_TASK, t, TANGLE_DF_TASK_STACK_LO, stack);
	tb_set(b, TANGLE_DR_TASK, t, TANGLE_DF_TASK_STACK_HI, stack + 4096);
	tb_task(b, 9, "ready", TANGLE_DEBUG_TASK_RUNNABLE);
	tangle_session *s = tb_open(b, NOW, NULL);
	tb_hole(b, stack, 4096); /* a context read now fails */
	tangle_task_brief br[4];
	assert_int_equal(tangle_session_task_briefs(s, 0, br, 4), 3);
	assert_int_equal(br[0].id, 5);
	assert_int_equal(br[0].address, run);
	assert_int_equal(br[0].state, TANGLE_DEBUG_TASK_RUNNING);
	assert_int_equal(br[0].worker_tid, 1001);
	assert_int_equal(br[1].id, 7);
	assert_int_equal(br[1].state, TANGLE_DEBUG_TASK_WAITING);
	assert_int_equal(br[1].worker_tid, 0);
	assert_int_equal(br[2].id, 9);
	assert_int_equal(tangle_session_task_briefs(s, 1, br, 1), 1);
	assert_int_equal(br[0].id, 7);
	assert_int_equal(tangle_session_task_briefs(s, 2, br, 4), 1);
	assert_int_equal(br[0].id, 9);
	assert_int_equal(tangle_session_task_briefs(s, 3, br, 4), 0);
	tangle_task_info info;
	assert_int_equal(tangle_session_task_at(s, 0, &info), 0);
	assert_int_equal(info.worker_tid, 1001);
	tangle_session_free(s);
	tb_free(b);
}

/* 3.0: TASK.STATE is the scheduler's word, which says NOTIFIED for a
 * running task woken meanwhile: a running task, not an unreadable record. */
static void test_notified_is_running(void **state)
{
	(void)state;
	tb *b = tb_new(&(tb_opts){.seed = 5});
	uint64_t t = tb_task(b, 5, "woken", TANGLE_DEBUG_TASK_NOTIFIED);
	tb_running(b, t, 0, TB_S(99));
	tb_task(b, 6, "quit", TANGLE_DEBUG_TASK_CANCELLED);
	tangle_session *s = tb_open(b, NOW, NULL);
	assert_non_null(s);
	tangle_task_brief br[2];
	assert_int_equal(tangle_session_task_briefs(s, 0, br, 2), 2);
	assert_int_equal(br[0].state, TANGLE_DEBUG_TASK_RUNNING);
	assert_int_equal(br[1].state, TANGLE_DEBUG_TASK_CANCELLED);
	tangle_session_free(s);
	tb_free(b);
}

/* 3.0: WAITER.WHAT is a park's description; other waits leave the last
 * park's in place, and it is not theirs. */
static void test_what_is_a_parks(void **state)
{
	(void)state;
	tb *b = tb_new(&(tb_opts){.seed = 6});
	uint64_t ch = tb_chan(b, "jobs", 1, 0);
	uint64_t t = tb_task(b, 5, "receiver", TANGLE_DEBUG_TASK_WAITING);
	uint64_t w = tb_wait(b, t, TANGLE_DEBUG_WAIT_CHAN, TANGLE_DEBUG_OP_RECV, ch,
	                     TB_S(90), tb_site(b, "r.c", "recv_job", 3), 1);
	tb_set(b, TANGLE_DR_WAITER, w, TANGLE_DF_WAITER_WHAT, tb_str(b, "stale"));
	uint64_t p = tb_task(b, 6, "parker", TANGLE_DEBUG_TASK_WAITING);
	w = tb_wait(b, p, TANGLE_DEBUG_WAIT_PARK, TANGLE_DEBUG_OP_PARK, 0, TB_S(90),
	            tb_site(b, "p.c", "park_it", 4), 0);
	tb_set(b, TANGLE_DR_WAITER, w, TANGLE_DF_WAITER_WHAT, tb_str(b, "the reply"));
	tangle_session *s = tb_open(b, NOW, NULL);
	int st;
	char *out = tb_run(s, "tasks --json", &st);
	assert_null(strstr(out, "stale"));
	assert_non_null(strstr(out, "\"what\": \"the reply\""));
	tangle_inspect_free(out);
	tangle_session_free(s);
	tb_free(b);
}

static void test_describe_waiters(void **state)
{
	(void)state;
	tb *b = tb_new(&(tb_opts){.seed = 3});
	uint64_t m = tb_mutex(b, "ledger");
	uint64_t owner = tb_task(b, 13, "transfer-b", TANGLE_DEBUG_TASK_RUNNABLE);
	tb_hold(b, owner, m, TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, TB_S(96), 0);
	static const char *names[] = {"w1", "w2", "w3", "w4"};
	for (int i = 0; i < 4; i++) {
		uint64_t w = tb_task(b, 20 + (uint64_t)i, names[i], TANGLE_DEBUG_TASK_WAITING);
		tb_wait(b, w, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, m, TB_S(96), 0, 1);
	}
	uint64_t rw = tb_rwlock(b, "config");
	uint64_t r = tb_task(b, 30, "reader", TANGLE_DEBUG_TASK_WAITING);
	tb_wait(b, r, TANGLE_DEBUG_WAIT_RWLOCK, TANGLE_DEBUG_OP_WRITE, rw, TB_S(96), 0, 1);
	tangle_session *s = tb_open(b, NOW, NULL);
	char buf[256];
	assert_int_equal(tangle_session_describe_waiters(s, m, 2, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "mutex \"ledger\" held by task 13 \"transfer-b\", 4 waiters: "
	                         "task 20 \"w1\", task 21 \"w2\" \xe2\x80\xa6 and 2 more");
	assert_int_equal(tangle_session_describe_waiters(s, m, 4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "mutex \"ledger\" held by task 13 \"transfer-b\", 4 waiters: "
	                         "task 20 \"w1\", task 21 \"w2\", task 22 \"w3\", task 23 \"w4\"");
	assert_int_equal(tangle_session_describe_waiters(s, m, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "mutex \"ledger\" held by task 13 \"transfer-b\", 4 waiters");
	assert_int_equal(tangle_session_describe_waiters(s, rw, 8, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "rwlock \"config\" free, 1 waiter: task 30 \"reader\" (write)");
	/* a short buffer is cut, never overrun */
	char small[40];
	assert_int_equal(tangle_session_describe_waiters(s, m, 4, small, sizeof(small)), 0);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(tangle_session_describe_waiters(s, 0x1234, 4, buf, sizeof(buf)), -1);
	tangle_session_free(s);
	tb_free(b);
}

static uint64_t now_of(tb *b, int kind, uint64_t now)
{
	tangle_reader r;
	tb_reader(b, &r);
	tangle_session_options o = {.now_kind = kind, .now = now};
	tangle_session *s = NULL;
	tangle_error *err = tangle_session_open(tb_reader_ptr(b), NULL, &o, &s);
	assert_null(err);
	int st;
	char *out = tb_run(s, "tasks --json", &st);
	uint64_t v = 0;
	char *p = strstr(out, "\"now_ns\": ");
	assert_non_null(p);
	v = strtoull(p + 10, NULL, 10);
	tangle_inspect_free(out);
	tangle_session_free(s);
	return v;
}

static void test_clock(void **state)
{
	(void)state;
	tb *b = tb_new(&(tb_opts){.seed = 1});
	build(b);
	/* table fallback: the latest time recorded (a wait since 99 s) */
	assert_int_equal(now_of(b, TANGLE_NOW_TABLE, 0), TB_S(99));
	assert_int_equal(now_of(b, TANGLE_NOW_MONO, TB_S(123)), TB_S(123));
	/* the dump's wall clock mapped through the latest (mono, real) pair */
	tb_root_set(b, TANGLE_DF_ROOT_START_MONO, TB_S(1));
	tb_root_set(b, TANGLE_DF_ROOT_START_REAL, TB_S(1700000000));
	tb_root_set(b, TANGLE_DF_ROOT_SYNC_MONO, TB_S(90));
	tb_root_set(b, TANGLE_DF_ROOT_SYNC_REAL, TB_S(1700000100));
	assert_int_equal(now_of(b, TANGLE_NOW_REAL, TB_S(1700000130)), TB_S(120));
	/* a mtime older than the table's own times: never before them */
	assert_int_equal(now_of(b, TANGLE_NOW_REAL, TB_S(1700000095)), TB_S(99));
	tb_free(b);
}

static int global_value = 42;

static void test_reader_self(void **state)
{
	(void)state;
	tangle_reader r;
	assert_null(tangle_reader_self(&r));
	int v = 0;
	assert_int_equal(r.read(r.ctx, (uint64_t)(uintptr_t)&global_value, &v, sizeof(v)),
	                 sizeof(v));
	assert_int_equal(v, 42);
	assert_int_equal(r.read(r.ctx, 8, &v, sizeof(v)), 0);
	uint64_t addr;
	assert_int_equal(r.lookup(r.ctx, "malloc", &addr), 0);
	assert_int_equal(r.lookup(r.ctx, "no_such_symbol_here", &addr), -1);
	/* no table in this process */
	tangle_session *s = NULL;
	tangle_error *err = tangle_session_open(&r, NULL, NULL, &s);
	assert_non_null(err);
	assert_int_equal(err->code, TANGLE_INSPECT_ENOTABLE);
	tangle_error_free(err);
}

/* Since ABI 2.0 a mutex's hold is on the mutex (OWNER_ID, OWNER_SINCE,
 * HELD_SITE), not in its owner's HOLDS: the engine derives the same holds,
 * so every command prints what it printed for the 1.x table. */
static void build_holds(tb *b)
{
	sc_lock_order(b, 12, 0, "accounts", "ledger");
	sc_self(b, 20);
	/* two mutexes around permits of a semaphore, in that order */
	uint64_t m1 = tb_mutex(b, "outer"), m2 = tb_mutex(b, "inner");
	uint64_t sem = tb_sem(b, "slots", 4);
	uint64_t t = tb_task(b, 30, "nested", TANGLE_DEBUG_TASK_WAITING);
	tb_hold(b, t, m1, TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, TB_S(91),
	        tb_site(b, "nest.c", "outer", 5));
	tb_hold(b, t, sem, TANGLE_DEBUG_HOLD_PERMITS, 2, TB_S(92),
	        tb_site(b, "nest.c", "middle", 6));
	tb_hold(b, t, m2, TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, TB_S(93),
	        tb_site(b, "nest.c", "inner", 7));
	tb_wait(b, t, TANGLE_DEBUG_WAIT_SLEEP, TANGLE_DEBUG_OP_SLEEP, 0, TB_S(93),
	        tb_site(b, "nest.c", "inner", 8), 0);
	uint64_t w = tb_task(b, 31, "blocked", TANGLE_DEBUG_TASK_WAITING);
	tb_wait(b, w, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, m2, TB_S(94),
	        tb_site(b, "nest.c", "other", 9), 1);
	/* an orphaned lock: its owner finished holding it */
	uint64_t lost = tb_mutex(b, "lost");
	uint64_t f = tb_task(b, 40, "quitter", TANGLE_DEBUG_TASK_DONE);
	tb_hold(b, f, lost, TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, TB_S(80),
	        tb_site(b, "quit.c", "quit", 3));
	tb_set(b, TANGLE_DR_TASK, f, TANGLE_DF_TASK_FINISHED_AT, TB_S(81));
	uint64_t v = tb_task(b, 41, "victim", TANGLE_DEBUG_TASK_WAITING);
	tb_wait(b, v, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, lost, TB_S(85),
	        tb_site(b, "quit.c", "after", 4), 1);
}

/* Output with addresses (records move with the layout) and the ABI
 * version masked. */
static void mask(char *out)
{
	static const char abi[] = "\"abi\": \"";
	char *w = out;
	for (const char *r = out; *r;) {
		if (r[0] == '0' && r[1] == 'x') {
			*w++ = '0';
			*w++ = 'x';
			for (r += 2; isxdigit((unsigned char)*r); r++)
				;
		} else if (strncmp(r, abi, strlen(abi)) == 0) {
			memmove(w, r, strlen(abi));
			w += strlen(abi);
			for (r += strlen(abi); isdigit((unsigned char)*r) || *r == '.'; r++)
				;
		} else {
			*w++ = *r++;
		}
	}
	*w = 0;
}

static void test_mutex_hold_on_object(void **state)
{
	(void)state;
	static const char *const cmds[] = {
		"triage", "tasks", "why 13", "why 20", "why 31", "why 41", "graph",
		"bt 30", "bt 40", "tasks --json", "triage --json",
	};
	enum { NCMDS = sizeof(cmds) / sizeof(cmds[0]) };
	char *ref[NCMDS] = {0};
	for (unsigned seed = 0; seed < 3; seed++) {
		for (int on_object = 0; on_object < 2; on_object++) {
			tb *b = tb_new(&(tb_opts){.seed = seed, .big_endian = seed == 2,
			                          .mutex_hold_on_object = on_object});
			build_holds(b);
			tangle_error *err = NULL;
			tangle_session *s = tb_open(b, NOW, &err);
			assert_null(err);
			for (int c = 0; c < NCMDS; c++) {
				char *out = run(s, cmds[c]);
				mask(out);
				if (!on_object) {
					ref[c] = out;
					continue;
				}
				if (strcmp(ref[c], out) != 0)
					fail_msg("seed %u, \"%s\" differs:\n%s\n---\n%s", seed,
					         cmds[c], ref[c], out);
				tangle_inspect_free(out);
				tangle_inspect_free(ref[c]);
			}
			tangle_session_free(s);
			tb_free(b);
		}
	}
}

/* 3.0: a mutex's unlock clears OWNER_ID only: the OWNER_SINCE left
 * behind is no one's. */
static void test_owner_since_of_no_owner(void **state)
{
	(void)state;
	tb *b = tb_new(&(tb_opts){.seed = 7, .mutex_hold_on_object = 1});
	uint64_t m = tb_mutex(b, "free-now");
	tb_set(b, TANGLE_DR_OBJECT, m, TANGLE_DF_OBJECT_OWNER_SINCE, TB_S(90));
	tangle_session *s = tb_open(b, NOW, NULL);
	char *out = run(s, "locks --json");
	assert_non_null(strstr(out, "\"owner\": 0, \"owner_since_ns\": 0,"));
	tangle_inspect_free(out);
	tangle_session_free(s);
	tb_free(b);
}

/* What frontends ask the engine instead of deciding themselves: which
 * option words take the next word as their value, and which frames are
 * the runtime's own. */
static void test_frontend_rules(void **state)
{
	(void)state;
	assert_int_equal(tangle_inspect_option_takes_value("--held-ms"), 1);
	assert_int_equal(tangle_inspect_option_takes_value("--state"), 1);
	assert_int_equal(tangle_inspect_option_takes_value("--json"), 0);
	assert_int_equal(tangle_inspect_option_takes_value("--held-ms=5"), 0);
	assert_int_equal(tangle_inspect_option_takes_value("--help"), 0);
	assert_int_equal(tangle_inspect_option_takes_value("--bogus"), -1);
	assert_int_equal(tangle_inspect_option_takes_value("out.dot"), -1);
	assert_int_equal(tangle_inspect_option_takes_value(NULL), -1);
	assert_true(tangle_inspect_runtime_frame("tangle_mutex_lock_at", "app.c"));
	assert_true(tangle_inspect_runtime_frame("ctx_switch", "/src/runtime/src/sched.c"));
	assert_false(tangle_inspect_runtime_frame("transfer", "/src/app/bank.c"));
	assert_false(tangle_inspect_runtime_frame(NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_any_layout),
		cmocka_unit_test(test_version_refused),
		cmocka_unit_test(test_newer_minor),
		cmocka_unit_test(test_runq_length),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_not_a_table),
		cmocka_unit_test(test_filters_labels_spans),
		cmocka_unit_test(test_task_info_context),
		cmocka_unit_test(test_describe_object),
		cmocka_unit_test(test_task_briefs),
		cmocka_unit_test(test_notified_is_running),
		cmocka_unit_test(test_what_is_a_parks),
		cmocka_unit_test(test_describe_waiters),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_reader_self),
		cmocka_unit_test(test_mutex_hold_on_object),
		cmocka_unit_test(test_owner_since_of_no_owner),
		cmocka_unit_test(test_frontend_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
