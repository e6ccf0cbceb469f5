/*
 * runq.h — run queues: a worker's local queue (inline: the owner's push
 * and pop are on every switch) and the runtime's global queue (runq.c).
 *
 * Local queue invariants
 *  - Only the owner pushes (at tail) and pops (at head); thieves take up to
 *    half from the head (runq.c).
 *  - head packs (steal << 32 | real). real is the next slot to pop; a
 *    thief moves real past the slots it takes, copies them, then sets steal
 *    = real. While steal != real those slots are still being copied, so the
 *    owner counts them as used (push checks tail - steal) and other thieves
 *    back off.
 *  - A queue of the runtime's only worker (solo) has no thieves: its pop
 *    is a plain load and store.
 * A task is in at most one queue, and only while its state is QUEUED.
 */
#ifndef TANGLE_RUNQ_H
#define TANGLE_RUNQ_H

#include "scheduler.h"

#define TANGLE__RUNQ_MASK (TANGLE__RUNQ_CAP - 1)

static inline uint64_t tangle__runq_pack(uint32_t steal, uint32_t real)
{
	return (uint64_t)steal << 32 | real;
}

/* Owner only. The queue's length with t, or 0 when it is full. */
static inline uint32_t tangle__runq_push(struct tangle_worker *w, struct tangle_task *t)
{
	struct tangle_runq *q = &w->q;
	uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
	if (tail - (uint32_t)(head >> 32) >= TANGLE__RUNQ_CAP)
		return 0;
	atomic_store_explicit(&q->buf[tail & TANGLE__RUNQ_MASK], t, memory_order_relaxed);
	atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
	uint32_t len = tail + 1 - (uint32_t)head;
	return len;
}

/* Owner only. */
static inline struct tangle_task *tangle__runq_pop(struct tangle_worker *w)
{
	struct tangle_runq *q = &w->q;
	uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
	uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	if (w->solo) {
		/* No thieves with one worker: no CAS needed. */
		uint32_t real = (uint32_t)head;
		if (real == tail)
			return NULL;
		atomic_store_explicit(&q->head, tangle__runq_pack(real + 1, real + 1),
		                      memory_order_relaxed);
		return atomic_load_explicit(&q->buf[real & TANGLE__RUNQ_MASK],
		                            memory_order_relaxed);
	}
	for (;;) {
		uint32_t steal = (uint32_t)(head >> 32), real = (uint32_t)head;
		if (real == tail)
			return NULL;
		uint64_t next = steal == real ? tangle__runq_pack(real + 1, real + 1)
		                              : tangle__runq_pack(steal, real + 1);
		if (atomic_compare_exchange_weak_explicit(&q->head, &head, next,
		                                          memory_order_acq_rel,
		                                          memory_order_acquire)) {
			return atomic_load_explicit(&q->buf[real & TANGLE__RUNQ_MASK],
			                            memory_order_relaxed);
		}
	}
}

/* Owner of a solo queue (no thieves) only: pop the head and push t at the
 * tail in one step, t going behind every queued task; the length does not
 * change. NULL, and t not pushed, when the queue is empty. */
static inline struct tangle_task *tangle__runq_rotate(struct tangle_worker *w,
                                                      struct tangle_task *t)
{
	struct tangle_runq *q = &w->q;
	uint32_t real = (uint32_t)atomic_load_explicit(&q->head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	if (real == tail)
		return NULL;
	struct tangle_task *next = atomic_load_explicit(&q->buf[real & TANGLE__RUNQ_MASK],
	                                                memory_order_relaxed);
	/* (a full queue has tail's slot = real's: read before written) */
	atomic_store_explicit(&q->buf[tail & TANGLE__RUNQ_MASK], t, memory_order_relaxed);
	atomic_store_explicit(&q->head, tangle__runq_pack(real + 1, real + 1),
	                      memory_order_relaxed);
	atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
	return next;
}

/* Any thread; a hint. */
static inline uint32_t tangle__runq_len(struct tangle_worker *w)
{
	uint64_t head = atomic_load_explicit(&w->q.head, memory_order_acquire);
	uint32_t tail = atomic_load_explicit(&w->q.tail, memory_order_acquire);
	return tail - (uint32_t)head;
}

static inline bool tangle__runq_empty(struct tangle_worker *w)
{
	return tangle__runq_len(w) == 0;
}

/* runq.c */
/* Steal half of another worker's queue into w's; returns one of the tasks
 * to run now, or NULL. */
TANGLE_HIDDEN struct tangle_task *tangle__steal(struct tangle_worker *w);
TANGLE_HIDDEN void tangle__global_push(struct tangle_runtime *rt, struct tangle_task *t);
/* w's local queue is full: move its older half and t to the global queue,
 * in one batch. Owner only. */
TANGLE_HIDDEN void tangle__runq_spill(struct tangle_worker *w, struct tangle_task *t);
/* Pop one task to run and move up to `batch` more into w's local queue. */
TANGLE_HIDDEN struct tangle_task *tangle__global_pop(struct tangle_runtime *rt,
                                                     struct tangle_worker *w,
                                                     uint32_t batch);

#endif /* TANGLE_RUNQ_H */
