/*
 * task.c — spawn, join, detach, yield, sleep, cancel, and the task's own
 * record (labels, spans, holds).
 *
 * Lifetime: a slot is taken at spawn with refs = 2, one for the handle
 * (dropped by join or detach) and one for the run (dropped once the task
 * has left its stack); each live waker holds one more. The slot returns to
 * a free list when all are gone; slots are never unmapped before the
 * runtime is freed, so a late wake of a finished task is harmless (it finds
 * DONE or NEW, or a new task that treats it as spurious).
 *
 * Join: the handle admits one joiner at a time (JOINABLE -> JOINING), so a
 * task has at most one waiting for it, and `done` (a futex word) says
 * everything: RUNNING, FINISHED, THREAD_WAITS (a plain thread sleeps on
 * the word) or TASK_WAITS (sched.joiner is the joining task's waiter). The
 * finishing task exchanges it to FINISHED and wakes whoever it names; a
 * joining task registers with a CAS from RUNNING and, if cancelled, takes
 * its registration back with a CAS to RUNNING. Whoever wins that CAS owns
 * the wake-up, so it is neither lost nor given twice, with no lock.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "sanitize.h"
#include "scheduler.h"

static _Atomic uint64_t next_task_id = 1;

/* Readers stop at the NUL: the bytes after it need not be cleared. */
static inline void copy_name(char *dst, const char *src)
{
	size_t n = src ? strnlen(src, TANGLE_TASK_NAME_MAX - 1) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = 0;
}

static void task_finish(struct tangle_task *t, void *result)
	__attribute__((noreturn));
static struct tangle_task *spawn(struct tangle_worker *w, struct tangle_runtime *rt,
                                 const char *name, tangle_fn fn, void *arg,
                                 const tangle_site *site, bool main);

static void task_entry(void *data, void *arg)
{
	struct tangle_task *t = data;
#if TANGLE_ASAN
	__sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
	tangle__after_switch(arg);
	task_finish(t, t->sched.fn(t->sched.arg));
}

static void task_finish(struct tangle_task *t, void *result)
{
	struct tangle_worker *w = tangle__worker_self();
	t->sched.result = result;
	TANGLE_DBG({
		DBG_STORE(t->finished_at, w->clock);
		t->wait.kind = TANGLE_DEBUG_WAIT_NONE;
		atomic_store_explicit(&t->wait.state, TANGLE_DEBUG_WAITER_NONE,
		                      memory_order_relaxed);
	});
	uint32_t old = atomic_exchange_explicit(&t->sched.done, TANGLE__DONE_FINISHED,
	                                        memory_order_acq_rel);
	if (old == TANGLE__DONE_TASK_WAITS) {
		struct tangle_waiter *jw = t->sched.joiner;
		tangle__waiter_grant(jw, TANGLE_DEBUG_WAITER_WOKEN);
	} else if (old == TANGLE__DONE_THREAD_WAITS) {
		tangle__futex_wake(&t->sched.done, INT_MAX);
	}
	tangle__switch_out(w, t, TANGLE__ACT_EXIT);
	__builtin_unreachable();
}

void tangle__task_exited(struct tangle_worker *w, struct tangle_task *t)
{
	(void)w;
	/* CANCELLED for readers: it returned with a cancel requested */
	uint8_t flags = atomic_load_explicit(&t->flags, memory_order_relaxed);
	atomic_store_explicit(&t->sched.state,
	                      (flags & TANGLE_DEBUG_TASKF_CANCEL_REQUESTED)
	                              ? TANGLE__S_CANCELLED
	                              : TANGLE__S_DONE,
	                      memory_order_release);
#if TANGLE_TSAN
	__tsan_destroy_fiber(t->sched.tsan_fiber);
	t->sched.tsan_fiber = NULL;
#endif
#if TANGLE_ASAN
	/* Frames that never returned left poisoned redzones behind. */
	ASAN_UNPOISON_MEMORY_REGION(t->stack_lo,
	                            (char *)t->stack_hi - (char *)t->stack_lo);
#endif
	tangle__task_release(t);
}

void tangle__task_release(struct tangle_task *t)
{
	/* A count of 1 is ours alone (only holders add references), so the
	 * last release needs no read-modify-write. */
	if (atomic_load_explicit(&t->sched.refs, memory_order_acquire) == 1 ||
	    atomic_fetch_sub_explicit(&t->sched.refs, 1, memory_order_acq_rel) == 1)
		tangle__slot_free(t->rt, t);
}

struct tangle_task *tangle__spawn(struct tangle_runtime *rt, const char *name,
                                  tangle_fn fn, void *arg,
                                  const tangle_site *site, bool main)
{
	return spawn(tangle__worker_self(), rt, name, fn, arg, site, main);
}

static struct tangle_task *spawn(struct tangle_worker *w, struct tangle_runtime *rt,
                                 const char *name, tangle_fn fn, void *arg,
                                 const tangle_site *site, bool main)
{
	struct tangle_worker *local = w && w->rt == rt ? w : NULL;
	struct tangle_task *t = tangle__slot_alloc(rt, local);
	if (unlikely(!t)) {
		errno = ENOMEM;
		return NULL;
	}
	struct tangle_task *parent = w ? w->current : NULL;

	/* The debug record. Only what a reader of a live task would read
	 * stale is reset; rt and wait.task are fixed per slot. */
	t->id = atomic_fetch_add_explicit(&next_task_id, 1, memory_order_relaxed);
	__atomic_store_n(&t->generation, t->generation + 1, __ATOMIC_RELAXED);
	atomic_store_explicit(&t->flags, main ? TANGLE_DEBUG_TASKF_MAIN : 0,
	                      memory_order_relaxed);
	copy_name(t->name, name);
	t->parent_id = parent ? parent->id : 0;
	t->spawn_site = site;
	t->worker = -1;
	t->label_count = 0;
	t->span_depth = 0;
	t->hold_count = 0;
	t->spawned_at = w ? w->clock : tangle__clock_precise();
	t->last_ran_at = 0;
	t->run_ns = 0;
	t->resumes = 0;
	DBG_STORE(t->woken_at, 0);
	DBG_STORE(t->woken_by, 0);
	DBG_STORE(t->wakes, 0);
	atomic_store_explicit(&t->wakers, 0, memory_order_relaxed);
	t->hold_overflow = 0;
	t->wait.kind = TANGLE_DEBUG_WAIT_NONE;
	t->wait.op = TANGLE_DEBUG_OP_NONE;
	atomic_store_explicit(&t->wait.state, TANGLE_DEBUG_WAITER_NONE,
	                      memory_order_relaxed);
	t->finished_at = 0;

	/* The scheduler's part. */
	atomic_store_explicit(&t->sched.refs, 2, memory_order_relaxed);
	atomic_store_explicit(&t->sched.done, TANGLE__DONE_RUNNING, memory_order_relaxed);
	atomic_store_explicit(&t->sched.handle, TANGLE__H_JOINABLE,
	                      memory_order_relaxed);
	atomic_store_explicit(&t->sched.unpark, 0, memory_order_relaxed);
	t->sched.main = main;
	t->sched.fn = fn;
	t->sched.arg = arg;
	t->sched.asan_fake_stack = NULL;
#if TANGLE_TSAN
	t->sched.tsan_fiber = __tsan_create_fiber(0);
#endif
	/* Colour the stack top per slot: tasks switching back and forth
	 * then keep their saved frames at different page offsets, which
	 * avoids 4 KiB aliasing stalls between one's pushes and the
	 * other's pops. */
	uint32_t colour = (uint32_t)(((uintptr_t)t >> 6) * 0x9E3779B1u) >> 28;
	t->saved_sp = tangle__ctx_init((char *)t->stack_hi - colour * 272,
	                               task_entry, t);

	__atomic_fetch_add(&rt->tasks_spawned, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&rt->tasks_live, 1, __ATOMIC_RELAXED);
	atomic_store_explicit(&t->sched.state, TANGLE__S_QUEUED, memory_order_release);
	tangle__schedule(local, t);
	return t;
}

/* ---- Public task API --------------------------------------------------------- */

tangle_task *tangle_spawn_at(const char *name, tangle_fn fn, void *arg,
                             const tangle_site *site)
{
	struct tangle_worker *w = tangle__worker_self();
	struct tangle_task *self = w ? w->current : NULL;
	if (!self) {
		errno = EPERM;
		return NULL;
	}
	if (!fn) {
		errno = EINVAL;
		return NULL;
	}
	return spawn(w, self->rt, name, fn, arg, site, false);
}

tangle_task *tangle_spawn_on_at(tangle_runtime *rt, const char *name,
                                tangle_fn fn, void *arg, const tangle_site *site)
{
	if (!rt || !fn) {
		errno = EINVAL;
		return NULL;
	}
	return tangle__spawn(rt, name, fn, arg, site, false);
}

int tangle__join_thread(struct tangle_task *t, void **result)
{
	(void)result;
	uint32_t d = atomic_load(&t->sched.done);
	while (d != TANGLE__DONE_FINISHED) {
		if (d == TANGLE__DONE_RUNNING &&
		    !atomic_compare_exchange_strong(&t->sched.done, &d,
		                                    TANGLE__DONE_THREAD_WAITS))
			continue;
		tangle__futex_wait(&t->sched.done, TANGLE__DONE_THREAD_WAITS);
		d = atomic_load(&t->sched.done);
	}
	return TANGLE_OK;
}

static bool cancelled(const struct tangle_task *t)
{
	return atomic_load_explicit(&t->flags, memory_order_acquire) &
	       TANGLE_DEBUG_TASKF_CANCEL_REQUESTED;
}

static int join_task(struct tangle_task *self, struct tangle_task *t,
                     const tangle_site *site)
{
	if (cancelled(self))
		return TANGLE_ECANCELED;
	if (atomic_load_explicit(&t->sched.done, memory_order_acquire) ==
	    TANGLE__DONE_FINISHED)
		return TANGLE_OK;
	struct tangle_waiter *w = tangle__waiter_begin(
		TANGLE_DEBUG_WAIT_JOIN, TANGLE_DEBUG_OP_JOIN, t, 0, -1, site);
	t->sched.joiner = w;
	uint32_t d = TANGLE__DONE_RUNNING;
	if (!atomic_compare_exchange_strong_explicit(&t->sched.done, &d,
	                                             TANGLE__DONE_TASK_WAITS,
	                                             memory_order_acq_rel,
	                                             memory_order_acquire)) {
		/* Finished meanwhile. */
		atomic_store_explicit(&w->state, TANGLE_DEBUG_WAITER_WOKEN,
		                      memory_order_relaxed);
		return TANGLE_OK;
	}
	for (bool resumed = false;; resumed = true) {
		uint8_t s = atomic_load_explicit(&w->state, memory_order_acquire);
		if (s == TANGLE_DEBUG_WAITER_WAITING && resumed) {
			tangle__resumed_fence();
			s = atomic_load_explicit(&w->state, memory_order_acquire);
		}
		if (s != TANGLE_DEBUG_WAITER_WAITING)
			return TANGLE_OK; /* woken by t as it finished */
		d = TANGLE__DONE_TASK_WAITS;
		if (cancelled(self) &&
		    atomic_compare_exchange_strong_explicit(&t->sched.done, &d,
		                                            TANGLE__DONE_RUNNING,
		                                            memory_order_acq_rel,
		                                            memory_order_acquire)) {
			atomic_store_explicit(&w->state, TANGLE_DEBUG_WAITER_CANCELLED,
			                      memory_order_relaxed);
			return TANGLE_ECANCELED;
		}
		/* Not cancelled, or t finished first and is granting. */
		tangle__suspend();
	}
}

int tangle_join_at(tangle_task *t, void **result, const tangle_site *site)
{
	if (!t)
		return TANGLE_EINVAL;
	struct tangle_task *self = tangle__current();
	if (t == self)
		return TANGLE_EJOIN;
	uint8_t h = TANGLE__H_JOINABLE;
	if (!atomic_compare_exchange_strong(&t->sched.handle, &h, TANGLE__H_JOINING))
		return TANGLE_EJOIN;
	int err = self ? join_task(self, t, site) : tangle__join_thread(t, result);
	if (err) {
		atomic_store(&t->sched.handle, TANGLE__H_JOINABLE);
		return err;
	}
	if (result)
		*result = t->sched.result;
	atomic_store_explicit(&t->sched.handle, TANGLE__H_RELEASED, memory_order_release);
	tangle__task_release(t);
	return TANGLE_OK;
}

int tangle_detach(tangle_task *t)
{
	if (!t)
		return TANGLE_EINVAL;
	uint8_t h = TANGLE__H_JOINABLE;
	if (!atomic_compare_exchange_strong(&t->sched.handle, &h, TANGLE__H_DETACHED))
		return TANGLE_EJOIN;
	atomic_fetch_or(&t->flags, TANGLE_DEBUG_TASKF_DETACHED);
	tangle__task_release(t);
	return TANGLE_OK;
}

/* tangle_yield_at is in sched.c, with the switch it inlines. */

int tangle_sleep_ms_at(uint64_t ms, const tangle_site *site)
{
	int err = tangle__wait_check();
	if (err)
		return err;
	struct tangle_waiter *w = tangle__waiter_begin(
		TANGLE_DEBUG_WAIT_SLEEP, TANGLE_DEBUG_OP_SLEEP, NULL, 0,
		ms > INT64_MAX ? INT64_MAX : (int64_t)ms, site);
	uint8_t s = tangle__waiter_wait(w);
	return s == TANGLE_DEBUG_WAITER_CANCELLED ? TANGLE_ECANCELED : TANGLE_OK;
}

tangle_task *tangle_task_current(void)
{
	return tangle__current();
}

uint64_t tangle_task_id(const tangle_task *t)
{
	return t ? t->id : 0;
}

const char *tangle_task_name(const tangle_task *t)
{
	return t ? t->name : NULL;
}

int tangle_cancel(tangle_task *t)
{
	if (!t)
		return TANGLE_EINVAL;
	atomic_fetch_or(&t->flags, TANGLE_DEBUG_TASKF_CANCEL_REQUESTED);
	tangle__wake(t);
	return TANGLE_OK;
}

int tangle_task_cancelled(void)
{
	struct tangle_task *t = tangle__current();
	return t && cancelled(t);
}
