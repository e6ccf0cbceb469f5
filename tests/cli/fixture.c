/*
 * fixture.c — a small process for the CLI's tests: known bytes at known
 * addresses, a fake debug root, and a thread blocked at a known line
 * inside an inlined function.
 *
 * It prints one line once everything is in place and then waits (for
 * SIGABRT, to dump a core, or to be attached to):
 *   ready PID TID BUF RO ROOT LINE
 * BUF: fixture_buf (written, so dumped), RO: a string in .rodata (not
 * dumped by the kernel: read from the file), ROOT: tangle_debug_root,
 * LINE: the line of the read() the thread blocks in.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BUF_SIZE (1 << 20)

unsigned char fixture_buf[BUF_SIZE];
const char fixture_ro[] = "tangle cli fixture: read-only bytes";

/* Only the magic matters to the CLI's lookup; writable, like the real one. */
__attribute__((section(".tangle_debug"), used)) struct {
	char magic[8];
	unsigned char rest[56];
} tangle_debug_root = {"TNGLDBG", {0}};

static int pipe_fds[2];
static volatile int fixture_line;
static volatile pid_t thread_tid;

static inline __attribute__((always_inline)) void fixture_inlined(void)
{
	char c;
	fixture_line = __LINE__; if (read(pipe_fds[0], &c, 1) < 0) abort();
}

__attribute__((noinline)) void fixture_inner(void)
{
	fixture_inlined();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void fixture_outer(void)
{
	fixture_inner();
	__asm__ volatile("" ::: "memory");
}

static void *fixture_thread(void *arg)
{
	(void)arg;
	thread_tid = (pid_t)syscall(SYS_gettid);
	fixture_outer();
	return NULL;
}

/* 1 once tid sleeps (so it is inside read()). */
static int sleeping(pid_t tid)
{
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

int main(void)
{
	for (size_t i = 0; i < BUF_SIZE; i++)
		fixture_buf[i] = (unsigned char)(i * 7 + 3);
	tangle_debug_root.rest[0] = 1;
	if (pipe(pipe_fds) != 0)
		return 1;
	pthread_t t;
	if (pthread_create(&t, NULL, fixture_thread, NULL) != 0)
		return 1;
	while (!thread_tid || !fixture_line || !sleeping(thread_tid))
		usleep(1000);
	printf("ready %d %d %#lx %#lx %#lx %d\n", (int)getpid(), (int)thread_tid,
	       (unsigned long)fixture_buf, (unsigned long)fixture_ro,
	       (unsigned long)&tangle_debug_root, fixture_line);
	fflush(stdout);
	for (;;)
		pause();
}
