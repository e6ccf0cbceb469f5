/*
 * test_output.c — the exact text and JSON of a small fixed snapshot
 * (output_fixture.h), so that any change to the output is deliberate; and
 * JSON that does not depend on the frontend's unwinder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "output_fixture.h"

static const char triage_text[] =
	"DEADLOCK  lock-order cycle between 2 tasks  [sig 4df6529f]\n"
	"  task 13 \"transfer-b\" waits 4.0s for mutex \"accounts\" (bank.c:82 transfer)\n"
	"    held by task 12 \"transfer-a\" since 4.2s (acquired bank.c:80 transfer)\n"
	"  task 12 \"transfer-a\" waits 4.1s for mutex \"ledger\" (bank.c:88 transfer)\n"
	"    held by task 13 \"transfer-b\" since 4.1s (acquired bank.c:80 transfer)\n"
	"  why: each task holds a lock that the next one in the cycle waits for, so none can go on\n"
	"  fix: take \"accounts\" before \"ledger\" everywhere, or use one lock\n"
	"\n"
	"task 13 \"transfer-b\"  waiting 4.0s  spawned by task 1 at main.c:40 main_task\n"
	"  holds mutex \"ledger\" (exclusive) for 4.1s at bank.c:80 transfer\n"
	"  #0 transfer at bank.c:82      <- awaiting mutex \"accounts\"\n"
	"  #1 worker_main at bank.c:120\n"
	"\n"
	"task 12 \"transfer-a\"  waiting 4.1s  spawned by task 1 at main.c:40 main_task\n"
	"  holds mutex \"accounts\" (exclusive) for 4.2s at bank.c:80 transfer\n"
	"  #0 transfer at bank.c:88      <- awaiting mutex \"ledger\"\n"
	"  #1 worker_main at bank.c:120\n"
	"\n"
	"1 finding; 3 tasks (0 running, 0 runnable, 3 waiting, 0 done), 2 workers, 2 objects in core.4711\n";

static const char triage_json[] =
	"{\n"
	"  \"format\": \"tangle-inspect\",\n"
	"  \"version\": 1,\n"
	"  \"abi\": \"1.0\",\n"
	"  \"target\": \"core.4711\",\n"
	"  \"now_ns\": 100000000000,\n"
	"  \"now_source\": \"mono\",\n"
	"  \"torn\": false,\n"
	"  \"findings\": [\n"
	"    {\n"
	"      \"kind\": \"deadlock\",\n"
	"      \"shape\": \"lock-order\",\n"
	"      \"signature\": \"4df6529f\",\n"
	"      \"title\": \"lock-order cycle between 2 tasks\",\n"
	"      \"explanation\": \"each task holds a lock that the next one in the cycle waits for, so none can go on\",\n"
	"      \"fix\": \"take \\\"accounts\\\" before \\\"ledger\\\" everywhere, or use one lock\",\n"
	"      \"duration_ns\": 4050000000,\n"
	"      \"behind\": 0,\n"
	"      \"worker\": null,\n"
	"      \"tasks\": [{\"id\": 13, \"name\": \"transfer-b\"}, {\"id\": 12, \"name\": \"transfer-a\"}],\n"
	"      \"more_tasks\": 0,\n"
	"      \"objects\": [{\"kind\": \"mutex\", \"name\": \"accounts\", \"address\": \"0x7f00000011e0\"}, {\"kind\": \"mutex\", \"name\": \"ledger\", \"address\": \"0x7f00000012f0\"}],\n"
	"      \"cycle\": true,\n"
	"      \"chain\": [\n"
	"        {\"task\": {\"id\": 13, \"name\": \"transfer-b\"}, \"state\": \"waiting\", \"object\": {\"kind\": \"mutex\", \"name\": \"accounts\", \"address\": \"0x7f00000011e0\"}, \"wait\": {\"kind\": \"mutex\", \"op\": \"lock\", \"state\": \"waiting\", \"since_ns\": 95950000000, \"waiting_ns\": 4050000000, \"deadline_ns\": 0, \"granted_at_ns\": 0, \"count\": 1, \"object\": {\"kind\": \"mutex\", \"name\": \"accounts\", \"address\": \"0x7f00000011e0\"}, \"target\": null, \"what\": null, \"site\": {\"file\": \"/src/bank.c\", \"line\": 82, \"function\": \"transfer\"}}, \"blocked_by\": [{\"id\": 12, \"name\": \"transfer-a\", \"relation\": \"owner\"}]},\n"
	"        {\"task\": {\"id\": 12, \"name\": \"transfer-a\"}, \"state\": \"waiting\", \"object\": {\"kind\": \"mutex\", \"name\": \"ledger\", \"address\": \"0x7f00000012f0\"}, \"wait\": {\"kind\": \"mutex\", \"op\": \"lock\", \"state\": \"waiting\", \"since_ns\": 95900000000, \"waiting_ns\": 4100000000, \"deadline_ns\": 0, \"granted_at_ns\": 0, \"count\": 1, \"object\": {\"kind\": \"mutex\", \"name\": \"ledger\", \"address\": \"0x7f00000012f0\"}, \"target\": null, \"what\": null, \"site\": {\"file\": \"/src/bank.c\", \"line\": 88, \"function\": \"transfer\"}}, \"blocked_by\": [{\"id\": 13, \"name\": \"transfer-b\", \"relation\": \"owner\"}]}\n"
	"      ]\n"
	"    }\n"
	"  ],\n"
	"  \"counts\": {\"tasks\": 3, \"runnable\": 0, \"running\": 0, \"waiting\": 3, \"done\": 0, \"cancelled\": 0, \"objects\": 2, \"workers\": 2, \"runtimes\": 1},\n"
	"  \"tasks\": [\n"
	"    {\"id\": 12, \"name\": \"transfer-a\", \"state\": \"waiting\", \"address\": \"0x7f0000001520\", \"parent\": 1, \"runtime\": 0, \"worker\": -1, \"flags\": 0, \"spawned_at_ns\": 1000000000, \"last_ran_at_ns\": 1000000000, \"run_ns\": 0, \"resumes\": 0, \"woken_at_ns\": 0, \"woken_by\": 0, \"wakes\": 0, \"live_wakers\": 1, \"finished_at_ns\": 0, \"spawn_site\": {\"file\": \"/src/main.c\", \"line\": 40, \"function\": \"main_task\"}, \"labels\": {}, \"spans\": [], \"wait\": {\"kind\": \"mutex\", \"op\": \"lock\", \"state\": \"waiting\", \"since_ns\": 95900000000, \"waiting_ns\": 4100000000, \"deadline_ns\": 0, \"granted_at_ns\": 0, \"count\": 1, \"object\": {\"kind\": \"mutex\", \"name\": \"ledger\", \"address\": \"0x7f00000012f0\"}, \"target\": null, \"what\": null, \"site\": {\"file\": \"/src/bank.c\", \"line\": 88, \"function\": \"transfer\"}}, \"holds\": [{\"mode\": \"exclusive\", \"count\": 1, \"since_ns\": 95800000000, \"held_ns\": 4200000000, \"object\": {\"kind\": \"mutex\", \"name\": \"accounts\", \"address\": \"0x7f00000011e0\"}, \"site\": {\"file\": \"/src/bank.c\", \"line\": 80, \"function\": \"transfer\"}}], \"hold_overflow\": 0},\n"
	"    {\"id\": 13, \"name\": \"transfer-b\", \"state\": \"waiting\", \"address\": \"0x7f0000001a18\", \"parent\": 1, \"runtime\": 0, \"worker\": -1, \"flags\": 0, \"spawned_at_ns\": 1000000000, \"last_ran_at_ns\": 1000000000, \"run_ns\": 0, \"resumes\": 0, \"woken_at_ns\": 0, \"woken_by\": 0, \"wakes\": 0, \"live_wakers\": 1, \"finished_at_ns\": 0, \"spawn_site\": {\"file\": \"/src/main.c\", \"line\": 40, \"function\": \"main_task\"}, \"labels\": {}, \"spans\": [], \"wait\": {\"kind\": \"mutex\", \"op\": \"lock\", \"state\": \"waiting\", \"since_ns\": 95950000000, \"waiting_ns\": 4050000000, \"deadline_ns\": 0, \"granted_at_ns\": 0, \"count\": 1, \"object\": {\"kind\": \"mutex\", \"name\": \"accounts\", \"address\": \"0x7f00000011e0\"}, \"target\": null, \"what\": null, \"site\": {\"file\": \"/src/bank.c\", \"line\": 82, \"function\": \"transfer\"}}, \"holds\": [{\"mode\": \"exclusive\", \"count\": 1, \"since_ns\": 95900000000, \"held_ns\": 4100000000, \"object\": {\"kind\": \"mutex\", \"name\": \"ledger\", \"address\": \"0x7f00000012f0\"}, \"site\": {\"file\": \"/src/bank.c\", \"line\": 80, \"function\": \"transfer\"}}], \"hold_overflow\": 0}\n"
	"  ],\n"
	"  \"objects\": [\n"
	"    {\"kind\": \"mutex\", \"name\": \"ledger\", \"address\": \"0x7f00000012f0\", \"registered\": true, \"flags\": 0, \"owner\": 13, \"owner_since_ns\": 95900000000, \"value\": 0, \"capacity\": 0, \"handed_to\": 0, \"handed_at_ns\": 0, \"acquisitions\": 1, \"contentions\": 1, \"longest_hold_ns\": 4100000000, \"last_sender\": 0, \"last_receiver\": 0, \"created\": null, \"holders\": [13], \"waiters\": [{\"task\": 12, \"op\": \"lock\", \"state\": \"waiting\"}], \"receivers\": [], \"truncated\": false},\n"
	"    {\"kind\": \"mutex\", \"name\": \"accounts\", \"address\": \"0x7f00000011e0\", \"registered\": true, \"flags\": 0, \"owner\": 12, \"owner_since_ns\": 95800000000, \"value\": 0, \"capacity\": 0, \"handed_to\": 0, \"handed_at_ns\": 0, \"acquisitions\": 1, \"contentions\": 1, \"longest_hold_ns\": 4200000000, \"last_sender\": 0, \"last_receiver\": 0, \"created\": null, \"holders\": [12], \"waiters\": [{\"task\": 13, \"op\": \"lock\", \"state\": \"waiting\"}], \"receivers\": [], \"truncated\": false}\n"
	"  ],\n"
	"  \"workers\": [\n"
	"    {\"runtime\": 0, \"index\": 0, \"tid\": 1000, \"state\": \"idle\", \"current\": null, \"running_since_ns\": 0, \"running_ns\": 0, \"queue\": 0, \"switches\": 0, \"idle_since_ns\": 0},\n"
	"    {\"runtime\": 0, \"index\": 1, \"tid\": 1001, \"state\": \"idle\", \"current\": null, \"running_since_ns\": 0, \"running_ns\": 0, \"queue\": 0, \"switches\": 0, \"idle_since_ns\": 0}\n"
	"  ],\n"
	"  \"runtimes\": [\n"
	"    {\"id\": 1, \"name\": \"main-rt\", \"flavor\": \"multi-thread\", \"workers\": 2, \"tasks_live\": 0, \"tasks_spawned\": 0, \"global_queue\": 0, \"blocking_busy\": 0, \"blocking_queued\": 0}\n"
	"  ],\n"
	"  \"problems\": [],\n"
	"  \"problems_dropped\": 0\n"
	"}\n";

static const char why_text[] =
	"  task 12 \"transfer-a\" waits 4.1s for mutex \"ledger\" (bank.c:88 transfer)\n"
	"    held by task 13 \"transfer-b\" since 4.1s (acquired bank.c:80 transfer)\n"
	"  task 13 \"transfer-b\" waits 4.0s for mutex \"accounts\" (bank.c:82 transfer)\n"
	"    held by task 12 \"transfer-a\" since 4.2s (acquired bank.c:80 transfer)\n"
	"  (back to task 12: a cycle)\n"
	"part of: deadlock  lock-order cycle between 2 tasks  [sig 4df6529f]\n";

static const char tasks_text[] =
	"ID      STATE     FOR     WAIT                                     SITE                         NAME\n"
	"1       waiting   1.0s    sleep                                    main.c:44 main_task          main\n"
	"12      waiting   4.1s    lock mutex \"ledger\"                      bank.c:88 transfer           transfer-a\n"
	"13      waiting   4.0s    lock mutex \"accounts\"                    bank.c:82 transfer           transfer-b\n";

static void expect(tangle_session *s, const char *line, const char *want, int status)
{
	int st;
	char *out = tb_run(s, line, &st);
	if (strcmp(out, want) != 0)
		fail_msg("%s: got\n%s\nwanted\n%s", line, out, want);
	assert_int_equal(st, status);
	tangle_inspect_free(out);
}

static void test_text(void **state)
{
	(void)state;
	tb *b = fx_build();
	tangle_unwinder uw = {NULL, fx_task, NULL};
	tangle_session *s = fx_open(b, &uw);
	assert_non_null(s);
	expect(s, "triage", triage_text, 1);
	expect(s, "why 12", why_text, 1);
	expect(s, "tasks", tasks_text, 1);
	tangle_session_free(s);
	tb_free(b);
}

static void test_json(void **state)
{
	(void)state;
	tb *b = fx_build();
	tangle_unwinder uw = {NULL, fx_task, NULL};
	tangle_session *s = fx_open(b, &uw);
	expect(s, "triage --json", triage_json, 1);
	tangle_session_free(s);
	/* another frontend, without an unwinder: the same bytes */
	s = fx_open(b, NULL);
	expect(s, "triage --json", triage_json, 1);
	tangle_session_free(s);
	tb_free(b);
}

/* Frontends name one core by different paths; JSON keeps base names. */
static void test_target_names(void **state)
{
	(void)state;
	static const struct { const char *given, *json; } cases[] = {
		{"/tmp/run/core (/usr/local/bin/lock-order)",
		 "\"target\": \"core (lock-order)\""},
		{"/tmp/run/core", "\"target\": \"core\""},
		{"pid 4711", "\"target\": \"pid 4711\""},
		{"odd (name", "\"target\": \"odd (name\""},
	};
	tb *b = fx_build();
	tangle_reader r;
	tb_reader(b, &r);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tangle_session_options o = {.now_kind = TANGLE_NOW_MONO, .now = NOW,
		                            .target = cases[i].given};
		tangle_session *s = NULL;
		tangle_error *err = tangle_session_open(tb_reader_ptr(b), NULL, &o, &s);
		assert_null(err);
		int st;
		char *out = tb_run(s, "triage --json", &st);
		if (!strstr(out, cases[i].json))
			fail_msg("target %s: no %s in\n%.200s", cases[i].given,
			         cases[i].json, out);
		tangle_inspect_free(out);
		tangle_session_free(s);
	}
	tb_free(b);
}

static void test_frames(void **state)
{
	(void)state;
	tb *b = fx_build();
	tangle_unwinder uw = {NULL, fx_task, NULL};
	tangle_session *s = fx_open(b, &uw);
	int st;
	char *out = tb_run(s, "bt 12 --all", &st);
	assert_non_null(strstr(out, "  #0 tangle__suspend at task.c:210\n"
	                            "  #1 tangle_mutex_lock_at at mutex.c:64\n"
	                            "  #2 transfer at bank.c:88      <- awaiting mutex \"ledger\"\n"));
	tangle_inspect_free(out);
	tangle_session_free(s);
	tb_free(b);
}

/* bt --json: the same frames, trimming and mark as the text. */
static void test_bt_json(void **state)
{
	(void)state;
	tb *b = fx_build();
	tangle_unwinder uw = {NULL, fx_task, NULL};
	tangle_session *s = fx_open(b, &uw);
	int st;
	char *out = tb_run(s, "bt 12 --json", &st);
	assert_int_equal(st, 1);
	assert_non_null(strstr(out, "  \"format\": \"tangle-inspect\",\n  \"version\": 1,\n"));
	assert_non_null(strstr(out, "  \"tasks\": [\n    {\"id\": 12, \"name\": \"transfer-a\""));
	assert_non_null(strstr(out, "\"hold_overflow\": 0, \"frames_from\": \"context\", "
	                            "\"tid\": null, \"frames_error\": null, \"frames\": [\n"
	                            "      {\"index\": 0, \"function\": \"transfer\", "
	                            "\"file\": \"/src/bank.c\", \"line\": 88, \"inlined\": false, "
	                            "\"pc\": \"0x400058\", \"awaiting\": \"mutex \\\"ledger\\\"\"},\n"
	                            "      {\"index\": 1, \"function\": \"worker_main\", "
	                            "\"file\": \"/src/bank.c\", \"line\": 120, \"inlined\": false, "
	                            "\"pc\": \"0x400078\", \"awaiting\": null}\n"
	                            "    ], \"runtime_frames\": 2}\n  ],\n"));
	tangle_inspect_free(out);
	out = tb_run(s, "bt 12 --all --json", &st); /* the runtime's frames kept */
	assert_non_null(strstr(out, "{\"index\": 0, \"function\": \"tangle__suspend\""));
	assert_non_null(strstr(out, "\"runtime_frames\": 0}"));
	tangle_inspect_free(out);
	tangle_session_free(s);
	s = fx_open(b, NULL); /* no unwinder: says why, no frames */
	out = tb_run(s, "bt --json", &st);
	assert_non_null(strstr(out, "\"frames_from\": null, \"tid\": null, "
	                            "\"frames_error\": \"no unwinder\", \"frames\": [], "
	                            "\"runtime_frames\": 0}"));
	assert_non_null(strstr(out, "{\"id\": 1, \"name\": \"main\""));
	assert_non_null(strstr(out, "{\"id\": 13, \"name\": \"transfer-b\""));
	tangle_inspect_free(out);
	tangle_session_free(s);
	tb_free(b);
}

/* graph --json: the DOT's nodes and edges, with the same labels. */
static void test_graph_json(void **state)
{
	(void)state;
	tb *b = fx_build();
	tangle_session *s = fx_open(b, NULL);
	int st;
	char *dot = tb_run(s, "graph", &st);
	char *out = tb_run(s, "graph --json", &st);
	assert_int_equal(st, 1);
	assert_non_null(strstr(out, "  \"nodes\": [\n    {\"id\": \"t12\", \"type\": \"task\", "
	                            "\"task\": {\"id\": 12, \"name\": \"transfer-a\"}, "
	                            "\"object\": null, \"state\": \"waiting\", \"finding\": true},\n"));
	assert_non_null(strstr(out, "\"type\": \"object\", \"task\": null, \"object\": "
	                            "{\"kind\": \"mutex\", \"name\": \"ledger\""));
	/* every DOT edge is a JSON edge */
	int edges = 0;
	for (char *p = strstr(dot, " -> "); p; p = strstr(p + 1, " -> ")) {
		char *a = p, from[16], to[16], lab[32], want[96];
		while (a > dot && a[-1] != ' ')
			a--;
		assert_int_equal(sscanf(a, "%15s -> %15s [label=\"%31[^\"]", from, to, lab), 3);
		snprintf(want, sizeof(want), "{\"from\": \"%s\", \"to\": \"%s\", \"label\": \"%s\"",
		         from, to, lab);
		if (!strstr(out, want))
			fail_msg("no %s in\n%s", want, out);
		edges++;
	}
	assert_int_equal(edges, 4); /* 2 waits, 2 owners */
	int json_edges = 0;
	for (char *p = strstr(out, "{\"from\": "); p; p = strstr(p + 1, "{\"from\": "))
		json_edges++;
	assert_int_equal(json_edges, edges);
	tangle_inspect_free(dot);
	tangle_inspect_free(out);
	tangle_session_free(s);
	tb_free(b);
}

/* locks: who holds a semaphore's permits; the longest hold counts the
 * current one (the table records a hold's length when it ends). */
static void test_locks(void **state)
{
	(void)state;
	tb *b = tb_new(&(tb_opts){.seed = 5});
	sc_permits(b, 20);
	uint64_t m = tb_mutex(b, "ledger");
	uint64_t h = tb_task(b, 5, "holder", TANGLE_DEBUG_TASK_WAITING);
	tb_wait(b, h, TANGLE_DEBUG_WAIT_SLEEP, TANGLE_DEBUG_OP_SLEEP, 0, TB_S(98), 0, 0);
	tb_hold(b, h, m, TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, TB_S(98), 0);
	tb_set(b, TANGLE_DR_OBJECT, m, TANGLE_DF_OBJECT_LONGEST_HOLD, TB_MS(300));
	tangle_session *s = fx_open(b, NULL);
	int st;
	char *out = tb_run(s, "locks", &st);
	char *sem = strstr(out, "semaphore pool ");
	assert_non_null(sem);
	assert_non_null(strstr(sem, "\n          held by task 20 \"job-a\" (1 permit), "
	                            "task 21 \"job-b\" (1 permit)\n"));
	char *mutex = strstr(out, "mutex     ledger ");
	assert_non_null(mutex);
	assert_non_null(strstr(mutex, "held by task 5 \"holder\""));
	assert_non_null(strstr(mutex, " 2.0s     ")); /* not the 300ms recorded */
	assert_non_null(strstr(sem, " 10.0s    "));
	tangle_inspect_free(out);
	out = tb_run(s, "locks --json", &st);
	assert_non_null(strstr(out, "\"name\": \"ledger\""));
	assert_non_null(strstr(strstr(out, "\"name\": \"ledger\""),
	                       "\"longest_hold_ns\": 2000000000,"));
	assert_non_null(strstr(strstr(out, "\"name\": \"pool\""),
	                       "\"longest_hold_ns\": 10000000000,"));
	tangle_inspect_free(out);
	tangle_session_free(s);
	tb_free(b);
}

/* Table fields cut to their column end in '~'; fields that fit do not. */
static void test_cut_fields(void **state)
{
	(void)state;
	tb *b = tb_new(&(tb_opts){.seed = 6});
	uint64_t m = tb_mutex(b, "a-mutex-with-a-rather-long-name");
	uint64_t t = tb_task(b, 7, "w", TANGLE_DEBUG_TASK_WAITING);
	tb_wait(b, t, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, m, TB_S(99),
	        tb_site(b, "/src/healthy-server.c", "main_task_of_the_server", 265), 1);
	uint64_t u = tb_task(b, 8, "v", TANGLE_DEBUG_TASK_WAITING);
	tb_wait(b, u, TANGLE_DEBUG_WAIT_SLEEP, TANGLE_DEBUG_OP_SLEEP, 0, TB_S(99),
	        tb_site(b, "/src/a.c", "f", 1), 0);
	tangle_session *s = fx_open(b, NULL);
	int st;
	char *out = tb_run(s, "tasks", &st);
	/* 28 columns: 27 of the site and the mark, then the name's column */
	assert_non_null(strstr(out, " healthy-server.c:265 main_t~ w\n"));
	assert_non_null(strstr(out, " lock mutex \"a-mutex-with-a-rather-long-~ "));
	assert_non_null(strstr(out, " a.c:1 f                      v\n"));
	tangle_inspect_free(out);
	out = tb_run(s, "tasks --group", &st);
	assert_non_null(strstr(out, " lock mutex \"a-mutex-with-a-rather-long-~ "));
	tangle_inspect_free(out);
	out = tb_run(s, "locks", &st);
	assert_non_null(strstr(out, "mutex     a-mutex-with-a-~ "));
	tangle_inspect_free(out);
	tangle_session_free(s);
	tb_free(b);
}

static int fx_thread(void *ctx, uint32_t tid, tangle_frame *f, int max)
{
	(void)ctx;
	if (tid != 1000 || max < 3)
		return -1;
	fx_frame(&f[0], "nanosleep", "", 0);
	fx_frame(&f[1], "crunch", "/src/hog.c", 31);
	fx_frame(&f[2], "tangle__task_entry", "/build/runtime/src/task.c", 90);
	return 3;
}

static void test_running_frames(void **state)
{
	(void)state;
	tb *b = tb_new(&(tb_opts){.seed = 1});
	uint64_t hog = tb_task(b, 7, "hog", TANGLE_DEBUG_TASK_RUNNING);
	tb_running(b, hog, 0, TB_S(97));
	uint64_t m = tb_mutex(b, "work");
	for (int i = 0; i < 30; i++) { /* many waiters, one holder edge drawn */
		uint64_t t = tb_task(b, 20 + (uint64_t)i, "w", TANGLE_DEBUG_TASK_WAITING);
		tb_wait(b, t, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, m, TB_S(99), 0, 1);
	}
	tb_hold(b, hog, m, TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, TB_S(97), 0);
	tangle_unwinder uw = {NULL, fx_task, fx_thread};
	tangle_session *s = fx_open(b, &uw);
	int st;
	char *out = tb_run(s, "triage", &st);
	assert_int_equal(st, 1);
	assert_non_null(strstr(out, "task 7 \"hog\"  running 3.0s\n"
	                            "  holds mutex \"work\" (exclusive) for 3.0s\n"
	                            "  #0 nanosleep\n"
	                            "  #1 crunch at hog.c:31\n"));
	assert_null(strstr(out, "tangle__task_entry"));
	assert_non_null(strstr(out, "for 3.0s without a switch; 30 tasks wait for it"));
	tangle_inspect_free(out);
	out = tb_run(s, "bt 7 --json", &st); /* its worker thread's stack */
	assert_non_null(strstr(out, "\"frames_from\": \"thread\", \"tid\": 1000, "
	                            "\"frames_error\": null, \"frames\": [\n"
	                            "      {\"index\": 0, \"function\": \"nanosleep\", "
	                            "\"file\": null, \"line\": 0"));
	assert_non_null(strstr(out, "\"runtime_frames\": 1}"));
	tangle_inspect_free(out);
	out = tb_run(s, "graph", &st);
	char *first = strstr(out, "o0 -> t7");
	assert_non_null(first);
	assert_null(strstr(first + 1, "o0 -> t7"));
	tangle_inspect_free(out);
	tangle_session_free(s);
	tb_free(b);
}

static void test_commands(void **state)
{
	(void)state;
	tb *b = fx_build();
	tangle_session *s = fx_open(b, NULL);
	int st;
	char *out = tb_run(s, "nosuch", &st);
	assert_int_equal(st, 2);
	assert_string_equal(out, "unknown command 'nosuch' (try help)");
	tangle_inspect_free(out);
	out = tb_run(s, "tasks --bogus", &st);
	assert_int_equal(st, 2);
	assert_string_equal(out, "tasks: unknown option '--bogus' (try tasks --help)");
	tangle_inspect_free(out);
	out = tb_run(s, "why", &st);
	assert_int_equal(st, 2);
	tangle_inspect_free(out);
	out = tb_run(s, "why 999", &st);
	assert_int_equal(st, 2);
	assert_string_equal(out, "why: no task 999");
	tangle_inspect_free(out);
	out = tb_run(s, "bt 12 999", &st);
	assert_int_equal(st, 2);
	tangle_inspect_free(out);
	out = tb_run(s, "triage --stuck-ms x", &st);
	assert_int_equal(st, 2);
	tangle_inspect_free(out);
	out = tb_run(s, "why 1", &st); /* the sleeping main task: no finding */
	assert_int_equal(st, 0);
	assert_string_equal(out, "  task 1 \"main\" sleeps (1.0s so far) (main.c:44 main_task)\n");
	tangle_inspect_free(out);
	const char *cmds[] = {"triage", "tasks", "bt", "locks", "why", "deadlocks", "graph", "help"};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char line[64];
		snprintf(line, sizeof(line), "%s --help", cmds[i]);
		out = tb_run(s, line, &st);
		assert_int_equal(st, 0);
		assert_string_equal(out, tangle_inspect_usage(cmds[i]));
		assert_non_null(strstr(out, "usage: "));
		tangle_inspect_free(out);
	}
	out = tb_run(s, "help", &st);
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, "Exit status: 0 no finding, 1 findings, 2 error."));
	tangle_inspect_free(out);
	/* tangle_session_command writes nothing on an error */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	tangle_error *err = NULL;
	char *argv[] = {"locks", "--kind", "spoon"};
	assert_int_equal(tangle_session_command(s, 3, argv, f, &err), 2);
	fclose(f);
	assert_int_equal(len, 0);
	assert_int_equal(err->code, TANGLE_INSPECT_EUSAGE);
	tangle_error_free(err);
	free(buf);
	tangle_session_free(s);
	tb_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_target_names),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_bt_json),
		cmocka_unit_test(test_locks),
		cmocka_unit_test(test_cut_fields),
		cmocka_unit_test(test_graph_json),
		cmocka_unit_test(test_running_frames),
		cmocka_unit_test(test_commands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
