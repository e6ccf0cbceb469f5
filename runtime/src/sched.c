/*
 * sched.c — switching, run queues, stealing and idle parking.
 *
 * Invariants
 *  - A task is in at most one run queue, and only while its state is QUEUED;
 *    whoever pops it owns it and moves it to RUNNING.
 *  - A task that switches away is finished off by the context that resumes
 *    next (tangle__after_switch), never while its stack is still in use.
 *  - Idle workers: at most one polls the driver (rt->driver_busy), the
 *    others sleep on their futex. A worker registers as idle (n_idle) before
 *    it checks the queues a last time, and whoever queues work checks n_idle
 *    after queuing it (seq_cst on both sides), so work is never left behind
 *    while every worker sleeps.
 *  - n_searching counts workers woken to look for work; while one searches,
 *    nobody else is woken (tokio's throttle); the last one to find work
 *    wakes the next.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sanitize.h"
#include "scheduler.h"

static __thread struct tangle_worker *tls_worker
	__attribute__((tls_model("initial-exec")));

/* Not inlined and not pure: a task may resume on another thread, so the
 * compiler must not reuse a thread pointer it read before a switch. */
__attribute__((noinline)) struct tangle_worker *tangle__worker_self(void)
{
	__asm__ volatile("" ::: "memory");
	return tls_worker;
}

void tangle__worker_set(struct tangle_worker *w)
{
	tls_worker = w;
}

struct tangle_task *tangle__current(void)
{
	struct tangle_worker *w = tangle__worker_self();
	return w ? w->current : NULL;
}

/* ---- Spinlocks and futexes ------------------------------------------------ */

static inline void cpu_relax(void)
{
#if defined(__x86_64__)
	__asm__ volatile("pause");
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

void tangle__spin_lock_slow(tangle_spinlock *l)
{
	unsigned spins = 0;
	for (;;) {
		while (atomic_load_explicit(&l->locked, memory_order_relaxed)) {
			if (++spins < 128)
				cpu_relax();
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

/* ---- The switch itself, with the sanitizers' fiber annotations ------------ */

/* Switch from the running context (saving its sp in *save, its ASan fake
 * stack in *fake, NULL when it ends for good) to the context at to_sp. */
static inline struct tangle_worker *ctx_switch(void **save, void **fake,
                                               void *to_sp, const void *to_lo,
                                               size_t to_size, void *to_fiber,
                                               struct tangle_worker *w)
{
#if TANGLE_ASAN
	__sanitizer_start_switch_fiber(fake, to_lo, to_size);
#else
	(void)fake;
	(void)to_lo;
	(void)to_size;
#endif
#if TANGLE_TSAN
	__tsan_switch_to_fiber(to_fiber, 0);
#else
	(void)to_fiber;
#endif
	struct tangle_worker *r = tangle__ctx_switch(save, to_sp, w);
#if TANGLE_ASAN
	__sanitizer_finish_switch_fiber(fake ? *fake : NULL, NULL, NULL);
#endif
	return r;
}

static inline struct tangle_worker *switch_to_task(void **save, void **fake,
                                                   struct tangle_task *t,
                                                   struct tangle_worker *w)
{
	return ctx_switch(save, fake, t->saved_sp, t->stack_lo,
	                  (size_t)((char *)t->stack_hi - (char *)t->stack_lo),
	                  t->sched.tsan_fiber, w);
}

/* ---- Local run queue (owner: push/pop; others: steal) ------------------- */

#define RUNQ_MASK (TANGLE__RUNQ_CAP - 1)

static inline uint64_t pack(uint32_t steal, uint32_t real)
{
	return (uint64_t)steal << 32 | real;
}

static bool runq_push(struct tangle_worker *w, struct tangle_task *t)
{
	struct tangle_runq *q = &w->q;
	uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
	if (tail - (uint32_t)(head >> 32) >= TANGLE__RUNQ_CAP)
		return false;
	atomic_store_explicit(&q->buf[tail & RUNQ_MASK], t, memory_order_relaxed);
	atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
	TANGLE_DBG(DBG_STORE(w->queue_len, tail + 1 - (uint32_t)head));
	return true;
}

static struct tangle_task *runq_pop(struct tangle_worker *w)
{
	struct tangle_runq *q = &w->q;
	uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
	uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	if (w->solo) {
		/* No thieves with one worker: no CAS needed. */
		uint32_t real = (uint32_t)head;
		if (real == tail)
			return NULL;
		atomic_store_explicit(&q->head, pack(real + 1, real + 1),
		                      memory_order_relaxed);
		TANGLE_DBG(DBG_STORE(w->queue_len, tail - real - 1));
		return atomic_load_explicit(&q->buf[real & RUNQ_MASK],
		                            memory_order_relaxed);
	}
	for (;;) {
		uint32_t steal = (uint32_t)(head >> 32), real = (uint32_t)head;
		if (real == tail)
			return NULL;
		uint64_t next = steal == real ? pack(real + 1, real + 1)
		                              : pack(steal, real + 1);
		if (atomic_compare_exchange_weak_explicit(&q->head, &head, next,
		                                          memory_order_acq_rel,
		                                          memory_order_acquire)) {
			TANGLE_DBG(DBG_STORE(w->queue_len, tail - real - 1));
			return atomic_load_explicit(&q->buf[real & RUNQ_MASK],
			                            memory_order_relaxed);
		}
	}
}

static bool runq_empty(struct tangle_worker *w)
{
	uint64_t head = atomic_load_explicit(&w->q.head, memory_order_acquire);
	uint32_t tail = atomic_load_explicit(&w->q.tail, memory_order_acquire);
	return (uint32_t)head == tail;
}

/* Move half of victim's queue into w's (empty) queue; return one of them. */
static struct tangle_task *runq_steal(struct tangle_worker *victim,
                                      struct tangle_worker *w)
{
	struct tangle_runq *vq = &victim->q, *q = &w->q;
	uint32_t dst_tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	uint64_t dst_head = atomic_load_explicit(&q->head, memory_order_acquire);
	if (dst_tail - (uint32_t)(dst_head >> 32) > TANGLE__RUNQ_CAP / 2)
		return NULL;
	uint64_t head = atomic_load_explicit(&vq->head, memory_order_acquire);
	uint32_t real, n;
	for (;;) {
		uint32_t steal = (uint32_t)(head >> 32);
		real = (uint32_t)head;
		if (steal != real)
			return NULL; /* another thief is at work */
		uint32_t tail = atomic_load_explicit(&vq->tail, memory_order_acquire);
		n = tail - real;
		n -= n / 2;
		if (n == 0)
			return NULL;
		if (n > TANGLE__RUNQ_CAP / 2)
			n = TANGLE__RUNQ_CAP / 2;
		if (atomic_compare_exchange_weak_explicit(&vq->head, &head,
		                                          pack(steal, real + n),
		                                          memory_order_acq_rel,
		                                          memory_order_acquire))
			break;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct tangle_task *t = atomic_load_explicit(
			&vq->buf[(real + i) & RUNQ_MASK], memory_order_relaxed);
		atomic_store_explicit(&q->buf[(dst_tail + i) & RUNQ_MASK], t,
		                      memory_order_relaxed);
	}
	/* Done copying: let the victim's owner reuse those slots. */
	head = pack(real, real + n);
	for (;;) {
		uint64_t next = pack((uint32_t)head, (uint32_t)head);
		if (atomic_compare_exchange_weak_explicit(&vq->head, &head, next,
		                                          memory_order_acq_rel,
		                                          memory_order_acquire))
			break;
	}
	n--;
	struct tangle_task *ret = atomic_load_explicit(
		&q->buf[(dst_tail + n) & RUNQ_MASK], memory_order_relaxed);
	if (n)
		atomic_store_explicit(&q->tail, dst_tail + n, memory_order_release);
	return ret;
}

/* ---- Global queue ------------------------------------------------------- */

static void global_push(struct tangle_runtime *rt, struct tangle_task *t)
{
	t->sched.next = NULL;
	tangle__spin_lock(&rt->global_lock);
	if (rt->global_tail)
		rt->global_tail->sched.next = t;
	else
		rt->global_head = t;
	rt->global_tail = t;
	__atomic_fetch_add(&rt->global_len, 1, __ATOMIC_SEQ_CST);
	tangle__spin_unlock(&rt->global_lock);
}

/* Pop one task to run and move up to `batch` more into w's local queue. */
static struct tangle_task *global_pop(struct tangle_runtime *rt,
                                      struct tangle_worker *w, uint32_t batch)
{
	if (!__atomic_load_n(&rt->global_len, __ATOMIC_RELAXED))
		return NULL;
	tangle__spin_lock(&rt->global_lock);
	struct tangle_task *t = rt->global_head;
	uint32_t taken = 0;
	if (t) {
		rt->global_head = t->sched.next;
		taken = 1;
		while (taken <= batch && rt->global_head) {
			struct tangle_task *u = rt->global_head;
			if (!runq_push(w, u))
				break;
			rt->global_head = u->sched.next;
			taken++;
		}
		if (!rt->global_head)
			rt->global_tail = NULL;
		__atomic_fetch_sub(&rt->global_len, taken, __ATOMIC_RELAXED);
	}
	tangle__spin_unlock(&rt->global_lock);
	return t;
}

/* ---- Picking the next task -------------------------------------------------- */

static struct tangle_task *steal(struct tangle_worker *w)
{
	struct tangle_runtime *rt = w->rt;
	uint32_t n = rt->worker_count;
	w->rand ^= w->rand << 13;
	w->rand ^= w->rand >> 17;
	w->rand ^= w->rand << 5;
	uint32_t start = w->rand % n;
	for (uint32_t i = 0; i < n; i++) {
		struct tangle_worker *v = &rt->workers[(start + i) % n];
		if (v == w || runq_empty(v))
			continue;
		struct tangle_task *t = runq_steal(v, w);
		if (t)
			return t;
	}
	return NULL;
}

static void maintenance(struct tangle_worker *w)
{
	struct tangle_runtime *rt = w->rt;
	tangle__clock_refresh(w);
	uint64_t nd = atomic_load_explicit(&rt->next_deadline, memory_order_relaxed);
	if ((nd && nd <= w->clock) ||
	    atomic_load_explicit(&rt->io_waiters, memory_order_relaxed))
		tangle__driver_poll(rt, false);
}

static struct tangle_task *pick_next(struct tangle_worker *w)
{
	struct tangle_runtime *rt = w->rt;
	struct tangle_task *t;
	if (unlikely(++w->tick >= TANGLE__TICK_MAINTENANCE)) {
		/* Fairness: the global queue first now and then, so tasks
		 * that keep waking each other cannot starve it. */
		w->tick = 0;
		maintenance(w);
		if ((t = global_pop(rt, w, 0)))
			return t;
	}
	if ((t = runq_pop(w)))
		return t;
	uint32_t batch = (uint32_t)(__atomic_load_n(&rt->global_len, __ATOMIC_RELAXED) /
	                            rt->worker_count);
	if (batch > TANGLE__RUNQ_CAP / 4)
		batch = TANGLE__RUNQ_CAP / 4;
	if ((t = global_pop(rt, w, batch)))
		return t;
	if (rt->worker_count > 1)
		return steal(w);
	return NULL;
}

static bool has_work(struct tangle_runtime *rt)
{
	if (__atomic_load_n(&rt->global_len, __ATOMIC_SEQ_CST))
		return true;
	for (uint32_t i = 0; i < rt->worker_count; i++)
		if (!runq_empty(&rt->workers[i]))
			return true;
	return false;
}

/* ---- Switching ---------------------------------------------------------------- */

static inline void resume_prep(struct tangle_worker *w, struct tangle_task *t)
{
	atomic_store_explicit(&t->sched.state, TANGLE__S_RUNNING,
	                      memory_order_relaxed);
	DBG_STORE(w->current, t);
	TANGLE_DBG({
		uint64_t now = w->clock;
		DBG_STORE(w->current_id, t->id);
		DBG_STORE(w->running_since, now);
		DBG_STORE(w->switches, w->switches + 1);
		atomic_store_explicit(&w->state, TANGLE_DEBUG_WORKER_RUNNING,
		                      memory_order_relaxed);
		atomic_store_explicit(&t->state, TANGLE_DEBUG_TASK_RUNNING,
		                      memory_order_relaxed);
		DBG_STORE(t->worker, (int32_t)w->index);
		DBG_STORE(t->last_ran_at, now);
		DBG_STORE(t->resumes, t->resumes + 1);
	});
}

static void requeue(struct tangle_worker *w, struct tangle_task *t)
{
	TANGLE_DBG(atomic_store_explicit(&t->state, TANGLE_DEBUG_TASK_RUNNABLE,
	                                 memory_order_relaxed));
	if (!runq_push(w, t))
		global_push(w->rt, t);
}

void tangle__after_switch(struct tangle_worker *w)
{
	struct tangle_task *p = w->prev;
	if (!p)
		return;
	w->prev = NULL;
	switch (w->prev_action) {
	case TANGLE__ACT_YIELD:
		atomic_store_explicit(&p->sched.state, TANGLE__S_QUEUED,
		                      memory_order_release);
		requeue(w, p);
		break;
	case TANGLE__ACT_SUSPEND: {
		uint32_t s = TANGLE__S_RUNNING;
		if (!atomic_compare_exchange_strong_explicit(
			    &p->sched.state, &s, TANGLE__S_PARKED,
			    memory_order_acq_rel, memory_order_acquire)) {
			/* Woken before it was off its stack (NOTIFIED). */
			atomic_store_explicit(&p->sched.state, TANGLE__S_QUEUED,
			                      memory_order_relaxed);
			requeue(w, p);
		}
		break;
	}
	case TANGLE__ACT_EXIT:
		tangle__task_exited(w, p);
		break;
	}
}

struct tangle_worker *tangle__switch_out(struct tangle_worker *w,
                                         struct tangle_task *t, int action)
{
	struct tangle_runtime *rt = w->rt;
	TANGLE_DBG(DBG_STORE(t->run_ns, t->run_ns + (w->clock - t->last_ran_at)));
	struct tangle_task *next = NULL;
	if (!(action == TANGLE__ACT_EXIT && t->sched.main && rt->current_thread))
		next = pick_next(w);
	if (!next && action == TANGLE__ACT_YIELD)
		return w; /* nothing else to run */
	w->prev = t;
	w->prev_action = action;
	void **fake = action == TANGLE__ACT_EXIT ? NULL : &t->sched.asan_fake_stack;
	if (next) {
		resume_prep(w, next);
		w = switch_to_task(&t->saved_sp, fake, next, w);
	} else {
		DBG_STORE(w->current, NULL);
		TANGLE_DBG({
			DBG_STORE(w->current_id, 0);
			atomic_store_explicit(&w->state, TANGLE_DEBUG_WORKER_SEARCHING,
			                      memory_order_relaxed);
		});
		w = ctx_switch(&t->saved_sp, fake, w->sched_sp, w->sched_stack_lo,
		               w->sched_stack_size, w->tsan_fiber, w);
	}
	tangle__after_switch(w);
	return w;
}

void tangle__suspend(void)
{
	struct tangle_worker *w = tangle__worker_self();
	struct tangle_task *t = w->current;
	/* release: a reader that sees WAITING sees the wait record too */
	TANGLE_DBG(atomic_store_explicit(&t->state, TANGLE_DEBUG_TASK_WAITING,
	                                 memory_order_release));
	tangle__switch_out(w, t, TANGLE__ACT_SUSPEND);
}

/* ---- Waking ------------------------------------------------------------------- */

static inline void wake_stamp(struct tangle_task *t)
{
	TANGLE_DBG({
		struct tangle_worker *w = tangle__worker_self();
		struct tangle_task *c = w ? w->current : NULL;
		DBG_STORE(t->woken_at, w ? w->clock : tangle__clock_precise());
		DBG_STORE(t->woken_by, c ? c->id : 0);
		DBG_STORE(t->wakes, DBG_LOAD(t->wakes) + 1);
	});
}

void tangle__wake(struct tangle_task *t)
{
	uint32_t s = atomic_load_explicit(&t->sched.state, memory_order_acquire);
	for (;;) {
		if (s == TANGLE__S_RUNNING) {
			if (atomic_compare_exchange_weak_explicit(
				    &t->sched.state, &s, TANGLE__S_NOTIFIED,
				    memory_order_acq_rel, memory_order_acquire)) {
				wake_stamp(t);
				return;
			}
		} else if (s == TANGLE__S_PARKED) {
			if (atomic_compare_exchange_weak_explicit(
				    &t->sched.state, &s, TANGLE__S_QUEUED,
				    memory_order_acq_rel, memory_order_acquire)) {
				wake_stamp(t);
				tangle__schedule(t);
				return;
			}
		} else {
			return; /* queued, notified, done or not a task yet */
		}
	}
}

void tangle__schedule(struct tangle_task *t)
{
	struct tangle_runtime *rt = t->rt;
	struct tangle_worker *w = tangle__worker_self();
	TANGLE_DBG(atomic_store_explicit(&t->state, TANGLE_DEBUG_TASK_RUNNABLE,
	                                 memory_order_relaxed));
	if (w && w->rt == rt && w->in_loop) {
		if (!runq_push(w, t))
			global_push(rt, t);
		if (rt->worker_count > 1)
			tangle__notify(rt);
		return;
	}
	global_push(rt, t);
	tangle__notify(rt);
}

/* ---- Idle workers --------------------------------------------------------------- */

static void notify_one(struct tangle_runtime *rt)
{
	struct tangle_worker *self = tangle__worker_self();
	tangle__spin_lock(&rt->idle_lock);
	struct tangle_worker *s = rt->sleepers;
	if (s) {
		rt->sleepers = s->idle_next;
		atomic_fetch_sub(&rt->n_idle, 1);
		atomic_fetch_add(&rt->n_searching, 1);
		atomic_store_explicit(&s->sleeping, 0, memory_order_release);
		tangle__spin_unlock(&rt->idle_lock);
		tangle__futex_wake(&s->sleeping, 1);
		return;
	}
	if (rt->poller && rt->poller != self && !rt->poller_poked) {
		rt->poller_poked = true;
		atomic_fetch_sub(&rt->n_idle, 1);
		atomic_fetch_add(&rt->n_searching, 1);
		tangle__spin_unlock(&rt->idle_lock);
		tangle__driver_poke(rt);
		return;
	}
	tangle__spin_unlock(&rt->idle_lock);
}

void tangle__notify(struct tangle_runtime *rt)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load_explicit(&rt->n_idle, memory_order_relaxed))
		return;
	if (atomic_load_explicit(&rt->n_searching, memory_order_relaxed))
		return;
	notify_one(rt);
}

static void end_search(struct tangle_worker *w)
{
	w->searching = false;
	if (atomic_fetch_sub(&w->rt->n_searching, 1) == 1)
		tangle__notify(w->rt); /* the last searcher: maybe more work */
}

static bool must_stop(struct tangle_runtime *rt, _Atomic uint32_t *until)
{
	if (until)
		return atomic_load_explicit(until, memory_order_acquire) == 1;
	return atomic_load_explicit(&rt->stopping, memory_order_acquire);
}

static void park(struct tangle_worker *w, _Atomic uint32_t *until)
{
	struct tangle_runtime *rt = w->rt;
	if (w->searching) {
		w->searching = false;
		atomic_fetch_sub(&rt->n_searching, 1);
	}
	tangle__clock_refresh(w);
	tangle__clock_sync();
	TANGLE_DBG({
		DBG_STORE(w->idle_since, w->clock);
		atomic_store_explicit(&w->state, TANGLE_DEBUG_WORKER_IDLE,
		                      memory_order_relaxed);
	});

	tangle__spin_lock(&rt->idle_lock);
	bool poller = !atomic_load_explicit(&rt->driver_busy, memory_order_relaxed);
	if (poller) {
		atomic_store(&rt->driver_busy, true);
		rt->poller = w;
		rt->poller_poked = false;
	} else {
		atomic_store_explicit(&w->sleeping, 1, memory_order_relaxed);
		w->idle_next = rt->sleepers;
		rt->sleepers = w;
	}
	atomic_fetch_add(&rt->n_idle, 1);
	tangle__spin_unlock(&rt->idle_lock);
	atomic_thread_fence(memory_order_seq_cst);

	bool work = has_work(rt) || must_stop(rt, until) ||
	            atomic_load(&rt->stopping);
	if (poller) {
		if (!work) {
			TANGLE_DBG(atomic_store_explicit(&w->state,
			                                 TANGLE_DEBUG_WORKER_POLLING,
			                                 memory_order_relaxed));
			tangle__driver_poll(rt, true);
		}
		struct tangle_worker *handoff = NULL;
		tangle__spin_lock(&rt->idle_lock);
		atomic_store(&rt->driver_busy, false);
		rt->poller = NULL;
		if (rt->poller_poked)
			w->searching = true; /* the poker counted us as searching */
		else
			atomic_fetch_sub(&rt->n_idle, 1);
		rt->poller_poked = false;
		/* Leaving the driver with timers or I/O pending while others
		 * sleep: wake one, so that someone polls when it idles. */
		if (rt->sleepers &&
		    (atomic_load(&rt->next_deadline) || atomic_load(&rt->io_waiters))) {
			handoff = rt->sleepers;
			rt->sleepers = handoff->idle_next;
			atomic_fetch_sub(&rt->n_idle, 1);
			atomic_fetch_add(&rt->n_searching, 1);
			atomic_store_explicit(&handoff->sleeping, 0, memory_order_release);
		}
		tangle__spin_unlock(&rt->idle_lock);
		if (handoff)
			tangle__futex_wake(&handoff->sleeping, 1);
	} else if (work) {
		tangle__spin_lock(&rt->idle_lock);
		if (atomic_load_explicit(&w->sleeping, memory_order_relaxed)) {
			struct tangle_worker **pp = &rt->sleepers;
			while (*pp != w)
				pp = &(*pp)->idle_next;
			*pp = w->idle_next;
			atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
			atomic_fetch_sub(&rt->n_idle, 1);
		} else {
			w->searching = true; /* somebody woke us meanwhile */
		}
		tangle__spin_unlock(&rt->idle_lock);
	} else {
		while (atomic_load_explicit(&w->sleeping, memory_order_acquire))
			tangle__futex_wait(&w->sleeping, 1);
		w->searching = true;
	}
	tangle__clock_refresh(w);
	tangle__clock_sync();
	TANGLE_DBG(atomic_store_explicit(&w->state, TANGLE_DEBUG_WORKER_SEARCHING,
	                                 memory_order_relaxed));
}

/* ---- The worker loop ------------------------------------------------------------- */

void tangle__worker_loop(struct tangle_worker *w, _Atomic uint32_t *until)
{
	struct tangle_runtime *rt = w->rt;
	for (;;) {
		tangle__after_switch(w);
		if (must_stop(rt, until) || atomic_load(&rt->stopping))
			break;
		struct tangle_task *t = pick_next(w);
		if (t) {
			if (w->searching)
				end_search(w);
			resume_prep(w, t);
			switch_to_task(&w->sched_sp, &w->asan_fake_stack, t, w);
			continue;
		}
		park(w, until);
	}
	if (w->searching) {
		w->searching = false;
		atomic_fetch_sub(&rt->n_searching, 1);
	}
}

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
