/*
 * waker.c — the public waker API, its pool, and tangle_park.
 *
 * A waker holds a reference on its task's slot (sched.refs), so the slot
 * is not reused while the waker lives: a waker always names the task it
 * was made for, and the task's live-waker count (wakers, read by the
 * tools to tell a lost wake-up) is exact: +1 in tangle_waker_current, -1
 * in tangle_waker_drop, nothing else. A wake of a finished task does
 * nothing.
 *
 * Pool: waker records come in blocks owned by the runtime (freed with it),
 * so every waker must be dropped before its runtime is freed. Each worker
 * keeps a small cache of free records, used without atomics: a waker is
 * made on a worker (task only), and dropped into the cache of the worker
 * that drops it when that is one of the same runtime's, else into the
 * runtime's shared list (under waker_lock). Caches exchange records with
 * the shared list in batches.
 *
 * A wake sets the task's `unpark` token and wakes it; tangle_park consumes
 * the token, so a wake that comes before the park is not lost, and wakes
 * meant for other waits of the task cannot be mistaken for one.
 */
#include <errno.h>
#include <stdlib.h>

#include "scheduler.h"

#define CACHE_MAX 64u      /* per worker */
#define BATCH 32u          /* moved between a cache and the shared list */
#define BLOCK 63u          /* records per allocation */

struct tangle_waker {
	struct tangle_task *task;        /* NULL while free */
	struct tangle_waker *next;       /* free lists */
};

struct tangle_waker_block {
	struct tangle_waker_block *next;
	struct tangle_waker wakers[BLOCK];
};

/* Refill w's empty cache: a batch from the shared list, or a new block. */
static bool refill(struct tangle_worker *w)
{
	struct tangle_runtime *rt = w->rt;
	tangle__spin_lock(&rt->waker_lock);
	struct tangle_waker *k = rt->waker_free;
	uint32_t n = 0;
	for (; k && n < BATCH; n++) {
		struct tangle_waker *next = k->next;
		k->next = w->waker_cache;
		w->waker_cache = k;
		k = next;
	}
	rt->waker_free = k;
	tangle__spin_unlock(&rt->waker_lock);
	if (n) {
		w->waker_cached = n;
		return true;
	}
	struct tangle_waker_block *b = malloc(sizeof *b);
	if (!b)
		return false;
	for (uint32_t i = 0; i < BLOCK; i++) {
		b->wakers[i].task = NULL;
		b->wakers[i].next = w->waker_cache;
		w->waker_cache = &b->wakers[i];
	}
	w->waker_cached = BLOCK;
	tangle__spin_lock(&rt->waker_lock);
	b->next = rt->waker_blocks;
	rt->waker_blocks = b;
	tangle__spin_unlock(&rt->waker_lock);
	return true;
}

/* Give a batch of w's full cache back to the shared list. */
static void spill(struct tangle_worker *w)
{
	struct tangle_waker *first = w->waker_cache, *last = first;
	for (uint32_t i = 1; i < BATCH; i++)
		last = last->next;
	w->waker_cache = last->next;
	w->waker_cached -= BATCH;
	struct tangle_runtime *rt = w->rt;
	tangle__spin_lock(&rt->waker_lock);
	last->next = rt->waker_free;
	rt->waker_free = first;
	tangle__spin_unlock(&rt->waker_lock);
}

void tangle__wakers_free(struct tangle_runtime *rt)
{
	struct tangle_waker_block *b = rt->waker_blocks, *next;
	for (; b; b = next) {
		next = b->next;
		free(b);
	}
	rt->waker_blocks = NULL;
	rt->waker_free = NULL;
	for (uint32_t i = 0; i < rt->worker_count; i++) {
		rt->workers[i].waker_cache = NULL;
		rt->workers[i].waker_cached = 0;
	}
}

tangle_waker *tangle_waker_current(void)
{
	struct tangle_worker *w = tangle__worker_self();
	struct tangle_task *t = w ? w->current : NULL;
	if (!t) {
		errno = EPERM;
		return NULL;
	}
	if (!w->waker_cache && !refill(w)) {
		errno = ENOMEM;
		return NULL;
	}
	struct tangle_waker *k = w->waker_cache;
	w->waker_cache = k->next;
	w->waker_cached--;
	k->task = t;
	k->next = NULL;
	atomic_fetch_add_explicit(&t->sched.refs, 1, memory_order_relaxed);
	TANGLE_DBG(atomic_fetch_add_explicit(&t->wakers, 1, memory_order_relaxed));
	return k;
}

void tangle_waker_wake(tangle_waker *k)
{
	if (!k)
		return;
	struct tangle_task *t = k->task;
	atomic_store_explicit(&t->sched.unpark, 1, memory_order_release);
	tangle__wake(t);
}

void tangle_waker_drop(tangle_waker *k)
{
	if (!k)
		return;
	struct tangle_task *t = k->task;
	struct tangle_runtime *rt = t->rt;
	k->task = NULL;
	TANGLE_DBG(atomic_fetch_sub_explicit(&t->wakers, 1, memory_order_relaxed));
	tangle__task_release(t);
	struct tangle_worker *w = tangle__worker_self();
	if (w && w->rt == rt) {
		k->next = w->waker_cache;
		w->waker_cache = k;
		if (++w->waker_cached > CACHE_MAX)
			spill(w);
		return;
	}
	tangle__spin_lock(&rt->waker_lock);
	k->next = rt->waker_free;
	rt->waker_free = k;
	tangle__spin_unlock(&rt->waker_lock);
}

int tangle_park_at(const char *what, const tangle_site *site)
{
	int err = tangle__wait_check();
	if (err)
		return err;
	struct tangle_task *t = tangle__current();
	if (!atomic_exchange_explicit(&t->sched.unpark, 0, memory_order_acquire)) {
		struct tangle_waiter *w = tangle__waiter_begin(
			TANGLE_DEBUG_WAIT_PARK, TANGLE_DEBUG_OP_PARK, NULL, 0, -1, site);
		w->what = what;
		tangle__suspend();
		atomic_store_explicit(&w->state, TANGLE_DEBUG_WAITER_WOKEN,
		                      memory_order_relaxed);
		atomic_exchange_explicit(&t->sched.unpark, 0, memory_order_acquire);
	}
	return tangle__wait_check();
}
