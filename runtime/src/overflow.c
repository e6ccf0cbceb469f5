/*
 * overflow.c — reporting a task's stack overflow.
 *
 * A SIGSEGV handler (on a per-worker sigaltstack) checks whether the fault
 * hit the running task's guard page (stack.c puts one below every stack);
 * if so it reports the task on stderr (async-signal-safe: write(2) only),
 * sets its OVERFLOWED flag and restores the default action, so the fault
 * repeats and the process dies of SIGSEGV with a core dump as usual. Any
 * other fault goes to the handler that was installed before ours.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "scheduler.h"

#define ALTSTACK_SIZE (64u * 1024u)

static struct sigaction old_segv;

static size_t put_str(char *buf, size_t at, size_t cap, const char *s)
{
	while (*s && at + 1 < cap)
		buf[at++] = *s++;
	return at;
}

static size_t put_u64(char *buf, size_t at, size_t cap, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n && at + 1 < cap)
		buf[at++] = tmp[--n];
	return at;
}

static uintptr_t fault_sp(void *ucv)
{
	ucontext_t *uc = ucv;
#if defined(__x86_64__)
	return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
	return (uintptr_t)uc->uc_mcontext.sp;
#else
	(void)uc;
	return 0;
#endif
}

static void set_default(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno;
	struct tangle_worker *w = tangle__worker_self();
	struct tangle_task *t = w ? DBG_LOAD(w->current) : NULL;
	if (t && t->sched.stack_map && si->si_code > 0) {
		uintptr_t a = (uintptr_t)si->si_addr;
		uintptr_t map = (uintptr_t)t->sched.stack_map;
		uintptr_t lo = (uintptr_t)t->stack_lo, hi = (uintptr_t)t->stack_hi;
		uintptr_t sp = fault_sp(uc);
		bool ours = (a >= map && a < lo) ||
		            (a < lo && lo - a < (1u << 20) && sp < lo + 16384 &&
		             sp > lo - (1u << 20));
		if (ours) {
			atomic_fetch_or(&t->flags, TANGLE_DEBUG_TASKF_OVERFLOWED);
			char buf[200];
			size_t n = put_str(buf, 0, sizeof buf, "tangle: task ");
			n = put_u64(buf, n, sizeof buf, t->id);
			n = put_str(buf, n, sizeof buf, " \"");
			char name[TANGLE_TASK_NAME_MAX + 1];
			memcpy(name, t->name, TANGLE_TASK_NAME_MAX);
			name[TANGLE_TASK_NAME_MAX] = 0;
			n = put_str(buf, n, sizeof buf, name);
			n = put_str(buf, n, sizeof buf, "\" overflowed its ");
			n = put_u64(buf, n, sizeof buf, (hi - lo) / 1024);
			n = put_str(buf, n, sizeof buf, " KiB stack\n");
			ssize_t r = write(STDERR_FILENO, buf, n);
			(void)r;
			set_default(sig); /* the fault repeats: default action */
			errno = saved_errno;
			return;
		}
	}
	errno = saved_errno;
	if ((old_segv.sa_flags & SA_SIGINFO) && old_segv.sa_sigaction) {
		old_segv.sa_sigaction(sig, si, uc);
		return;
	}
	if (!(old_segv.sa_flags & SA_SIGINFO) && old_segv.sa_handler != SIG_DFL &&
	    old_segv.sa_handler != SIG_IGN) {
		old_segv.sa_handler(sig);
		return;
	}
	set_default(sig);
	if (si->si_code <= 0)
		raise(sig); /* sent, not a fault: it would not repeat */
}

/* Installed by every tangle_runtime_new unless ours is in place already,
 * so a handler set after ours (a test framework's, say) is chained to
 * instead of silently replacing the overflow report. */
void tangle__signals_init(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&lock);
	struct sigaction cur;
	if (sigaction(SIGSEGV, NULL, &cur) == 0 &&
	    !((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_segv)) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSEGV, &sa, &old_segv);
	}
	pthread_mutex_unlock(&lock);
}

void *tangle__altstack_enter(void)
{
	stack_t old;
	if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE))
		return NULL; /* the thread has one already */
	void *m = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	stack_t ss = {.ss_sp = m, .ss_flags = 0, .ss_size = ALTSTACK_SIZE};
	if (sigaltstack(&ss, NULL)) {
		munmap(m, ALTSTACK_SIZE);
		return NULL;
	}
	return m;
}

void tangle__altstack_leave(void *stack)
{
	if (!stack)
		return;
	stack_t ss = {.ss_sp = NULL, .ss_flags = SS_DISABLE, .ss_size = 0};
	sigaltstack(&ss, NULL);
	munmap(stack, ALTSTACK_SIZE);
}
