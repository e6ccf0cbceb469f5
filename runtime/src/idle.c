/*
 * idle.c — idle workers: parking, and waking one when work appears.
 *
 * Invariants
 *  - At most one idle worker polls the driver (rt->driver_busy, rt->poller);
 *    the other idle workers sleep on their futex word (rt->sleepers). A
 *    poller that leaves to run tasks wakes a sleeper to take its place,
 *    so while any worker is idle, one polls.
 *  - A worker registers as idle (n_idle) before it checks the queues a last
 *    time, and whoever queues work on the global queue checks n_idle after
 *    queuing it (seq_cst on both sides), so work is never left behind
 *    while every worker sleeps. A worker queuing on its own local queue
 *    skips the fence (tangle__notify_local), and skips the wake entirely
 *    for a lone task: it runs that queue itself before it may park, so a
 *    missed wake costs parallelism only, never the task. To bound that
 *    cost, the poller wakes every TANGLE__WATCH_NS while some worker is
 *    busy (driver.c) and takes what it finds.
 *  - n_searching counts workers woken to look for work; while one searches,
 *    nobody else is woken (tokio's throttle); the last one to find work
 *    wakes the next (tangle__end_search).
 *  - Whoever takes a worker off the sleepers list (or pokes the poller)
 *    moves it from n_idle to n_searching, under idle_lock.
 *  - A worker that runs out of work first spins for up to TANGLE__SPIN_NS
 *    (at most half the workers at a time), counted as searching: work
 *    queued meanwhile is found without a futex wake on either side. It
 *    leaves a lone queued task to its owner for a moment (work_to_take),
 *    so that a task and the one it spawns or wakes stay on one worker.
 */
#include "runq.h"

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
	tangle__notify_local(rt);
}

void tangle__notify_local(struct tangle_runtime *rt)
{
	if (!atomic_load_explicit(&rt->n_idle, memory_order_relaxed))
		return;
	if (atomic_load_explicit(&rt->n_searching, memory_order_relaxed))
		return;
	notify_one(rt);
}

void tangle__end_search(struct tangle_worker *w)
{
	w->searching = false;
	if (atomic_fetch_sub(&w->rt->n_searching, 1) == 1)
		tangle__notify(w->rt); /* the last searcher: maybe more work */
}


/* Work for w before it sleeps: the global queue, or a surplus in another
 * worker's queue (a lone task is its owner's, see tangle__schedule). */
static bool has_work(struct tangle_worker *w)
{
	struct tangle_runtime *rt = w->rt;
	if (__atomic_load_n(&rt->global_len, __ATOMIC_SEQ_CST))
		return true;
	for (uint32_t i = 0; i < rt->worker_count; i++) {
		struct tangle_worker *v = &rt->workers[i];
		if (tangle__runq_len(v) >= (v == w ? 1u : 2u))
			return true;
	}
	return false;
}

/* What a spinning worker watches: work it should take now. A lone task
 * in another worker's queue is left to its owner (about to run it, caches
 * warm) unless it sits there, at the same queue position, for
 * TANGLE__SPIN_LONE_NS: then the owner is busy and the task is stolen. */
struct watch {
	struct tangle_worker *victim;
	uint64_t head;
	uint64_t since;
};

static bool work_to_take(struct tangle_worker *w, struct watch *lone, uint64_t now)
{
	struct tangle_runtime *rt = w->rt;
	if (__atomic_load_n(&rt->global_len, __ATOMIC_SEQ_CST))
		return true;
	for (uint32_t i = 0; i < rt->worker_count; i++) {
		struct tangle_worker *v = &rt->workers[i];
		if (v == w)
			continue;
		uint64_t head = atomic_load_explicit(&v->q.head, memory_order_acquire);
		uint32_t tail = atomic_load_explicit(&v->q.tail, memory_order_acquire);
		uint32_t len = tail - (uint32_t)head;
		if (len >= 2)
			return true;
		if (len == 0)
			continue;
		if (lone->victim != v || lone->head != head) {
			*lone = (struct watch){v, head, now};
			continue;
		}
		if (now - lone->since >= TANGLE__SPIN_LONE_NS)
			return true;
	}
	return false;
}

bool tangle__spin(struct tangle_worker *w, _Atomic uint32_t *until)
{
	struct tangle_runtime *rt = w->rt;
	uint32_t n = atomic_load_explicit(&rt->n_spinning, memory_order_relaxed);
	if (rt->worker_count == 1 || n * 2 >= rt->worker_count)
		return false;
	atomic_fetch_add_explicit(&rt->n_spinning, 1, memory_order_relaxed);
	if (!w->searching) {
		w->searching = true;
		atomic_fetch_add(&rt->n_searching, 1);
	}
	/* Look at the others' queues only every TANGLE__SPIN_POLL_NS: each
	 * look pulls their cache lines over, which the owners pay for on
	 * their next push or pop. */
	bool found = false;
	struct watch lone = {0};
	uint64_t start = tangle__clock_precise(), now = start, looked = 0;
	for (;;) {
		if (now - looked >= TANGLE__SPIN_POLL_NS) {
			looked = now;
			if (work_to_take(w, &lone, now) || tangle__must_stop(rt, until)) {
				found = true;
				break;
			}
		}
		if (now - start > TANGLE__SPIN_NS)
			break;
		for (int i = 0; i < 8; i++)
			tangle__cpu_relax();
		now = tangle__clock_precise();
	}
	atomic_fetch_sub_explicit(&rt->n_spinning, 1, memory_order_relaxed);
	return found;
}

void tangle__park(struct tangle_worker *w, _Atomic uint32_t *until)
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

	bool work = has_work(w) || tangle__must_stop(rt, until);
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
		/* Leaving the driver while others sleep: wake one to poll in
		 * our place (timers, I/O, and the watch over lone tasks). */
		if (rt->sleepers) {
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
