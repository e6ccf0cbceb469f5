/*
 * worker.c — worker threads: the thread's worker pointer, starting and
 * stopping the threads, and the spinlock and futex helpers.
 *
 * A worker's thread-local pointer must be read afresh after every switch:
 * a task may resume on another thread (scheduler.h, tangle__worker_self).
 */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sanitize.h"
#include "scheduler.h"

__thread struct tangle_worker *tangle__tls_worker
	__attribute__((tls_model("initial-exec")));

#if !TANGLE__WORKER_SELF_INLINE
/* Not inlined and not pure: a task may resume on another thread, so the
 * compiler must not reuse a thread pointer it read before a switch. */
__attribute__((noinline)) struct tangle_worker *tangle__worker_self(void)
{
	__asm__ volatile("" ::: "memory");
	return tangle__tls_worker;
}
#endif

void tangle__worker_set(struct tangle_worker *w)
{
	tangle__tls_worker = w;
}

struct tangle_task *tangle__current(void)
{
	struct tangle_worker *w = tangle__worker_self();
	return w ? w->current : NULL;
}

/* ---- Spinlocks and futexes ------------------------------------------------ */

void tangle__spin_lock_slow(tangle_spinlock *l)
{
	unsigned spins = 0;
	for (;;) {
		while (atomic_load_explicit(&l->locked, memory_order_relaxed)) {
			if (++spins < 128)
				tangle__cpu_relax();
			else
				sched_yield();
		}
		if (!atomic_exchange_explicit(&l->locked, 1, memory_order_acquire))
			return;
	}
}

void tangle__futex_wait(_Atomic uint32_t *addr, uint32_t expect)
{
	syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, expect, NULL,
	        NULL, 0);
}

void tangle__futex_wake(_Atomic uint32_t *addr, int n)
{
	syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* ---- Worker threads --------------------------------------------------------------- */

void tangle__worker_enter(struct tangle_worker *w)
{
	tangle__worker_set(w);
	DBG_STORE(w->tid, (uint32_t)syscall(SYS_gettid));
	w->altstack = tangle__altstack_enter();
	pthread_attr_t attr;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		void *lo;
		size_t size;
		if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
			w->sched_stack_lo = lo;
			w->sched_stack_size = size;
		}
		pthread_attr_destroy(&attr);
	}
#if TANGLE_TSAN
	w->tsan_fiber = __tsan_get_current_fiber();
#endif
	tangle__clock_refresh(w);
	w->in_loop = true;
	atomic_store(&w->state, TANGLE_DEBUG_WORKER_SEARCHING);
}

void tangle__worker_leave(struct tangle_worker *w)
{
	w->in_loop = false;
	atomic_store(&w->state, TANGLE_DEBUG_WORKER_STOPPED);
	DBG_STORE(w->current, NULL);
	tangle__altstack_leave(w->altstack);
	w->altstack = NULL;
	tangle__worker_set(NULL);
}

static void *worker_main(void *arg)
{
	struct tangle_worker *w = arg;
	tangle__worker_enter(w);
	tangle__worker_loop(w, NULL);
	tangle__worker_leave(w);
	return NULL;
}

int tangle__workers_start(struct tangle_runtime *rt)
{
	for (uint32_t i = 0; i < rt->worker_count; i++) {
		struct tangle_worker *w = &rt->workers[i];
		int err = pthread_create(&w->thread, NULL, worker_main, w);
		if (err) {
			rt->worker_count = i; /* stop the ones started */
			errno = err;
			return -1;
		}
	}
	return 0;
}

void tangle__workers_stop(struct tangle_runtime *rt)
{
	atomic_store(&rt->stopping, true);
	tangle__spin_lock(&rt->idle_lock);
	struct tangle_worker *s = rt->sleepers;
	rt->sleepers = NULL;
	while (s) {
		struct tangle_worker *next = s->idle_next;
		atomic_store(&s->sleeping, 0);
		s = next;
	}
	tangle__spin_unlock(&rt->idle_lock);
	for (uint32_t i = 0; i < rt->worker_count; i++)
		tangle__futex_wake(&rt->workers[i].sleeping, 1);
	tangle__driver_poke(rt);
	if (rt->current_thread)
		return;
	for (uint32_t i = 0; i < rt->worker_count; i++)
		pthread_join(rt->workers[i].thread, NULL);
}
