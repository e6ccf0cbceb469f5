/*
 * live.c — attach, stop, read and always detach (see live.h).
 *
 * The attached tids live in a static array so that a signal handler can
 * detach them: only async-signal-safe calls (ptrace, a plain loop) are
 * made there. One live target at a time per process.
 */
#include "live.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 65536
#define STOP_TIMEOUT_MS 5000

struct cli_live {
	pid_t pid;
	int mem_fd;   /* /proc/PID/mem, opened on first need; -2 cannot */
	int stopped;  /* threads attached */
};

static pid_t attached[MAX_THREADS];
static int pending_sig[MAX_THREADS];
static volatile sig_atomic_t nattached;
static int handlers_installed;
#define NCAUGHT 5
static struct sigaction old_actions[NCAUGHT];
static const int caught[NCAUGHT] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};

static void detach_all(void)
{
	int n = nattached;
	nattached = 0;
	for (int i = 0; i < n; i++)
		ptrace(PTRACE_DETACH, attached[i], NULL,
		       (void *)(long)pending_sig[i]);
}

static void on_signal(int sig)
{
	int saved = errno;
	detach_all();
	for (int i = 0; i < NCAUGHT; i++)
		if (caught[i] == sig)
			sigaction(sig, &old_actions[i], NULL);
	errno = saved;
	raise(sig);
}

static void install_handlers(void)
{
	if (handlers_installed)
		return;
	handlers_installed = 1;
	atexit(detach_all);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < NCAUGHT; i++)
		sigaddset(&sa.sa_mask, caught[i]);
	for (int i = 0; i < NCAUGHT; i++) {
		sigaction(caught[i], &sa, &old_actions[i]);
		if (old_actions[i].sa_handler == SIG_IGN) /* stays ignored */
			sigaction(caught[i], &old_actions[i], NULL);
	}
}

static int is_attached(pid_t tid)
{
	for (int i = 0; i < nattached; i++)
		if (attached[i] == tid)
			return 1;
	return 0;
}

static void forget(pid_t tid)
{
	for (int i = 0; i < nattached; i++)
		if (attached[i] == tid) {
			attached[i] = attached[nattached - 1];
			pending_sig[i] = pending_sig[nattached - 1];
			nattached--;
			return;
		}
}

static tangle_error *trace_error(pid_t pid, int e)
{
	if (e == ESRCH)
		return tangle_error_new(TANGLE_INSPECT_ENOTFOUND, 0,
		                        "no process with pid %d", (int)pid);
	if (e == EPERM || e == EACCES)
		return tangle_error_new(
			TANGLE_INSPECT_ESYSTEM, 0,
			"not permitted to trace process %d: %s (run as its user "
			"or root, check /proc/sys/kernel/yama/ptrace_scope, and "
			"that no debugger is attached already)",
			(int)pid, strerror(e));
	return tangle_error_new(TANGLE_INSPECT_ESYSTEM, 0,
	                        "cannot trace process %d: %s", (int)pid,
	                        strerror(e));
}

/* Wait until tid stops after PTRACE_INTERRUPT: 0 stopped, 1 gone, -1
 * timed out. A signal that arrived meanwhile is kept to be re-sent. */
static int wait_stop(pid_t tid, int *sig)
{
	struct timespec nap = {0, 1000000};
	*sig = 0;
	for (int ms = 0; ms < STOP_TIMEOUT_MS;) {
		int st;
		pid_t r = waitpid(tid, &st, __WALL | WNOHANG);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return 1; /* ECHILD: not ours any more */
		}
		if (r == 0) {
			nanosleep(&nap, NULL);
			ms++;
			continue;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return 1;
		if (WIFSTOPPED(st)) {
			if ((st >> 16) == 0) /* signal-delivery stop */
				*sig = WSTOPSIG(st);
			return 0;
		}
	}
	return -1;
}

/* Attach one thread and wait for it to stop: 0, -1 if it is gone, or an
 * errno. */
static int attach_one(pid_t tid)
{
	if (nattached >= MAX_THREADS)
		return E2BIG;
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0)
		return errno == ESRCH ? -1 : errno;
	attached[nattached] = tid;
	pending_sig[nattached] = 0;
	nattached++;
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0) {
		int e = errno;
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
		forget(tid);
		return e == ESRCH ? -1 : e;
	}
	int sig;
	int r = wait_stop(tid, &sig);
	if (r == 1) {
		forget(tid);
		return -1;
	}
	if (r < 0)
		return ETIMEDOUT;
	for (int i = 0; i < nattached; i++)
		if (attached[i] == tid)
			pending_sig[i] = sig;
	return 0;
}

/* Attach every thread, again until no new one shows up. */
static tangle_error *attach_all(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	for (int round = 0; round < 100; round++) {
		DIR *d = opendir(path);
		if (!d)
			return trace_error(pid, errno == ENOENT ? ESRCH : errno);
		int added = 0, err = 0;
		pid_t bad = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			pid_t tid = (pid_t)atoi(e->d_name);
			if (tid <= 0 || is_attached(tid))
				continue;
			int r = attach_one(tid);
			if (r == 0)
				added++;
			else if (r > 0) {
				err = r;
				bad = tid;
				break;
			}
		}
		closedir(d);
		if (err == ETIMEDOUT)
			return tangle_error_new(TANGLE_INSPECT_ESYSTEM, 0,
			                        "thread %d of process %d did not stop "
			                        "within %d ms", (int)bad, (int)pid,
			                        STOP_TIMEOUT_MS);
		if (err)
			return trace_error(pid, err);
		if (!added)
			return nattached ? NULL : trace_error(pid, ESRCH);
	}
	return NULL;
}

tangle_error *cli_live_open(pid_t pid, int stop, struct cli_live **out)
{
	*out = NULL;
	if (kill(pid, 0) != 0 && errno == ESRCH)
		return trace_error(pid, ESRCH);
	struct cli_live *l = calloc(1, sizeof *l);
	if (!l)
		return &tangle_error_out_of_memory;
	l->pid = pid;
	l->mem_fd = -1;
	if (stop) {
		if (nattached) {
			free(l);
			return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
			                        "one live target at a time");
		}
		install_handlers();
		tangle_error *err = attach_all(pid);
		if (err) {
			detach_all();
			free(l);
			return err;
		}
		l->stopped = nattached;
	} else {
		/* Check that we may read it at all. */
		char byte;
		struct iovec local = {&byte, 1}, remote = {(void *)4096, 1};
		if (process_vm_readv(pid, &local, 1, &remote, 1, 0) < 0 &&
		    (errno == EPERM || errno == ESRCH)) {
			tangle_error *err = trace_error(pid, errno);
			free(l);
			return err;
		}
	}
	*out = l;
	return NULL;
}

void cli_live_close(struct cli_live *l)
{
	if (!l)
		return;
	if (l->stopped)
		detach_all();
	if (l->mem_fd >= 0)
		close(l->mem_fd);
	free(l);
}

int cli_live_stopped(const struct cli_live *l)
{
	return l->stopped;
}

size_t cli_live_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct cli_live *l = ctx;
	size_t done = 0;
	struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
	ssize_t r = process_vm_readv(l->pid, &local, 1, &remote, 1, 0);
	if (r > 0)
		done = (size_t)r;
	if (done == len)
		return done;
	if (l->mem_fd == -1) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/mem", (int)l->pid);
		l->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (l->mem_fd < 0)
			l->mem_fd = -2;
	}
	while (l->mem_fd >= 0 && done < len) {
		ssize_t n = pread(l->mem_fd, (char *)buf + done, len - done,
		                  (off_t)(addr + done));
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return done;
}
