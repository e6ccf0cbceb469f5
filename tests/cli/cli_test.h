/*
 * cli_test.h — helpers for the CLI's tests: run the fixture program (or a
 * real tangle program), wait for its "ready" line, dump its core into a
 * scratch directory (kernel core; gcore when cores are piped away).
 */
#ifndef TANGLE_CLI_TEST_H
#define TANGLE_CLI_TEST_H

#include <stdint.h>
#include <sys/types.h>

struct fixture {
	pid_t pid, tid;
	uint64_t buf, ro, root;
	int line;
	char ready[512];   /* the whole ready line */
};

/* A fresh scratch directory (under TMPDIR or /tmp) into dir[256]. */
int scratch_dir(char *dir);
/* Remove it and everything in it. */
void scratch_remove(const char *dir);

/* Run exe (with argv[1..] from args, NULL-terminated, may be NULL) in
 * dir with unlimited cores; wait up to 10 s for a line starting with
 * "ready" (parsed as the fixture's when it has its fields). 0 or -1. */
int fixture_start(const char *exe, char *const args[], const char *dir,
                  struct fixture *f);
/* Dump a core of the running fixture into dir and end it; the core's path
 * into core[512]. 0 or -1. */
int fixture_dump(struct fixture *f, const char *dir, char *core);
/* End it without a core. */
void fixture_kill(struct fixture *f);

/* Copy a file, the first `size` bytes only if size >= 0. 0 or -1. */
int copy_file(const char *from, const char *to, long size);
/* Rename the NT_FILE note of a core file in place (as if the kernel had
 * left it out). 0, or -1 if it has none. */
int core_drop_nt_file(const char *core);
/* 1 if the core in dir came from the kernel (not gcore). */
int kernel_cores(void);

#endif
