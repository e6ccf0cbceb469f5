/*
 * scheduler.h — workers, run queues and the runtime object (sched.c, runq.c,
 * idle.c, worker.c, driver.c, task.c, runtime.c, blocking.c share it).
 *
 * Switching: a task suspends by switching straight to the next runnable
 * task (or to its worker's own scheduler context when there is none). The
 * context that resumes runs tangle__after_switch(), which finishes what the
 * task that left asked for (requeue it, park it, or free it) now that its
 * stack is no longer in use. tangle__ctx_switch() returns the worker of the
 * context that resumed us, so code after a switch never trusts a worker
 * pointer from before it (a task may move between workers).
 */
#ifndef TANGLE_SCHEDULER_H
#define TANGLE_SCHEDULER_H

#include <pthread.h>

#include "internal.h"

#define TANGLE__RUNQ_CAP 256u          /* per worker, power of two */
#define TANGLE__TICK_MAINTENANCE 61u   /* global queue, timers, clock */
#define TANGLE__RUNTIME_NAME_MAX 32
#define TANGLE__SPIN_NS 20000u         /* an idle worker spins this long */
#define TANGLE__SPIN_POLL_NS 1000u     /* between its looks at the queues */
#define TANGLE__SPIN_LONE_NS 3000u     /* before it steals a lone task */
#define TANGLE__WATCH_NS 1000000u      /* the poller's look while others run */

static inline void tangle__cpu_relax(void)
{
#if defined(__x86_64__)
	__asm__ volatile("pause");
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/* A worker's local queue: the owner pushes at the tail and pops at the
 * head; thieves take half from the head. head packs (steal << 32 | real):
 * steal != real while a thief copies slots [steal, real). */
struct tangle_runq {
	_Atomic uint64_t head;
	_Atomic uint32_t tail;
	_Atomic(struct tangle_task *) buf[TANGLE__RUNQ_CAP];
};

/* One worker thread (TANGLE_DR_WORKER); the first fields are its record. */
struct tangle_worker {
	uint32_t index;
	uint32_t tid;
	_Atomic uint8_t state;           /* TANGLE_DEBUG_WORKER_* */
	struct tangle_task *current;     /* running task (owner writes) */
	uint64_t switches;
	uint64_t idle_since;

	struct tangle_runtime *rt;
	void *sched_sp;                  /* the scheduler context, when away */
	struct tangle_task *prev;        /* left, awaiting tangle__after_switch */
	int prev_action;                 /* TANGLE__ACT_* */
	uint64_t clock;                  /* cached CLOCK_MONOTONIC (clock.c) */
	uint32_t tick;
	uint32_t rand;
	bool searching;                  /* woken to look for work */
	bool ran;                        /* ran a task since it last parked */
	bool in_loop;                    /* its scheduler loop is running */
	bool solo;                       /* the runtime's only worker */
	_Atomic uint32_t sleeping;       /* futex word while parked */
	struct tangle_worker *idle_next; /* sleepers list, under idle_lock */
	pthread_t thread;
	void *altstack;
	void *asan_fake_stack;           /* sanitizer state of the sched ctx */
	const void *sched_stack_lo;
	size_t sched_stack_size;
	void *tsan_fiber;
	struct tangle_waker *waker_cache; /* free wakers (waker.c), owner only */
	uint32_t waker_cached;
	uint32_t slot_cached;
	struct tangle_task *slot_cache;  /* free task slots (stack.c), owner only */
	_Alignas(64) struct tangle_runq q;
};

/* Stacks kept for reuse with free task slots, beyond which they are
 * unmapped. */
#define TANGLE__STACKS_POOLED 1024

/* A block of task records (TANGLE_DR_SLAB): header then records, so that a
 * reader fetches it in one read. */
struct tangle_slab {
	struct tangle_slab *next;
	uint32_t capacity;
	uint32_t stride;
	struct tangle_task *tasks;
	size_t map_size;
};

/* The blocking-call pool (blocking.c). */
struct tangle_blocking_job;
struct tangle_blocking_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;             /* jobs queued, or stopping */
	pthread_cond_t exited;           /* a pool thread left */
	struct tangle_blocking_job *head, *tail;
	unsigned threads, idle, max;     /* (queued jobs: rt->blocking_queued) */
	bool stopping;
};

struct tangle_runtime {
	/* The debug record (TANGLE_DR_RUNTIME). */
	struct tangle_runtime *next;
	uint64_t id;
	char name[TANGLE__RUNTIME_NAME_MAX];
	uint8_t flavor;                  /* TANGLE_DEBUG_FLAVOR_* */
	struct tangle_worker *workers;
	uint32_t worker_count;
	uint32_t worker_stride;
	struct tangle_slab *slabs;
	uint32_t slab_count;
	uint64_t tasks_live;
	uint64_t tasks_spawned;
	uint64_t created_at;
	uint64_t stack_size;             /* usable bytes per task stack */
	uint64_t global_len;             /* atomic (__atomic builtins) */
	uint32_t blocking_busy;
	uint32_t blocking_queued;

	/* Scheduler. */
	struct tangle_runtime *prev;     /* runtimes list (debug.c) */
	_Atomic bool stopping;
	bool current_thread;
	_Atomic bool running;            /* current_thread: inside run() */
	tangle_spinlock global_lock;
	struct tangle_task *global_head, *global_tail;

	/* Idle workers: sleepers on their futex and at most one poller. */
	tangle_spinlock idle_lock;
	struct tangle_worker *sleepers;
	struct tangle_worker *poller;
	bool poller_poked;
	_Atomic bool driver_busy;        /* a worker polls the driver */
	_Atomic uint32_t n_idle;
	_Atomic uint32_t n_searching;
	_Atomic uint32_t n_spinning;     /* idle.c: workers spinning for work */

	/* Task slots and stacks. */
	tangle_spinlock alloc_lock;
	struct tangle_task *free_head, *free_tail;
	uint32_t free_stacks;            /* free slots that keep a stack */
	uint32_t next_slab_capacity;
	size_t page_size;

	/* Driver (driver.c): timers and epoll. */
	tangle_spinlock timer_lock;
	struct tangle_task **heap;
	uint32_t heap_len, heap_cap;
	_Atomic uint64_t next_deadline;  /* heap top, 0 = none */
	int epfd;
	int evfd;
	_Atomic uint32_t io_waiters;     /* tasks in tangle_io_wait */
	struct tangle_io_chunk *_Atomic *_Atomic io_table; /* io.c: per-fd */

	struct tangle_blocking_pool pool;

	/* Waker records (waker.c): the shared free list and every block. */
	tangle_spinlock waker_lock;
	struct tangle_waker *waker_free;
	struct tangle_waker_block *waker_blocks;
};

enum { TANGLE__ACT_YIELD = 1, TANGLE__ACT_SUSPEND = 2, TANGLE__ACT_EXIT = 3 };

/* The worker of the calling thread, or NULL (never cached across a
 * switch: read it again, or use what the switch returned).
 * x86-64 reads thread-locals through %fs on every access (initial-exec:
 * a %fs-relative load; the thread pointer is never copied to a register
 * the compiler could keep across the switch call), so the read can be
 * inlined; elsewhere (aarch64 keeps tpidr_el0 in a register, which GCC
 * may reuse across calls) it is a call that is not inlined. */
extern __thread struct tangle_worker *tangle__tls_worker
	__attribute__((tls_model("initial-exec"), visibility("hidden")));
#if defined(__x86_64__)
#define TANGLE__WORKER_SELF_INLINE 1
static inline struct tangle_worker *tangle__worker_self(void)
{
	__asm__ volatile("" ::: "memory");
	return tangle__tls_worker;
}
#else
#define TANGLE__WORKER_SELF_INLINE 0
TANGLE_HIDDEN struct tangle_worker *tangle__worker_self(void);
#endif
TANGLE_HIDDEN void tangle__worker_set(struct tangle_worker *w);

/* tangle__clock() inline, for the primitives' hot paths: the calling
 * worker's cached clock (a clock read outside workers). */
static inline uint64_t tangle__stamp(void)
{
	struct tangle_worker *w = tangle__worker_self();
	return likely(w) ? w->clock : tangle__clock_precise();
}

/* What every wait sets in its waiter (tangle__waiter_begin and, for a
 * select's arms, tangle__waiter_init), `now` the wait's start; the site of
 * the waiting call is stored by the caller. */
static inline void tangle__waiter_start(struct tangle_waiter *w, uint8_t kind,
                                        uint8_t op, void *object,
                                        uint32_t count, uint64_t deadline,
                                        uint64_t now)
{
	w->next = w->prev = NULL;
	atomic_store_explicit(&w->state, TANGLE_DEBUG_WAITER_WAITING,
	                      memory_order_relaxed);
	w->kind = kind;
	w->op = op;
	w->was_queued = 0;
	w->count = count;
	w->deadline = deadline;
	w->granted_at = 0;
	w->select = NULL;
	TANGLE_DBG({ /* for readers only */
		w->object = object;
		w->since = now;
	});
	(void)object, (void)now;
}

/* Fill in the current task's inline waiter for a wait (state WAITING,
 * since = now, deadline from timeout_ms < 0 = none) and return it, all but
 * its SITE: for a caller that stored that already (chan.c, at its entry,
 * so that no register keeps it across the calls in between). Inline:
 * every blocking wait starts here, and the caller has the values at hand. */
static inline struct tangle_waiter *
tangle__waiter_begin_unsited(uint8_t kind, uint8_t op, void *object,
                             uint32_t count, int64_t timeout_ms)
{
	uint64_t deadline = timeout_ms < 0 ? 0 : tangle__deadline(timeout_ms);
	struct tangle_worker *wk = tangle__worker_self();
	/* The inline waiter: task is fixed per slot, queue is NULL whenever
	 * it is out of a queue, value and result are set by their users. */
	struct tangle_waiter *w = &wk->current->wait;
	tangle__waiter_start(w, kind, op, object, count, deadline, wk->clock);
	return w;
}

/* The same with the site of the waiting call. */
static inline struct tangle_waiter *
tangle__waiter_begin(uint8_t kind, uint8_t op, void *object, uint32_t count,
                     int64_t timeout_ms, const tangle_site *site)
{
	struct tangle_waiter *w =
		tangle__waiter_begin_unsited(kind, op, object, count, timeout_ms);
	TANGLE_DBG(w->site = site);
	(void)site;
	return w;
}

/* context_<arch>.S */
TANGLE_HIDDEN void *tangle__ctx_switch(void **save_sp, void *to_sp, void *arg);
extern char tangle__ctx_resume[];
extern char tangle__ctx_entry[];
/* Prepare a fresh stack: switching to the result calls entry(data, arg). */
TANGLE_HIDDEN void *tangle__ctx_init(void *stack_hi, void (*entry)(void *, void *),
                                     void *data);

/* sched.c */
TANGLE_HIDDEN void tangle__after_switch(struct tangle_worker *w);
/* Switch the current task t away (YIELD, SUSPEND or EXIT); returns the
 * worker that resumed it (never, for EXIT). */
TANGLE_HIDDEN struct tangle_worker *tangle__switch_out(struct tangle_worker *w,
                                                       struct tangle_task *t,
                                                       int action);
/* Queue a task that just became runnable (state already QUEUED); w is the
 * calling thread's worker (tangle__worker_self()), or NULL. */
TANGLE_HIDDEN void tangle__schedule(struct tangle_worker *w, struct tangle_task *t);
/* The scheduler loop of a worker: runs until the runtime stops or, for
 * current_thread, until *until becomes nonzero. */
TANGLE_HIDDEN void tangle__worker_loop(struct tangle_worker *w, _Atomic uint32_t *until);

/* worker.c */
TANGLE_HIDDEN void tangle__worker_enter(struct tangle_worker *w);
TANGLE_HIDDEN void tangle__worker_leave(struct tangle_worker *w);
TANGLE_HIDDEN int tangle__workers_start(struct tangle_runtime *rt);
TANGLE_HIDDEN void tangle__workers_stop(struct tangle_runtime *rt);

/* idle.c */
/* Wake an idle worker if one may be needed, after queuing work on the
 * global queue (a full fence orders the queuing before the check). */
TANGLE_HIDDEN void tangle__notify(struct tangle_runtime *rt);
/* The same after queuing work on the calling worker's own local queue:
 * no fence (a missed wake only delays a steal; the owner runs it). */
TANGLE_HIDDEN void tangle__notify_local(struct tangle_runtime *rt);
/* w found work after it was woken to search: stop counting it. */
TANGLE_HIDDEN void tangle__end_search(struct tangle_worker *w);
/* w found no work: spin a little, looking for some (multi-worker
 * runtimes). True if there may be work now. */
TANGLE_HIDDEN bool tangle__spin(struct tangle_worker *w, _Atomic uint32_t *until);
/* Park w until there may be work (polling the driver if nobody does). */
TANGLE_HIDDEN void tangle__park(struct tangle_worker *w, _Atomic uint32_t *until);

static inline bool tangle__must_stop(struct tangle_runtime *rt,
                                     _Atomic uint32_t *until)
{
	if (until && atomic_load_explicit(until, memory_order_acquire) == 1)
		return true;
	return atomic_load_explicit(&rt->stopping, memory_order_acquire);
}

/* driver.c */
TANGLE_HIDDEN int tangle__driver_init(struct tangle_runtime *rt);
TANGLE_HIDDEN void tangle__driver_free(struct tangle_runtime *rt);
/* Fire due timers and, when block is set, wait for I/O or the next timer
 * (the caller is the one poller). Returns after at least one pass. */
TANGLE_HIDDEN void tangle__driver_poll(struct tangle_runtime *rt, bool block);
/* Make a blocked poller return. */
TANGLE_HIDDEN void tangle__driver_poke(struct tangle_runtime *rt);

/* io.c */
struct tangle_io_reg;
struct tangle_io_chunk;
/* The driver got events for a registration (its data pointer). */
TANGLE_HIDDEN void tangle__io_ready(struct tangle_runtime *rt,
                                    struct tangle_io_reg *r, uint32_t events);
TANGLE_HIDDEN void tangle__io_free(struct tangle_runtime *rt);

/* task.c */
TANGLE_HIDDEN struct tangle_task *tangle__spawn(struct tangle_runtime *rt,
                                                const char *name, tangle_fn fn,
                                                void *arg, const tangle_site *site,
                                                bool main);
TANGLE_HIDDEN void tangle__task_exited(struct tangle_worker *w, struct tangle_task *t);
TANGLE_HIDDEN int tangle__join_thread(struct tangle_task *t, void **result);
TANGLE_HIDDEN void tangle__task_release(struct tangle_task *t);

/* stack.c: task slots (slabs) and their stacks. */
/* A slot with its stack; w is the calling worker when it is one of rt's
 * (its cache is used), else NULL. */
TANGLE_HIDDEN struct tangle_task *tangle__slot_alloc(struct tangle_runtime *rt,
                                                     struct tangle_worker *w);
TANGLE_HIDDEN void tangle__slot_free(struct tangle_runtime *rt, struct tangle_task *t);
TANGLE_HIDDEN void tangle__slabs_free(struct tangle_runtime *rt);

/* overflow.c */
TANGLE_HIDDEN void tangle__signals_init(void);
TANGLE_HIDDEN void *tangle__altstack_enter(void);
TANGLE_HIDDEN void tangle__altstack_leave(void *stack);

/* waker.c */
TANGLE_HIDDEN void tangle__wakers_free(struct tangle_runtime *rt);

/* blocking.c */
TANGLE_HIDDEN void tangle__blocking_init(struct tangle_runtime *rt, unsigned max);
TANGLE_HIDDEN void tangle__blocking_free(struct tangle_runtime *rt);

/* clock.c */
TANGLE_HIDDEN void tangle__clock_refresh(struct tangle_worker *w);
TANGLE_HIDDEN void tangle__clock_sync(void);     /* debug.c: the root pair */
TANGLE_HIDDEN uint64_t tangle__clock_real(void); /* CLOCK_REALTIME ns */

/* wait.c: tangle_runtime_free, workers stopped, slabs still mapped: every
 * wait of rt's abandoned tasks (inline, and a select's arms) leaves its
 * queue; then each queue's after_abort serves the waiters left. */
TANGLE_HIDDEN void tangle__waits_abandon(struct tangle_runtime *rt);

/* debug.c */
TANGLE_HIDDEN void tangle__runtime_register(struct tangle_runtime *rt);
TANGLE_HIDDEN void tangle__runtime_unregister(struct tangle_runtime *rt);
TANGLE_HIDDEN void tangle__debug_seq_bump(void);
/* Call fn(rt, arg) for every live runtime (under the registry lock: fn
 * must not create or free a runtime). */
TANGLE_HIDDEN void tangle__runtimes_each(void (*fn)(struct tangle_runtime *, void *),
                                         void *arg);

/* Futex helpers (worker.c). */
TANGLE_HIDDEN void tangle__futex_wait(_Atomic uint32_t *addr, uint32_t expect);
TANGLE_HIDDEN void tangle__futex_wake(_Atomic uint32_t *addr, int n);

#endif /* TANGLE_SCHEDULER_H */
