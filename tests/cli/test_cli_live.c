/*
 * test_cli_live.c — the live reader on the running fixture: every thread
 * stopped while attached and resumed after (also when tangle is killed by
 * SIGINT/SIGTERM), memory and the root read, a thread unwound; --no-stop
 * reads without stopping; a missing pid and a pid that may not be traced
 * give their messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "cli_test.h"
#include "live.h"
#include "target.h"

static char dir[256];
static struct fixture fx;

static int setup(void **state)
{
	(void)state;
	return scratch_dir(dir) == 0 && fixture_start(CLI_FIXTURE, NULL, dir, &fx) == 0
		? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	fixture_kill(&fx);
	scratch_remove(dir);
	return 0;
}

/* State letters of every thread of pid, e.g. "SS" or "tt". */
static void thread_states(pid_t pid, char *out, size_t size)
{
	char path[300], buf[512];
	size_t n = 0;
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d)) && n + 1 < size) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%s/stat", (int)pid, e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t r = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[r] = 0;
		char *p = strrchr(buf, ')');
		if (p && p[1])
			out[n++] = p[2];
	}
	if (d)
		closedir(d);
	out[n] = 0;
}

/* Wait up to 2 s for every thread to be (stopped) or not be in 't'. */
static int all_traced(pid_t pid, int traced)
{
	char s[64];
	for (int i = 0; i < 200; i++) {
		thread_states(pid, s, sizeof s);
		int all = *s != 0;
		for (char *p = s; *p; p++)
			if ((*p == 't') != traced)
				all = 0;
		if (all)
			return 1;
		struct timespec nap = {0, 10000000};
		nanosleep(&nap, NULL);
	}
	return 0;
}

static void stops_reads_and_resumes(void **state)
{
	(void)state;
	struct cli_live *l;
	tangle_error *err = cli_live_open(fx.pid, 1, &l);
	if (err)
		fail_msg("%s", err->message);
	assert_int_equal(cli_live_stopped(l), 2);
	assert_true(all_traced(fx.pid, 1));
	unsigned char buf[8192];
	assert_int_equal(cli_live_read(l, fx.buf + 100, buf, sizeof buf), sizeof buf);
	for (size_t i = 0; i < sizeof buf; i++)
		assert_int_equal(buf[i], (unsigned char)((i + 100) * 7 + 3));
	char ro[8];
	assert_int_equal(cli_live_read(l, fx.ro, ro, 6), 6);
	assert_memory_equal(ro, "tangle", 6);
	assert_int_equal(cli_live_read(l, 16, buf, 8), 0);
	cli_live_close(l);
	assert_true(all_traced(fx.pid, 0));
}

static void open_live_target(struct cli_target *t, int no_stop)
{
	struct cli_args a;
	memset(&a, 0, sizeof a);
	a.pid = fx.pid;
	a.no_stop = no_stop;
	tangle_error *err = cli_target_open(&a, t);
	if (err)
		fail_msg("cli_target_open: %s", err->message);
}

static void a_live_target_has_its_root_and_stacks(void **state)
{
	(void)state;
	struct cli_target t;
	open_live_target(&t, 0);
	assert_int_equal(t.options.root, fx.root);
	assert_int_equal(t.options.now_kind, TANGLE_NOW_MONO);
	assert_int_equal(t.options.torn, 0);
	assert_true(t.options.now > 0);
	tangle_frame f[64];
	int n = t.unwinder.thread(t.unwinder.ctx, (uint32_t)fx.tid, f, 64);
	assert_true(n > 3);
	int found = 0;
	for (int i = 0; i < n; i++)
		if (strcmp(f[i].function, "fixture_outer") == 0)
			found = 1;
	assert_true(found);
	cli_target_close(&t);
	assert_true(all_traced(fx.pid, 0));
}

static void no_stop_reads_a_running_process(void **state)
{
	(void)state;
	struct cli_target t;
	open_live_target(&t, 1);
	assert_int_equal(t.options.torn, 1);
	assert_true(all_traced(fx.pid, 0));
	assert_int_equal(t.options.root, fx.root);
	unsigned char b[4];
	assert_int_equal(t.reader.read(t.reader.ctx, fx.buf, b, 4), 4);
	assert_int_equal(b[1], 10);
	tangle_frame f[8];
	assert_int_equal(t.unwinder.thread(t.unwinder.ctx, (uint32_t)fx.tid, f, 8), -1);
	cli_target_close(&t);
}

static void names_a_missing_pid(void **state)
{
	(void)state;
	struct cli_live *l = NULL;
	tangle_error *err = cli_live_open(0x3ffffff0, 1, &l);
	assert_non_null(err);
	assert_null(l);
	assert_string_equal(err->message, "no process with pid 1073741808");
	tangle_error_free(err);
}

static void says_when_it_may_not_trace(void **state)
{
	(void)state;
	/* While this process holds the fixture, tangle cannot trace it. */
	struct cli_live *l;
	assert_null(cli_live_open(fx.pid, 1, &l));
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s tasks -p %d 2>&1", TANGLE_CLI, (int)fx.pid);
	FILE *p = popen(cmd, "r");
	char out[1024] = "";
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = 0;
	int status = pclose(p);
	cli_live_close(l);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 2);
	if (!strstr(out, "tangle: not permitted to trace process") ||
	    !strstr(out, "ptrace_scope") || strchr(out, '\n') != out + n - 1)
		fail_msg("output: %s", out);
	assert_true(all_traced(fx.pid, 0));
}

static void a_signal_resumes_the_target(void **state)
{
	(void)state;
	const int sigs[] = {SIGINT, SIGTERM};
	for (int i = 0; i < 2; i++) {
		pid_t child = fork();
		assert_true(child >= 0);
		if (child == 0) {
			struct cli_live *l;
			if (cli_live_open(fx.pid, 1, &l))
				_exit(3);
			raise(sigs[i]);
			_exit(4); /* not reached: the handler re-raises */
		}
		int status;
		assert_int_equal(waitpid(child, &status, 0), child);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), sigs[i]);
		assert_true(all_traced(fx.pid, 0));
	}
	/* The fixture still runs and can be attached again. */
	assert_int_equal(kill(fx.pid, 0), 0);
	struct cli_live *l;
	assert_null(cli_live_open(fx.pid, 1, &l));
	cli_live_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stops_reads_and_resumes),
		cmocka_unit_test(a_live_target_has_its_root_and_stacks),
		cmocka_unit_test(no_stop_reads_a_running_process),
		cmocka_unit_test(names_a_missing_pid),
		cmocka_unit_test(says_when_it_may_not_trace),
		cmocka_unit_test(a_signal_resumes_the_target),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
