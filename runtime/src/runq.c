/*
 * runq.c — stealing from other workers' local queues, and the runtime's
 * global queue (runq.h has the local queue's invariants).
 *
 * The global queue is a FIFO list under global_lock; global_len mirrors its
 * length (seq_cst increments, so that an idle worker that registered as
 * idle and then reads 0 cannot miss a push: see idle.c).
 */
#include "runq.h"

/* ---- Stealing ------------------------------------------------------------ */

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
		                                          tangle__runq_pack(steal, real + n),
		                                          memory_order_acq_rel,
		                                          memory_order_acquire))
			break;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct tangle_task *t = atomic_load_explicit(
			&vq->buf[(real + i) & TANGLE__RUNQ_MASK], memory_order_relaxed);
		atomic_store_explicit(&q->buf[(dst_tail + i) & TANGLE__RUNQ_MASK], t,
		                      memory_order_relaxed);
	}
	/* Done copying: let the victim's owner reuse those slots. */
	head = tangle__runq_pack(real, real + n);
	for (;;) {
		uint64_t next = tangle__runq_pack((uint32_t)head, (uint32_t)head);
		if (atomic_compare_exchange_weak_explicit(&vq->head, &head, next,
		                                          memory_order_acq_rel,
		                                          memory_order_acquire))
			break;
	}
	n--;
	struct tangle_task *ret = atomic_load_explicit(
		&q->buf[(dst_tail + n) & TANGLE__RUNQ_MASK], memory_order_relaxed);
	if (n)
		atomic_store_explicit(&q->tail, dst_tail + n, memory_order_release);
	return ret;
}


/* Steal from the workers in a random order, starting anywhere. */
struct tangle_task *tangle__steal(struct tangle_worker *w)
{
	struct tangle_runtime *rt = w->rt;
	uint32_t n = rt->worker_count;
	w->rand ^= w->rand << 13;
	w->rand ^= w->rand >> 17;
	w->rand ^= w->rand << 5;
	uint32_t start = w->rand % n;
	for (uint32_t i = 0; i < n; i++) {
		struct tangle_worker *v = &rt->workers[(start + i) % n];
		if (v == w || tangle__runq_empty(v))
			continue;
		struct tangle_task *t = runq_steal(v, w);
		if (t)
			return t;
	}
	return NULL;
}


/* ---- Global queue ------------------------------------------------------- */


/* Append the chain first..last (n tasks, linked by sched.next). */
static void global_append(struct tangle_runtime *rt, struct tangle_task *first,
                          struct tangle_task *last, uint32_t n)
{
	last->sched.next = NULL;
	tangle__spin_lock(&rt->global_lock);
	if (rt->global_tail)
		rt->global_tail->sched.next = first;
	else
		rt->global_head = first;
	rt->global_tail = last;
	__atomic_fetch_add(&rt->global_len, n, __ATOMIC_SEQ_CST);
	tangle__spin_unlock(&rt->global_lock);
}

void tangle__runq_spill(struct tangle_worker *w, struct tangle_task *t)
{
	struct tangle_runq *q = &w->q;
	uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
	uint32_t real = 0, n = 0;
	for (;;) {
		uint32_t steal = (uint32_t)(head >> 32);
		real = (uint32_t)head;
		n = (tail - real) / 2;
		if (steal != real || n == 0) {
			n = 0; /* a thief is taking some: room soon, t alone */
			break;
		}
		if (atomic_compare_exchange_weak_explicit(
			    &q->head, &head, tangle__runq_pack(real + n, real + n),
			    memory_order_acq_rel, memory_order_acquire))
			break;
	}
	struct tangle_task *first = t, *last = t;
	if (n) {
		first = atomic_load_explicit(&q->buf[real & TANGLE__RUNQ_MASK],
		                             memory_order_relaxed);
		last = first;
		for (uint32_t i = 1; i < n; i++) {
			struct tangle_task *u = atomic_load_explicit(
				&q->buf[(real + i) & TANGLE__RUNQ_MASK], memory_order_relaxed);
			last->sched.next = u;
			last = u;
		}
		last->sched.next = t;
		last = t;
	}
	global_append(w->rt, first, last, n + 1);
}

void tangle__global_push(struct tangle_runtime *rt, struct tangle_task *t)
{
	global_append(rt, t, t, 1);
}

/* Pop one task to run and move up to `batch` more into w's local queue. */
struct tangle_task *tangle__global_pop(struct tangle_runtime *rt,
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
			if (!tangle__runq_push(w, u))
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
