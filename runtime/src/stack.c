/*
 * stack.c — task slots in slabs, their stacks, and stack overflow reports.
 *
 * A stack is one mapping: a PROT_NONE guard page, then stack_size usable
 * bytes (stack_lo .. stack_hi). It stays with its slot when the task ends,
 * so a spawn usually takes slot and stack with one pop from the free list;
 * beyond TANGLE__STACKS_POOLED free stacks, freed ones are unmapped.
 *
 * Slabs (header + records) are never unmapped before their runtime is
 * freed, so a task pointer stays valid memory for the runtime's life.
 *
 * Overflow: a SIGSEGV handler (on a per-worker sigaltstack) checks whether
 * the fault hit the running task's guard page; if so it reports the task,
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

#define SLAB_MIN 64u
#define SLAB_MAX 1024u
#define ALTSTACK_SIZE (64u * 1024u)

static size_t slab_header_size(void)
{
	return (sizeof(struct tangle_slab) + 63) & ~(size_t)63;
}

/* Add a slab and put its records on the free list (alloc_lock held). */
static int slab_add(struct tangle_runtime *rt)
{
	uint32_t cap = rt->next_slab_capacity ? rt->next_slab_capacity : SLAB_MIN;
	size_t size = slab_header_size() + (size_t)cap * sizeof(struct tangle_task);
	size = (size + rt->page_size - 1) & ~(rt->page_size - 1);
	struct tangle_slab *s = mmap(NULL, size, PROT_READ | PROT_WRITE,
	                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		return -1;
	s->capacity = cap;
	s->stride = sizeof(struct tangle_task);
	s->tasks = (struct tangle_task *)((char *)s + slab_header_size());
	s->map_size = size;
	for (uint32_t i = 0; i < cap; i++) {
		struct tangle_task *t = &s->tasks[i];
		t->sched.handle = TANGLE__H_RELEASED;
		t->sched.timer_index = -1;
		t->sched.next = NULL;
		if (rt->free_tail)
			rt->free_tail->sched.next = t;
		else
			rt->free_head = t;
		rt->free_tail = t;
	}
	s->next = rt->slabs;
	__atomic_store_n(&rt->slabs, s, __ATOMIC_RELEASE);
	__atomic_store_n(&rt->slab_count, rt->slab_count + 1, __ATOMIC_RELAXED);
	rt->next_slab_capacity = cap < SLAB_MAX ? cap * 2 : SLAB_MAX;
	tangle__debug_seq_bump();
	return 0;
}

static int stack_map(struct tangle_runtime *rt, struct tangle_task *t)
{
	size_t guard = rt->page_size, size = rt->stack_size + guard;
	char *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
	               -1, 0);
	if (m == MAP_FAILED)
		return -1;
	if (mprotect(m, guard, PROT_NONE)) {
		munmap(m, size);
		return -1;
	}
	t->sched.stack_map = m;
	t->sched.stack_map_size = size;
	t->stack_lo = m + guard;
	t->stack_hi = m + size;
	return 0;
}

static void stack_unmap(struct tangle_task *t)
{
	munmap(t->sched.stack_map, t->sched.stack_map_size);
	t->sched.stack_map = NULL;
	t->sched.stack_map_size = 0;
	t->stack_lo = t->stack_hi = NULL;
}

/* Put a slot (with or without its stack) back on the free list. FIFO: a
 * freed slot is reused last, which keeps a stale handle (a double join)
 * detectable for as long as possible. */
static void free_list_push(struct tangle_runtime *rt, struct tangle_task *t)
{
	t->sched.next = NULL;
	tangle__spin_lock(&rt->alloc_lock);
	if (t->sched.stack_map)
		__atomic_store_n(&rt->free_stacks, rt->free_stacks + 1,
		                 __ATOMIC_RELAXED);
	if (rt->free_tail)
		rt->free_tail->sched.next = t;
	else
		rt->free_head = t;
	rt->free_tail = t;
	tangle__spin_unlock(&rt->alloc_lock);
}

struct tangle_task *tangle__slot_alloc(struct tangle_runtime *rt)
{
	tangle__spin_lock(&rt->alloc_lock);
	if (!rt->free_head && slab_add(rt)) {
		tangle__spin_unlock(&rt->alloc_lock);
		return NULL;
	}
	struct tangle_task *t = rt->free_head;
	rt->free_head = t->sched.next;
	if (!rt->free_head)
		rt->free_tail = NULL;
	if (t->sched.stack_map)
		__atomic_store_n(&rt->free_stacks, rt->free_stacks - 1,
		                 __ATOMIC_RELAXED);
	tangle__spin_unlock(&rt->alloc_lock);
	t->sched.next = NULL;
	if (!t->sched.stack_map && stack_map(rt, t)) {
		free_list_push(rt, t);
		return NULL;
	}
	return t;
}

void tangle__slot_free(struct tangle_runtime *rt, struct tangle_task *t)
{
	atomic_store_explicit(&t->state, TANGLE_DEBUG_TASK_FREE, memory_order_relaxed);
	atomic_store_explicit(&t->sched.state, TANGLE__S_NEW, memory_order_relaxed);
	atomic_store_explicit(&t->sched.handle, TANGLE__H_RELEASED,
	                      memory_order_relaxed);
	__atomic_fetch_sub(&rt->tasks_live, 1, __ATOMIC_RELAXED);
	/* Racy count: the pool size is a soft limit. */
	if (t->sched.stack_map &&
	    __atomic_load_n(&rt->free_stacks, __ATOMIC_RELAXED) >= TANGLE__STACKS_POOLED)
		stack_unmap(t);
	free_list_push(rt, t);
}

void tangle__slabs_free(struct tangle_runtime *rt)
{
	struct tangle_slab *s = rt->slabs, *next;
	for (; s; s = next) {
		next = s->next;
		for (uint32_t i = 0; i < s->capacity; i++) {
			struct tangle_task *t = &s->tasks[i];
#if TANGLE_TSAN
			if (t->sched.tsan_fiber &&
			    atomic_load(&t->sched.state) != TANGLE__S_DONE)
				__tsan_destroy_fiber(t->sched.tsan_fiber);
#endif
			if (t->sched.stack_map)
				stack_unmap(t);
		}
		munmap(s, s->map_size);
	}
	rt->slabs = NULL;
	rt->slab_count = 0;
	tangle__debug_seq_bump();
}

/* ---- Overflow reports --------------------------------------------------------- */

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
