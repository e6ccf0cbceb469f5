/* test_stack.c — task stacks: deep use within the limit works, stacks are
 * reused, and an overflow into the guard page is reported as the task's
 * (a forked child dies of SIGSEGV after saying which task overflowed). */
#include <signal.h>
#include <stdio.h>
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
	return (void *)recurse(UINTPTR_MAX);
}

static void *overflow_body(void *arg)
{
	(void)arg;
	tangle_join(tangle_spawn("deep-diver", forever_deep, NULL), NULL);
	return NULL;
}

static void an_overflow_names_the_task_and_dies_of_sigsegv(void **state)
{
	(void)state;
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = {0, 0};
		setrlimit(RLIMIT_CORE, &no_core);
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		tangle_config cfg = {.current_thread = 1, .stack_size = 64 * 1024};
		tangle_runtime *rt = tangle_runtime_new(&cfg);
		tangle_runtime_run(rt, overflow_body, NULL);
		_exit(0); /* not reached */
	}
	close(pipefd[1]);
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	while ((n = read(pipefd[0], buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	close(pipefd[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
	assert_non_null(strstr(buf, "\"deep-diver\" overflowed its 64 KiB stack"));
	assert_non_null(strstr(buf, "tangle: task "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deep_recursion_within_the_stack_works),
		cmocka_unit_test(an_overflow_names_the_task_and_dies_of_sigsegv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
