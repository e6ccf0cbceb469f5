/*
 * task_sched.h — the scheduler's part of a task record (not in the debug
 * layout). Included by internal.h inside struct tangle_task.
 *
 * `state` is the one word that decides who may resume a task:
 *   NEW       slot being set up or free: wakes are ignored
 *   QUEUED    in a run queue (or about to be): exactly one worker owns it
 *   RUNNING   on a worker
 *   NOTIFIED  running, and woken meanwhile: its next suspension requeues it
 *   PARKED    suspended, off its stack: the next wake queues it
 *   DONE      finished (CANCELLED: with a cancel requested): wakes are
 *             ignored
 * Only the worker that switched away from a task moves it RUNNING -> PARKED
 * (after leaving its stack), so a task is never resumed on two workers and a
 * wake is never lost.
 *
 * It is also the debug record's TASK.STATE (since ABI 3.0): the values are
 * TANGLE_DEBUG_TASK_*, so that keeping the task's state for readers costs
 * no store of its own.
 */
#ifndef TANGLE_TASK_SCHED_H
#define TANGLE_TASK_SCHED_H

enum {
	TANGLE__S_NEW = TANGLE_DEBUG_TASK_FREE,
	TANGLE__S_QUEUED = TANGLE_DEBUG_TASK_RUNNABLE,
	TANGLE__S_RUNNING = TANGLE_DEBUG_TASK_RUNNING,
	TANGLE__S_PARKED = TANGLE_DEBUG_TASK_WAITING,
	TANGLE__S_DONE = TANGLE_DEBUG_TASK_DONE,
	TANGLE__S_CANCELLED = TANGLE_DEBUG_TASK_CANCELLED,
	TANGLE__S_NOTIFIED = TANGLE_DEBUG_TASK_NOTIFIED,
};

static inline int tangle__sched_finished(uint32_t state)
{
	return state == TANGLE__S_DONE || state == TANGLE__S_CANCELLED;
}

/* sched.done: how far the task is, and who waits for it (task.c). */
enum {
	TANGLE__DONE_RUNNING = 0,
	TANGLE__DONE_FINISHED = 1,
	TANGLE__DONE_THREAD_WAITS = 2,   /* a plain thread sleeps on the word */
	TANGLE__DONE_TASK_WAITS = 3,     /* sched.joiner waits */
};

/* What the handle of a task allows (tangle_join / tangle_detach). */
enum {
	TANGLE__H_JOINABLE = 0,
	TANGLE__H_JOINING = 1,
	TANGLE__H_DETACHED = 2,
	TANGLE__H_RELEASED = 3,  /* joined, or the slot is free */
};

struct tangle_task_sched {
	_Atomic uint32_t state;          /* TANGLE__S_* (TASK.STATE) */
	_Atomic uint32_t refs;           /* 2 at spawn: the handle and the run */
	_Atomic uint32_t done;           /* TANGLE__DONE_*, a futex word */
	_Atomic uint8_t handle;          /* TANGLE__H_* */
	_Atomic uint8_t unpark;          /* a waker's wake not yet consumed */
	uint8_t main;                    /* the tangle_runtime_run() task */
	struct tangle_task *next;        /* global queue / free list link */
	tangle_fn fn;
	void *arg;
	void *result;
	struct tangle_waiter *joiner;    /* the joining task's, with TASK_WAITS */
	/* timer (driver.c), under the runtime's timer lock */
	uint64_t timer_deadline;
	int32_t timer_index;             /* in the heap, -1 when not armed */
	/* stack (stack.c): the mapping, guard page included */
	void *stack_map;
	size_t stack_map_size;
	/* sanitizers' fiber state */
	void *asan_fake_stack;
	void *tsan_fiber;
};

#endif /* TANGLE_TASK_SCHED_H */
