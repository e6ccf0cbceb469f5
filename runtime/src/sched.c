/*
 * sched.c — switching between tasks, waking them, and the worker loop.
 *
 * Invariants
 *  - A task is in at most one run queue, and only while its state is QUEUED;
 *    whoever pops it owns it and moves it to RUNNING.
 *  - A task that switches away is finished off by the context that resumes
 *    next (tangle__after_switch), never while its stack is still in use.
 *    The one exception: a yield on a runtime's only worker queues the task
 *    before the switch, since no other thread pops its queues.
 *  - A task's scheduling state (task_sched.h) decides who may resume it:
 *    only the worker that switched away from a task moves it RUNNING ->
 *    PARKED, after leaving its stack; a wake that came before (RUNNING ->
 *    NOTIFIED) makes that worker queue it again instead. So a wake is
 *    never lost and a task never runs on two workers.
 *  - Every TANGLE__TICK_MAINTENANCE picks a worker refreshes its clock,
 *    fires due timers, polls I/O and looks at the global queue first, so
 *    tasks that keep waking each other cannot starve it.
 * Run queues are in runq.h/runq.c, idle workers in idle.c, threads in
 * worker.c.
 */
#include "runq.h"
#include "sanitize.h"

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

/* ---- Picking the next task -------------------------------------------------- */

static void maintenance(struct tangle_worker *w)
{
	struct tangle_runtime *rt = w->rt;
	tangle__clock_refresh(w);
	uint64_t nd = atomic_load_explicit(&rt->next_deadline, memory_order_relaxed);
	if ((nd && nd <= w->clock) ||
	    atomic_load_explicit(&rt->io_waiters, memory_order_relaxed))
		tangle__driver_poll(rt, false);
}

/* The rest of a pick: maintenance when due (ticked), then the local
 * queue, the global queue, the other workers. */
static __attribute__((noinline)) struct tangle_task *
pick_slow(struct tangle_worker *w, bool ticked)
{
	struct tangle_runtime *rt = w->rt;
	struct tangle_task *t;
	if (ticked) {
		/* Fairness: the global queue first now and then, so tasks
		 * that keep waking each other cannot starve it. */
		w->tick = 0;
		maintenance(w);
		if ((t = tangle__global_pop(rt, w, 0)))
			return t;
		if ((t = tangle__runq_pop(w)))
			return t;
	}
	uint32_t batch = (uint32_t)(__atomic_load_n(&rt->global_len, __ATOMIC_RELAXED) /
	                            rt->worker_count);
	if (batch > TANGLE__RUNQ_CAP / 4)
		batch = TANGLE__RUNQ_CAP / 4;
	if ((t = tangle__global_pop(rt, w, batch)))
		return t;
	if (rt->worker_count > 1)
		return tangle__steal(w);
	return NULL;
}

/* The next task to run on w, or NULL; inline: the local queue's head. */
static inline struct tangle_task *pick_next(struct tangle_worker *w)
{
	if (unlikely(++w->tick >= TANGLE__TICK_MAINTENANCE))
		return pick_slow(w, true);
	struct tangle_task *t = tangle__runq_pop(w);
	if (likely(t))
		return t;
	return pick_slow(w, false);
}

/* ---- Switching ---------------------------------------------------------------- */

/* Make t the running task of w. The worker's debug state is RUNNING
 * already when it switches from one task to the next; from_loop says it
 * comes from its scheduler context. */
static inline void resume_prep(struct tangle_worker *w, struct tangle_task *t,
                               bool from_loop)
{
	atomic_store_explicit(&t->sched.state, TANGLE__S_RUNNING,
	                      memory_order_relaxed);
	DBG_STORE(w->current, t);
	TANGLE_DBG({
		uint64_t now = w->clock;
		DBG_INC(w->switches);
		if (from_loop)
			atomic_store_explicit(&w->state, TANGLE_DEBUG_WORKER_RUNNING,
			                      memory_order_relaxed);
		DBG_STORE(t->worker, (int32_t)w->index);
		DBG_STORE(t->last_ran_at, now);
		DBG_INC(t->resumes);
	});
	(void)from_loop;
}

static inline __attribute__((always_inline)) void
requeue(struct tangle_worker *w, struct tangle_task *t)
{
	if (unlikely(!tangle__runq_push(w, t)))
		tangle__runq_spill(w, t);
}

static __attribute__((noinline)) void after_switch_slow(struct tangle_worker *w,
                                                        struct tangle_task *p)
{
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

static inline __attribute__((always_inline)) void after_switch(struct tangle_worker *w)
{
	struct tangle_task *p = w->prev;
	if (p)
		after_switch_slow(w, p);
}

void tangle__after_switch(struct tangle_worker *w)
{
	after_switch(w);
}

/* t, still running on its stack, is queued on a solo worker (below):
 * nobody else takes it from its queues, and the task that resumes has
 * nothing to finish for it (w->prev stays NULL). */
static inline __attribute__((always_inline)) void queued(struct tangle_task *t)
{
	atomic_store_explicit(&t->sched.state, TANGLE__S_QUEUED,
	                      memory_order_release);
}

/* A yielder's wait record (where it yielded, when), for readers of the
 * runnable task it becomes. Written only once another task will run: a
 * yield with nothing else to run goes on and leaves no record. */
static inline __attribute__((always_inline)) void
yield_record(struct tangle_worker *w, struct tangle_task *t)
{
	TANGLE_DBG({
		t->wait.kind = TANGLE_DEBUG_WAIT_YIELD;
		t->wait.op = TANGLE_DEBUG_OP_YIELD;
		t->wait.object = NULL;
		t->wait.since = w->clock;
		atomic_store_explicit(&t->wait.state, TANGLE_DEBUG_WAITER_WOKEN,
		                      memory_order_relaxed);
	});
	(void)w, (void)t;
}

/* A yield on a runtime's only worker: the next task off the local queue
 * and t onto it in one step, when nothing else is due. */
static inline __attribute__((always_inline)) struct tangle_worker *
yield_solo(struct tangle_worker *w, struct tangle_task *t)
{
	struct tangle_task *next = NULL;
	bool due = ++w->tick >= TANGLE__TICK_MAINTENANCE;
	if (likely(!due))
		next = tangle__runq_rotate(w, t);
	if (likely(next)) {
		yield_record(w, t);
		queued(t);
	} else {
		next = pick_slow(w, due);
		if (!next)
			return w; /* nothing else to run: t's run goes on */
		yield_record(w, t);
		queued(t);
		if (unlikely(!tangle__runq_push(w, t)))
			tangle__runq_spill(w, t);
	}
	resume_prep(w, next, false);
	w = switch_to_task(&t->saved_sp, &t->sched.asan_fake_stack, next, w);
	after_switch(w);
	return w;
}

/* tangle__switch_out, inline: a yield's copy loses the other actions. */
static inline __attribute__((always_inline)) struct tangle_worker *
switch_away(struct tangle_worker *w, struct tangle_task *t, int action)
{
	struct tangle_task *next = NULL;
	if (!(action == TANGLE__ACT_EXIT && t->sched.main && w->rt->current_thread))
		next = pick_next(w);
	if (action == TANGLE__ACT_YIELD) {
		if (!next)
			return w; /* nothing else to run: t's run goes on */
		yield_record(w, t);
	}
	void **fake = action == TANGLE__ACT_EXIT ? NULL : &t->sched.asan_fake_stack;
	w->prev = t;
	w->prev_action = action;
	if (next) {
		resume_prep(w, next, false);
		w = switch_to_task(&t->saved_sp, fake, next, w);
	} else {
		DBG_STORE(w->current, NULL);
		TANGLE_DBG(atomic_store_explicit(&w->state, TANGLE_DEBUG_WORKER_SEARCHING,
		                                 memory_order_relaxed));
		w = ctx_switch(&t->saved_sp, fake, w->sched_sp, w->sched_stack_lo,
		               w->sched_stack_size, w->tsan_fiber, w);
	}
	after_switch(w);
	return w;
}

struct tangle_worker *tangle__switch_out(struct tangle_worker *w,
                                         struct tangle_task *t, int action)
{
	return switch_away(w, t, action);
}

int tangle_yield_at(const tangle_site *site)
{
	struct tangle_worker *w = tangle__worker_self();
	struct tangle_task *t = w ? w->current : NULL;
	if (unlikely(!t))
		return TANGLE_ENOTASK;
	/* The site now (one store; keeping it for later costs registers);
	 * the rest of the record once another task will run. */
	TANGLE_DBG(t->wait.site = site);
	(void)site;
	if (w->solo)
		yield_solo(w, t);
	else
		switch_away(w, t, TANGLE__ACT_YIELD);
	return TANGLE_OK;
}

void tangle__suspend(void)
{
	struct tangle_worker *w = tangle__worker_self();
	struct tangle_task *t = w->current;
	switch_away(w, t, TANGLE__ACT_SUSPEND);
}

/* tangle__schedule, inline in tangle__wake. */
static inline __attribute__((always_inline)) void
schedule(struct tangle_worker *w, struct tangle_task *t)
{
	struct tangle_runtime *rt = t->rt;
	if (w && w->rt == rt && w->in_loop) {
		uint32_t len = tangle__runq_push(w, t);
		if (likely(len)) {
			/* A lone task is left to this worker, which runs it at
			 * its next switch: waking another worker for it would
			 * mostly find it gone (a task that wakes or spawns one
			 * and then waits). Spinning workers, and the poller's
			 * watch while the runtime is busy, take it if it stays. */
			if (len >= 2 && rt->worker_count > 1)
				tangle__notify_local(rt);
			return;
		}
		tangle__runq_spill(w, t); /* onto the global queue */
		tangle__notify(rt);
		return;
	}
	tangle__global_push(rt, t);
	tangle__notify(rt);
}

/* ---- Waking ------------------------------------------------------------------- */

static __attribute__((noinline, cold)) void
wake_stamp_slow(struct tangle_worker *w, struct tangle_task *t)
{
	DBG_STORE(t->woken_at, w ? w->clock : tangle__clock_precise());
	DBG_STORE(t->woken_by, 0);
	DBG_INC(t->wakes);
}

/* Woken by the running task of a worker (the common case), or else by a
 * thread, timer or I/O (woken_by 0). */
static inline void wake_stamp(struct tangle_worker *w, struct tangle_task *t)
{
	TANGLE_DBG({
		struct tangle_task *by = likely(w) ? w->current : NULL;
		if (unlikely(!by)) {
			wake_stamp_slow(w, t);
		} else {
			DBG_STORE(t->woken_at, w->clock);
			DBG_STORE(t->woken_by, by->id);
			DBG_INC(t->wakes);
		}
	});
	(void)w, (void)t;
}

/* Wake t, in state s as read: false if it is QUEUED or NOTIFIED (it will
 * run, and look at what the caller stored before it sleeps again). */
static inline __attribute__((always_inline)) bool
wake_from(struct tangle_worker *w, struct tangle_task *t, uint32_t s)
{
	for (;;) {
		if (s == TANGLE__S_RUNNING) {
			if (atomic_compare_exchange_weak_explicit(
				    &t->sched.state, &s, TANGLE__S_NOTIFIED,
				    memory_order_acq_rel, memory_order_acquire)) {
				wake_stamp(w, t);
				return true;
			}
		} else if (s == TANGLE__S_PARKED) {
			if (atomic_compare_exchange_weak_explicit(
				    &t->sched.state, &s, TANGLE__S_QUEUED,
				    memory_order_acq_rel, memory_order_acquire)) {
				wake_stamp(w, t);
				schedule(w, t);
				return true;
			}
		} else {
			/* queued or notified: it will run and look (false);
			 * done, or not a task yet: nothing to wake */
			return s != TANGLE__S_QUEUED && s != TANGLE__S_NOTIFIED;
		}
	}
}

/* t will run and look: that look must see what the caller stored, or this
 * read the RUNNING that t stored on its resume (see
 * tangle__resumed_fence). A fence, then the state read again. */
static __attribute__((noinline, cold)) void
wake_fenced(struct tangle_worker *w, struct tangle_task *t)
{
	atomic_thread_fence(memory_order_seq_cst);
	(void)wake_from(w, t, atomic_load_explicit(&t->sched.state,
	                                           memory_order_acquire));
}

void tangle__wake(struct tangle_task *t)
{
	struct tangle_worker *w = tangle__worker_self();
	if (!wake_from(w, t, atomic_load_explicit(&t->sched.state,
	                                          memory_order_acquire)))
		wake_fenced(w, t);
}

void tangle__schedule(struct tangle_worker *w, struct tangle_task *t)
{
	schedule(w, t);
}

/* ---- Idle workers --------------------------------------------------------------- */
/* ---- The worker loop ------------------------------------------------------------- */

void tangle__worker_loop(struct tangle_worker *w, _Atomic uint32_t *until)
{
	struct tangle_runtime *rt = w->rt;
	for (;;) {
		after_switch(w);
		if (tangle__must_stop(rt, until))
			break;
		struct tangle_task *t = pick_next(w);
		if (t) {
			if (w->searching)
				tangle__end_search(w);
			w->ran = true;
			resume_prep(w, t, true);
			switch_to_task(&w->sched_sp, &w->asan_fake_stack, t, w);
			continue;
		}
		/* Spin only when out of work after running some: not after a
		 * look that found nothing (the poller's watch). */
		if (!w->ran || !tangle__spin(w, until)) {
			w->ran = false;
			tangle__park(w, until);
		}
	}
	if (w->searching) {
		w->searching = false;
		atomic_fetch_sub(&rt->n_searching, 1);
	}
}
