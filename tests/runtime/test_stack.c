/* test_stack.c — task stacks: deep use within the limit works, stacks are
 * reused, and an overflow into the guard page is reported as the task's
 * (a forked child dies of SIGSEGV after saying which task overflowed). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rt_test.h"

static __attribute__((noinline)) uintptr_t recurse(uintptr_t n)
{
	volatile char pad[512];
	pad[0] = (char)n;
	if (!n)
		return pad[0];
	return recurse(n - 1) + pad[0] + 1;
}

static void *deep(void *arg)
{
	return (void *)recurse((uintptr_t)arg);
}

static void *deep_body(void *arg)
{
	(void)arg;
	/* ~100 frames of ~600 bytes in a 256 KiB stack. */
	for (int i = 0; i < 50; i++) {
		void *r;
		tangle_join(tangle_spawn("deep", deep, (void *)100), &r);
		assert_true((uintptr_t)r >= 100);
	}
	return NULL;
}

static void deep_recursion_within_the_stack_works(void **state)
{
	(void)state;
	rt_test_both(deep_body, NULL);
}

static void *forever_deep(void *arg)
{
	(void)arg;
	/* Say who we are first: the report must name this id. */
	char line[64];
	int n = snprintf(line, sizeof line, "diver id %llu\n",
	                 (unsigned long long)tangle_task_id(tangle_task_current()));
	ssize_t r = write(STDERR_FILENO, line, (size_t)n);
	(void)r;
	return (void *)recurse(UINTPTR_MAX);
}

static void *overflow_body(void *arg)
{
	(void)arg;
	tangle_join(tangle_spawn("deep-diver", forever_deep, NULL), NULL);
	return NULL;
}

/* In a forked child, a task on a runtime of the flavour overflows its
 * 64 KiB stack; returns what the child wrote on stderr and checks that it
 * died of SIGSEGV. */
static void overflow_in_child(unsigned workers, char *buf, size_t cap)
{
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = {0, 0};
		setrlimit(RLIMIT_CORE, &no_core);
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		tangle_config cfg = {.current_thread = workers == 0, .workers = workers,
		                     .stack_size = 64 * 1024};
		tangle_runtime *rt = tangle_runtime_new(&cfg);
		tangle_runtime_run(rt, overflow_body, NULL);
		_exit(0); /* not reached */
	}
	close(pipefd[1]);
	size_t len = 0;
	ssize_t n;
	while ((n = read(pipefd[0], buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	close(pipefd[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
}

static void an_overflow_names_the_task_and_dies_of_sigsegv(void **state)
{
	(void)state;
	/* Current-thread, then two workers (the overflow on a worker thread). */
	for (unsigned workers = 0; workers <= 2; workers += 2) {
		char buf[4096];
		overflow_in_child(workers, buf, sizeof buf);
		const char *said = strstr(buf, "diver id ");
		assert_non_null(said);
		unsigned long long id = strtoull(said + 9, NULL, 10);
		assert_true(id > 0);
		char want[128];
		snprintf(want, sizeof want,
		         "tangle: task %llu \"deep-diver\" overflowed its 64 KiB stack\n", id);
		if (!strstr(buf, want))
			fail_msg("workers %u: no \"%s\" in:\n%s", workers, want, buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deep_recursion_within_the_stack_works),
		cmocka_unit_test(an_overflow_names_the_task_and_dies_of_sigsegv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
