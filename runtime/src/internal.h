/*
 * internal.h — what the runtime's files share; nothing here is exported.
 *
 * Pieces and their files:
 *   context_*.S  stack switch (saves callee-saved registers only)
 *   stack.c      task slots (slabs) and mmap'd stacks with guard pages, pooled
 *   overflow.c   a task's stack overflow, reported by a SIGSEGV handler
 *   sched.c      switching, waking, the worker loop (scheduler.h)
 *   runq.c       local run queues (runq.h), stealing, the global queue
 *   idle.c       parking idle workers and waking them
 *   worker.c     worker threads, spinlocks, futexes
 *   driver.c     timer heap and epoll, polled by an idle worker
 *   task.c       spawn, join, detach, yield, sleep, cancel, labels, spans
 *   wait.c       the one waiter record and fair queue under every primitive
 *   waker.c      the public waker API
 *   blocking.c   the blocking-call pool
 *   debug.c      the debug table root, its layout and the object registry
 *   mutex.c rwlock.c sem.c chan.c select.c notify.c   the primitives
 *
 * Locking order: an object's lock may be taken while holding nothing, or
 * (select only) several object locks in address order. Scheduler locks are
 * leaves: never call into a primitive while holding one.
 */
#ifndef TANGLE_INTERNAL_H
#define TANGLE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tangle.h"
#include "tangle_debug.h"
#include "sanitize.h"

#define TANGLE_HIDDEN __attribute__((visibility("hidden")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* TANGLE_DEBUG_TABLE=0 compiles the table's bookkeeping out, only so that
 * its cost can be measured (bench/). The fields stay; they are not kept. */
#ifndef TANGLE_DEBUG_TABLE
#define TANGLE_DEBUG_TABLE 1
#endif
#if TANGLE_DEBUG_TABLE
#define TANGLE_DBG(stmt) do { stmt; } while (0)
#else
#define TANGLE_DBG(stmt) do { if (0) { stmt; } } while (0) /* still type-checked */
#endif

/* Relaxed access for fields that other threads (and readers) may read while
 * they change: the debug counters and timestamps. */
#define DBG_STORE(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#define DBG_LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)
/* A debug counter's increment, by the one thread that writes it. Under
 * TSan a relaxed load and store, so that in-process readers are not
 * reported; elsewhere a plain increment (one instruction on x86-64, where
 * the relaxed load-add-store takes three). A reader may see the old or the
 * new count, never a torn one (aligned 64-bit stores). */
#if TANGLE_TSAN
#define DBG_INC(field) DBG_STORE(field, DBG_LOAD(field) + 1)
#else
#define DBG_INC(field) ((void)((field) += 1))
#endif

/* ---- Spinlock: short critical sections only ----------------------------- */

typedef struct { atomic_uint locked; } tangle_spinlock;

TANGLE_HIDDEN void tangle__spin_lock_slow(tangle_spinlock *l);

static inline void tangle__spin_lock(tangle_spinlock *l)
{
	if (likely(!atomic_exchange_explicit(&l->locked, 1, memory_order_acquire)))
		return;
	tangle__spin_lock_slow(l);
}

static inline void tangle__spin_unlock(tangle_spinlock *l)
{
	atomic_store_explicit(&l->locked, 0, memory_order_release);
}

/* ---- Clock ---------------------------------------------------------------- */

/* Debug timestamps: CLOCK_MONOTONIC ns, cached per worker and refreshed
 * every few switches and whenever a worker parks or wakes, so a stamp costs
 * a load, not a clock read. Coarse: a few ms. */
TANGLE_HIDDEN uint64_t tangle__clock(void);
/* Exact CLOCK_MONOTONIC ns, for deadlines and timers. */
TANGLE_HIDDEN uint64_t tangle__clock_precise(void);

/* ---- Waiters and the fair queue ------------------------------------------ */

struct tangle_task;
struct tangle_waitq;
struct tangle_select_group;

/* One wait of one task (TANGLE_DR_WAITER). The task's own record has one
 * inline; tangle_select puts one per channel on the task's stack.
 * `state` is written by a granter under the queue's lock and read by the
 * waiting task after it wakes. */
struct tangle_waiter {
	struct tangle_waiter *next;      /* queue links, FIFO */
	struct tangle_waiter *prev;
	struct tangle_task *task;        /* who waits */
	_Atomic uint8_t state;           /* TANGLE_DEBUG_WAITER_* */
	uint8_t kind;                    /* TANGLE_DEBUG_WAIT_* */
	uint8_t op;                      /* TANGLE_DEBUG_OP_* */
	uint8_t was_queued;              /* pushed on a queue during this wait
	                                    (set by tangle__waitq_push) */
	uint32_t count;                  /* permits asked; fd for I/O */
	void *object;                    /* what it waits on */
	uint64_t since;                  /* when the wait began */
	uint64_t deadline;               /* precise clock; 0 = none */
	uint64_t granted_at;             /* when it was handed the object */
	const tangle_site *site;         /* the waiting call */
	const char *what;                /* tangle_park description */
	struct tangle_select_group *select; /* shared by one select's waiters */
	struct tangle_waitq *queue;      /* queue it sits in, NULL when out */
	/* Not in the debug layout: */
	void *value;                     /* channel: value to send / recv slot */
	int result;                      /* primitive-specific outcome */
};

/* The waiters of one tangle_select share this: the first grant claims it
 * (winner), later grants of the others fail. select.c may add fields. */
struct tangle_select_group {
	_Atomic(struct tangle_waiter *) winner;
	struct tangle_waiter *arms;      /* the n waiters, on the task's stack */
	uint32_t narms;
};

/* A FIFO of waiters guarded by its owner's lock. after_abort, if set, is
 * called under that lock when a waiter leaves by timeout or cancellation,
 * so the owner can grant waiters that could not be served before (a
 * semaphore's smaller requests behind a big one; readers behind a writer). */
struct tangle_waitq {
	struct tangle_waiter *head;      /* TANGLE_DF_OBJECT_WAITERS */
	struct tangle_waiter *tail;
	tangle_spinlock *lock;
	void (*after_abort)(struct tangle_waitq *q);
};

TANGLE_HIDDEN void tangle__waitq_init(struct tangle_waitq *q, tangle_spinlock *lock,
                                      void (*after_abort)(struct tangle_waitq *));
/* Queue operations; the caller holds q->lock. */
TANGLE_HIDDEN void tangle__waitq_push(struct tangle_waitq *q, struct tangle_waiter *w);
TANGLE_HIDDEN void tangle__waitq_remove(struct tangle_waitq *q, struct tangle_waiter *w);

/* The precise-clock deadline for timeout_ms from now; 0 (none) if < 0. */
TANGLE_HIDDEN uint64_t tangle__deadline(int64_t timeout_ms);

/* (tangle__waiter_begin, for the task's inline waiter, is in scheduler.h.)
 * Fill in a waiter that is not the task's inline one (select). */
TANGLE_HIDDEN void tangle__waiter_init(struct tangle_waiter *w, uint8_t kind,
                                       uint8_t op, void *object, uint32_t count,
                                       uint64_t deadline, const tangle_site *site);

/* Grant w (the caller holds its queue's lock and has removed it): set state
 * (GRANTED, CLOSED or WOKEN) and granted_at, then wake its task. For a
 * select waiter this first claims the select; false means another of the
 * select's waiters won already, and w must simply be dropped. */
TANGLE_HIDDEN bool tangle__waiter_grant(struct tangle_waiter *w, uint8_t state);

/* Suspend the current task until w leaves WAITING. The caller queued w and
 * released the lock. Timeouts and cancellation are handled here, by the
 * waiting task itself: it takes the lock, and if w is still WAITING
 * removes it (calling after_abort) and sets TIMEDOUT or CANCELLED.
 * Returns w's final state. */
TANGLE_HIDDEN uint8_t tangle__waiter_wait(struct tangle_waiter *w);

/* After a GRANTED wait on a lock or permits: true when the task must pass
 * the grant on instead of keeping it (it was cancelled, or the grant came
 * after its deadline), with *err the code to return. */
TANGLE_HIDDEN bool tangle__waiter_must_pass_on(const struct tangle_waiter *w, int *err);

/* Entry check of every waiting call: TANGLE_ENOTASK outside a task,
 * TANGLE_ECANCELED if the task was cancelled, else TANGLE_OK. */
TANGLE_HIDDEN int tangle__wait_check(void);

/* ---- Tasks -------------------------------------------------------------- */

#define TANGLE_TASK_NAME_MAX 32
#define TANGLE_LABEL_KEY_MAX 16
#define TANGLE_LABEL_VALUE_MAX 32
#define TANGLE_HOLDS_MAX 4

struct tangle_label {                /* TANGLE_DR_LABEL */
	char key[TANGLE_LABEL_KEY_MAX];
	char value[TANGLE_LABEL_VALUE_MAX];
};

struct tangle_span {                 /* TANGLE_DR_SPAN */
	const char *name;
	const tangle_site *site;
	uint64_t entered_at;
};

struct tangle_hold {                 /* TANGLE_DR_HOLD */
	void *object;
	uint8_t mode;                    /* TANGLE_DEBUG_HOLD_* */
	uint32_t count;
	uint64_t since;
	const tangle_site *site;
};

struct tangle_runtime;
struct tangle_worker;

#include "task_sched.h" /* struct tangle_task_sched, owned by sched.c/task.c */

/* A task (TANGLE_DR_TASK). Records live in slabs and are reused; the
 * fields down to `finished_at` are the debug record, written only by the
 * task itself or (wake fields, relaxed) by whoever wakes it. */
struct tangle_task {
	uint64_t id;
	uint32_t generation;
	_Atomic uint8_t flags;           /* TANGLE_DEBUG_TASKF_* */
	char name[TANGLE_TASK_NAME_MAX];
	uint64_t parent_id;
	const tangle_site *spawn_site;
	struct tangle_runtime *rt;
	int32_t worker;                  /* index it last ran on */
	uint8_t label_count;
	uint8_t span_depth;
	uint8_t hold_count;
	struct tangle_label labels[TANGLE_LABELS_MAX];
	struct tangle_span spans[TANGLE_SPANS_MAX];
	uint64_t spawned_at;
	uint64_t last_ran_at;
	uint64_t run_ns;
	uint64_t resumes;
	uint64_t woken_at;
	uint64_t woken_by;
	uint64_t wakes;
	_Atomic uint32_t wakers;         /* user wakers, pool jobs (WAKERS) */
	uint32_t hold_overflow;
	struct tangle_waiter wait;
	struct tangle_hold holds[TANGLE_HOLDS_MAX];
	void *saved_sp;
	void *stack_lo;
	void *stack_hi;
	uint64_t finished_at;

	/* Not in the debug layout: the scheduler's part (task_sched.h). */
	struct tangle_task_sched sched;
};

/* The running task, or NULL outside a task. */
TANGLE_HIDDEN struct tangle_task *tangle__current(void);

/* Make t runnable if it is suspended (else its next suspension returns at
 * once). Any thread. Records woken_at/woken_by/wakes. */
TANGLE_HIDDEN void tangle__wake(struct tangle_task *t);

/* Suspend the current task until tangle__wake(). Wake-ups may be spurious.
 * The caller has set t->wait (state and kind) and released its locks. */
TANGLE_HIDDEN void tangle__suspend(void);

/* After tangle__suspend() returns into a wait that has not ended: call this
 * before reading again what would end it (and then maybe suspending
 * again). A resumed task's RUNNING can still sit in its store buffer when
 * it reads that; a waker that stored the end of the wait and then read the
 * task's state QUEUED or NOTIFIED leaves the wake to that read. Without a
 * fence on both sides (the waker's is in tangle__wake) both reads can miss
 * the other's store (the store-buffer pattern) and the wake is lost. A
 * wait's first read needs none: the waker finds it through the lock it
 * queued under. Only on this path: a wait that ended reads so first. */
static inline void tangle__resumed_fence(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}

/* Register / remove the current task's deadline with the timer driver; the
 * timer wakes the task (it counts as a live waker while set). */
TANGLE_HIDDEN void tangle__timer_arm(struct tangle_task *t, uint64_t deadline);
TANGLE_HIDDEN void tangle__timer_disarm(struct tangle_task *t);

/* Holdings of the current task (the task writes its own record). PERMITS
 * holds of one object merge into one entry (count added, since and site of
 * the first); others are pushed. Removing takes the latest matching entry
 * (PERMITS: subtracts, dropping it at zero). */
TANGLE_HIDDEN void tangle__hold_add(void *object, uint8_t mode, uint32_t count,
                                    const tangle_site *site);
TANGLE_HIDDEN void tangle__hold_remove(void *object, uint8_t mode, uint32_t count);
/* The same for a caller that has the task and a timestamp. */
TANGLE_HIDDEN void tangle__hold_add_to(struct tangle_task *t, void *object,
                                       uint8_t mode, uint32_t count,
                                       uint64_t since, const tangle_site *site);
TANGLE_HIDDEN void tangle__hold_remove_from(struct tangle_task *t, void *object,
                                            uint8_t mode, uint32_t count);

/* Hot paths (mutex, semaphore): inline when the entry is the latest one
 * (or the first), out of line otherwise. No lookups. */
static inline void tangle__hold_put(struct tangle_task *t, unsigned n,
                                    void *object, uint8_t mode, uint32_t count,
                                    uint64_t since, const tangle_site *site)
{
	/* Each field only if it differs: a task that takes the same lock
	 * from the same place again finds its entry as it left it, and
	 * loads that agree cost the next lock's locked instruction less
	 * than stores it must wait to drain (sem: 19.6 -> 18 ns). */
	struct tangle_hold *h = &t->holds[n];
#define TANGLE__SET(f, v) do { if (h->f != (v)) h->f = (v); } while (0)
	TANGLE__SET(object, object);
	TANGLE__SET(mode, mode);
	TANGLE__SET(count, count);
	TANGLE__SET(since, since);
	TANGLE__SET(site, site);
#undef TANGLE__SET
	/* after the entry: a reader never counts an unwritten one */
	DBG_STORE(t->hold_count, (uint8_t)(n + 1));
}

/* A lock hold (EXCLUSIVE or SHARED, count 1) pushed. */
static inline void tangle__hold_push(struct tangle_task *t, void *object,
                                     uint8_t mode, uint64_t since,
                                     const tangle_site *site)
{
	(void)t; (void)object; (void)mode; (void)since; (void)site;
#if TANGLE_DEBUG_TABLE
	unsigned n = t->hold_count;
	if (unlikely(n >= TANGLE_HOLDS_MAX)) {
		DBG_INC(t->hold_overflow);
		return;
	}
	tangle__hold_put(t, n, object, mode, 1, since, site);
#endif
}

/* The latest lock hold of that object and mode popped; for objects held
 * in one mode only (the mutex): the latest entry is checked by object. */
static inline void tangle__hold_pop(struct tangle_task *t, void *object,
                                    uint8_t mode)
{
	(void)t; (void)object; (void)mode;
#if TANGLE_DEBUG_TABLE
	unsigned n = t->hold_count;
	if (likely(n == 1 && t->holds[0].object == object)) {
		DBG_STORE(t->hold_count, 0); /* at a fixed address: see below */
		return;
	}
	if (n > 1 && t->holds[n - 1].object == object) {
		DBG_STORE(t->hold_count, (uint8_t)(n - 1));
		return;
	}
	tangle__hold_remove_from(t, object, mode, 1);
#endif
}

/* count permits of object added. */
static inline void tangle__hold_permits_add(struct tangle_task *t, void *object,
                                            uint32_t count, uint64_t since,
                                            const tangle_site *site)
{
	(void)t; (void)object; (void)count; (void)since; (void)site;
#if TANGLE_DEBUG_TABLE
	if (likely(t->hold_count == 0)) {
		tangle__hold_put(t, 0, object, TANGLE_DEBUG_HOLD_PERMITS, count,
		                 since, site);
		return;
	}
	tangle__hold_add_to(t, object, TANGLE_DEBUG_HOLD_PERMITS, count, since,
	                    site);
#endif
}

/* count permits of object removed. */
static inline void tangle__hold_permits_remove(struct tangle_task *t,
                                               void *object, uint32_t count)
{
	(void)t; (void)object; (void)count;
#if TANGLE_DEBUG_TABLE
	/* (an object held as PERMITS is held in no other mode) The lone
	 * hold is checked at a fixed address: an entry found through
	 * hold_count is a chain of dependent loads that the next lock's
	 * locked instruction waits for (+3 ns per acquire+release here). */
	unsigned n = t->hold_count;
	if (likely(n == 1 && t->holds[0].object == object &&
	           t->holds[0].count == count)) {
		DBG_STORE(t->hold_count, 0);
		return;
	}
	if (n > 1 && t->holds[n - 1].object == object &&
	    t->holds[n - 1].count == count) {
		DBG_STORE(t->hold_count, (uint8_t)(n - 1));
		return;
	}
	tangle__hold_remove_from(t, object, TANGLE_DEBUG_HOLD_PERMITS, count);
#endif
}

/* ---- Lock-like objects --------------------------------------------------- */

/* The record at the start of every mutex, rwlock, semaphore, channel and
 * notify (TANGLE_DR_OBJECT), plus the lock that guards the object. */
struct tangle_object {
	/* Set once, or seldom written. */
	struct tangle_object *next;      /* registry links */
	struct tangle_object *prev;
	uint8_t kind;                    /* TANGLE_DEBUG_OBJ_* */
	_Atomic uint8_t flags;           /* TANGLE_DEBUG_OBJF_* */
	const char *name;
	const tangle_site *created_at;
	int64_t capacity;
	uint64_t elem_size;
	uint64_t contentions;
	uint64_t handed_to;
	uint64_t handed_at;
	struct tangle_waitq waiters;     /* channel: senders */
	struct tangle_waitq waiters2;    /* channel: receivers */
	int64_t value;
	uint64_t last_sender;
	uint64_t last_receiver;
	/* Written on every acquisition, last: next to the lock and to the
	 * primitive's own state that follows the record (a mutex's word), so
	 * that an object passed between cores moves as few cache lines as
	 * it can. */
	uint64_t owner_id;               /* debug: the owner's task id */
	uint64_t owner_since;
	const tangle_site *held_site;    /* mutex: the owner's lock call */
	uint64_t acquisitions;
	uint64_t longest_hold;
	tangle_spinlock lock;            /* guards everything above */
};

/* Fill in the record and add it to the registry; remove it. */
TANGLE_HIDDEN void tangle__object_register(struct tangle_object *o, uint8_t kind,
                                           const char *name, const tangle_site *site);
TANGLE_HIDDEN void tangle__object_unregister(struct tangle_object *o);

/* Bookkeeping on the owner of an exclusive object (mutex, rwlock writer),
 * under the object's lock: acquired by t / released (updates longest_hold). */
TANGLE_HIDDEN void tangle__object_owned(struct tangle_object *o, struct tangle_task *t);
TANGLE_HIDDEN void tangle__object_released(struct tangle_object *o);

#endif /* TANGLE_INTERNAL_H */
