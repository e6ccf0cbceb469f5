/*
 * wait.c — the one waiter record and fair queue under every primitive.
 *
 * Ownership rules
 *  - A waiter is queued and removed only under its queue's lock. Granters
 *    remove it, then grant it (state, granted_at), then wake its task, all
 *    under that lock.
 *  - Only the waiting task aborts its own wait (timeout, cancellation): it
 *    takes the lock and removes the waiter if it is still WAITING. So a
 *    waiter leaves WAITING exactly once, and a grant is never lost or
 *    given twice.
 *  - After a grant the waiting task may return (and reuse or leave its
 *    waiter) as soon as it sees the state; the granter touches nothing of
 *    the waiter after the state store, only the task record (which lives in
 *    a slab and is never unmapped while its runtime lives).
 *  - w->queue is read by the waiting task without the lock (atomically),
 *    to find the lock; a queued waiter's object outlives the wait.
 */
#include <stdlib.h>

#include "scheduler.h"

void tangle__waitq_init(struct tangle_waitq *q, tangle_spinlock *lock,
                        void (*after_abort)(struct tangle_waitq *))
{
	q->head = q->tail = NULL;
	q->lock = lock;
	q->after_abort = after_abort;
}

void tangle__waitq_push(struct tangle_waitq *q, struct tangle_waiter *w)
{
	w->next = NULL;
	w->prev = q->tail;
	if (q->tail)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
	w->was_queued = 1;
	/* Being queued is what makes it wakeable: readers count a waiter
	 * with QUEUE set as a live waker (no count to keep here). */
	__atomic_store_n(&w->queue, q, __ATOMIC_RELEASE);
}

void tangle__waitq_remove(struct tangle_waitq *q, struct tangle_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		q->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		q->tail = w->prev;
	w->next = w->prev = NULL;
	__atomic_store_n(&w->queue, NULL, __ATOMIC_RELEASE);
}

void tangle__waiter_init(struct tangle_waiter *w, uint8_t kind, uint8_t op,
                         void *object, uint32_t count, uint64_t deadline,
                         const tangle_site *site)
{
	struct tangle_worker *wk = tangle__worker_self();
	tangle__waiter_start(w, kind, op, object, count, deadline,
	                     wk ? wk->clock : tangle__clock_precise());
	TANGLE_DBG(w->site = site);
	(void)site;
	w->task = wk ? wk->current : NULL;
	w->queue = NULL;
	w->value = NULL;
	w->result = 0;
}

uint64_t tangle__deadline(int64_t timeout_ms)
{
	if (timeout_ms < 0)
		return 0;
	if (timeout_ms > INT64_MAX / 2000000)
		timeout_ms = INT64_MAX / 2000000;
	uint64_t d = tangle__clock_precise() + (uint64_t)timeout_ms * 1000000u;
	return d ? d : 1;
}

bool tangle__waiter_grant(struct tangle_waiter *w, uint8_t state)
{
	if (w->select) {
		struct tangle_waiter *none = NULL;
		if (!atomic_compare_exchange_strong_explicit(
			    &w->select->winner, &none, w, memory_order_acq_rel,
			    memory_order_acquire))
			return false;
	}
	struct tangle_task *t = w->task;
	/* Timed waits only: must_pass_on compares it with the deadline.
	 * Readers take an untimed grant's time from the wake below (the
	 * task's WOKEN_AT): the same moment, not stored twice. */
	if (w->deadline)
		w->granted_at = tangle__clock_precise();
	atomic_store_explicit(&w->state, state, memory_order_release);
	tangle__wake(t);
	return true;
}

static bool cancelled(const struct tangle_task *t)
{
	return atomic_load_explicit(&t->flags, memory_order_acquire) &
	       TANGLE_DEBUG_TASKF_CANCEL_REQUESTED;
}

/* Leave the wait with `state` (TIMEDOUT or CANCELLED) unless a granter got
 * there first; returns false when w is mid-grant (the granter will wake
 * us). */
static bool abort_wait(struct tangle_waiter *w, uint8_t state)
{
	if (!w->was_queued) {
		atomic_store_explicit(&w->state, state, memory_order_relaxed);
		return true;
	}
	struct tangle_waitq *q = __atomic_load_n(&w->queue, __ATOMIC_ACQUIRE);
	if (!q)
		return false;
	tangle__spin_lock(q->lock);
	if (atomic_load_explicit(&w->state, memory_order_relaxed) ==
	    TANGLE_DEBUG_WAITER_WAITING) {
		tangle__waitq_remove(q, w);
		atomic_store_explicit(&w->state, state, memory_order_relaxed);
		if (q->after_abort)
			q->after_abort(q);
	}
	tangle__spin_unlock(q->lock);
	return true;
}

uint8_t tangle__waiter_wait(struct tangle_waiter *w)
{
	struct tangle_task *t = w->task;
	bool armed = false;
	uint8_t s = atomic_load_explicit(&w->state, memory_order_acquire);
	while (s == TANGLE_DEBUG_WAITER_WAITING) {
		uint8_t abort = 0;
		if (cancelled(t)) {
			abort = TANGLE_DEBUG_WAITER_CANCELLED;
		} else if (w->deadline) {
			if (tangle__clock_precise() >= w->deadline)
				abort = TANGLE_DEBUG_WAITER_TIMEDOUT;
			else if (!armed) {
				tangle__timer_arm(t, w->deadline);
				armed = true;
			}
		}
		if (!abort || !abort_wait(w, abort)) {
			tangle__suspend();
			s = atomic_load_explicit(&w->state, memory_order_acquire);
			if (s != TANGLE_DEBUG_WAITER_WAITING)
				break;
			tangle__resumed_fence();
		}
		s = atomic_load_explicit(&w->state, memory_order_acquire);
	}
	if (armed)
		tangle__timer_disarm(t);
	return atomic_load_explicit(&w->state, memory_order_acquire);
}

bool tangle__waiter_must_pass_on(const struct tangle_waiter *w, int *err)
{
	if (atomic_load_explicit(&w->state, memory_order_acquire) !=
	    TANGLE_DEBUG_WAITER_GRANTED)
		return false;
	if (cancelled(w->task)) {
		*err = TANGLE_ECANCELED;
		return true;
	}
	if (w->deadline && w->granted_at > w->deadline) {
		*err = TANGLE_ETIMEDOUT;
		return true;
	}
	return false;
}

int tangle__wait_check(void)
{
	struct tangle_task *t = tangle__current();
	if (!t)
		return TANGLE_ENOTASK;
	if (cancelled(t))
		return TANGLE_ECANCELED;
	return TANGLE_OK;
}

/* ---- tangle_runtime_free: abandoned waits leave their queues --------------- */

struct left {
	struct tangle_waitq **q; /* queues with an after_abort to run */
	size_t n, cap;
};

static void leave(struct tangle_waiter *w, struct left *l)
{
	struct tangle_waitq *q = __atomic_load_n(&w->queue, __ATOMIC_ACQUIRE);
	if (!q)
		return;
	tangle__spin_lock(q->lock);
	if (__atomic_load_n(&w->queue, __ATOMIC_RELAXED) != q) {
		tangle__spin_unlock(q->lock);
		return;
	}
	tangle__waitq_remove(q, w);
	if (q->after_abort) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 16;
			struct tangle_waitq **a = realloc(l->q, cap * sizeof(*a));
			if (a) {
				l->q = a;
				l->cap = cap;
			}
		}
		if (l->n < l->cap)
			l->q[l->n++] = q;
		else
			q->after_abort(q); /* no memory: at once (it may serve one of
			                      rt's waiters, whose grant is lost) */
	}
	tangle__spin_unlock(q->lock);
}

void tangle__waits_abandon(struct tangle_runtime *rt)
{
	struct left l = {0};
	for (struct tangle_slab *s = rt->slabs; s; s = s->next) {
		for (uint32_t i = 0; i < s->capacity; i++) {
			struct tangle_task *t = &s->tasks[i];
			uint32_t st = atomic_load_explicit(&t->sched.state,
			                                   memory_order_acquire);
			if (st == TANGLE__S_NEW || tangle__sched_finished(st))
				continue;
			leave(&t->wait, &l);
			struct tangle_select_group *g = t->wait.select;
			if (t->wait.kind == TANGLE_DEBUG_WAIT_SELECT && g)
				for (uint32_t k = 0; k < g->narms && k < TANGLE_SELECT_MAX; k++)
					leave(&g->arms[k], &l);
		}
	}
	/* Only now, with none of rt's waiters left in any queue, may the
	 * owners serve the others (a semaphore's smaller requests, readers). */
	for (size_t k = 0; k < l.n; k++) {
		tangle__spin_lock(l.q[k]->lock);
		l.q[k]->after_abort(l.q[k]);
		tangle__spin_unlock(l.q[k]->lock);
	}
	free(l.q);
}
