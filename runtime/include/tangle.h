/*
 * tangle.h — the libtangle public API: a stackful-task runtime for C11.
 *
 * Tasks are coroutines with their own stacks, run by a pool of worker
 * threads. A task that waits (lock, channel, sleep, I/O, join...) is
 * suspended and its worker runs another task. Every wait is recorded in an
 * always-on debug table (tangle_debug.h) that the tangle tools read from a
 * core dump or a live process.
 *
 * Conventions
 *  - Functions that can fail return an int: TANGLE_OK (0) or a negative
 *    TANGLE_E* code; tangle_strerror() gives its message. Functions that
 *    return a handle return NULL on failure and set errno (EINVAL, ENOMEM,
 *    EPERM when called outside a task).
 *  - Waiting calls are macros that record the caller's file, line and
 *    function; the *_at functions take the site explicitly (wrappers pass
 *    their own caller's site through).
 *  - Calls marked "task only" return TANGLE_ENOTASK outside a task.
 *  - Object names (mutex, channel...) and span names are kept by pointer and
 *    must outlive the object; task names and labels are copied.
 */
#ifndef TANGLE_H
#define TANGLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TANGLE_BUILDING)
#define TANGLE_API __attribute__((visibility("default")))
#else
#define TANGLE_API
#endif

/* ---- Errors ----------------------------------------------------------- */

enum {
	TANGLE_OK = 0,
	TANGLE_ETIMEDOUT = -1,  /* the deadline passed first */
	TANGLE_ECANCELED = -2,  /* the calling task was cancelled */
	TANGLE_ECLOSED = -3,    /* the channel is closed (and, for recv, drained);
	                           the fd was closed while waiting on it */
	TANGLE_EAGAIN = -4,     /* a try_ call would have had to wait */
	TANGLE_ENOTOWNER = -5,  /* unlock by a task that does not hold the lock */
	TANGLE_ENOTASK = -6,    /* task-only call made outside any task */
	TANGLE_EINVAL = -7,     /* bad argument (NULL, zero size, n > max...) */
	TANGLE_ENOMEM = -8,     /* out of memory */
	TANGLE_EBUSY = -9,      /* destroying an object that is held or waited on */
	TANGLE_EJOIN = -10,     /* joining self, a detached or already joined task */
	TANGLE_ESYSTEM = -11,   /* a system call failed (errno holds why) */
};

/* The message for an error code; never NULL. */
TANGLE_API const char *tangle_strerror(int err);

/* ---- Call sites -------------------------------------------------------- */

/* A source location, stored once per call site in read-only memory. */
typedef struct tangle_site {
	const char *file;
	const char *function;
	uint32_t line;
	uint32_t reserved;
} tangle_site;

/* The current call site, as a pointer to a static tangle_site. */
#define TANGLE_SITE_HERE                                                     \
	(__extension__({                                                     \
		static const tangle_site tangle_site_here_ = {               \
			__FILE__, __func__, __LINE__, 0};                    \
		&tangle_site_here_;                                          \
	}))

/* ---- Runtime ----------------------------------------------------------- */

typedef struct tangle_runtime tangle_runtime;
typedef struct tangle_task tangle_task;
typedef void *(*tangle_fn)(void *arg);

typedef struct tangle_config {
	unsigned workers;          /* worker threads; 0 = number of CPUs; at
	                              most 1024 */
	int current_thread;        /* nonzero: no worker threads; tasks run on
	                              the thread inside tangle_runtime_run()
	                              (workers must then be 0 or 1) */
	size_t stack_size;         /* per task; 0 = 256 KiB; at least 16 KiB,
	                              at most 1 GiB; rounded to pages */
	unsigned blocking_threads; /* max tangle_blocking() threads; 0 = 64;
	                              at most 4096 */
	const char *name;          /* shown by the tools; NULL = "tangle" */
} tangle_config;

/* Create a runtime (cfg may be NULL for defaults). Worker threads start now,
 * so tangle_spawn_on() tasks run at once. NULL + errno on failure: EINVAL
 * for a setting out of the ranges above (or current_thread with more than
 * one worker), ENOMEM, or what creating a thread failed with. */
TANGLE_API tangle_runtime *tangle_runtime_new(const tangle_config *cfg);

/* Run fn(arg) as the main task and return when it returns. Other tasks keep
 * running (on worker threads) after it returns, until tangle_runtime_free.
 * Returns TANGLE_EINVAL when called from inside a task. The main task's
 * spawn site is the call's (site NULL: none). */
#define tangle_runtime_run(rt, fn, arg) \
	tangle_runtime_run_at((rt), (fn), (arg), TANGLE_SITE_HERE)
TANGLE_API int tangle_runtime_run_at(tangle_runtime *rt, tangle_fn fn, void *arg,
                                     const tangle_site *site);

/* Stop the workers and free the runtime. Tasks still alive are abandoned:
 * their stacks are freed without running them further; a tangle_blocking
 * call in progress is waited for. Call it from outside the runtime's own
 * tasks (a task of another runtime may free this one): from one of its
 * own tasks, or while a current-thread runtime is inside
 * tangle_runtime_run, it prints one line on stderr and does nothing.
 * The waits of abandoned tasks leave every mutex, rwlock, semaphore,
 * channel and notify queue, so those objects keep working for other
 * runtimes and threads (and can be destroyed); what the tasks held stays
 * held (the tools show an orphaned lock), and a value a plain thread
 * handed to one of them as the free began is lost with it.
 * The caller's duty: once the free begins, nothing else may touch rt or
 * its tasks — no tangle_spawn_on(rt), no tangle_cancel, tangle_join or
 * tangle_detach of its tasks (from any thread or runtime), and every
 * waker of its tasks dropped before. Nor may another thread (a plain
 * thread, or a task of another runtime) wake one of its tasks while the
 * free runs: a notify, send, receive, unlock or release that hands the
 * object to one of rt's waiting tasks queues that task on rt. Stop such
 * threads first (or make sure none of rt's tasks waits on what they
 * signal); once tangle_runtime_free has returned, they may use the
 * objects again. */
TANGLE_API void tangle_runtime_free(tangle_runtime *rt);

/* The runtime of the calling task, or NULL outside a task. */
TANGLE_API tangle_runtime *tangle_runtime_current(void);

/* ---- Tasks --------------------------------------------------------------- */

/* Spawn a task (task only). The name is copied (up to 31 bytes). The
 * returned handle must be joined or detached. NULL + errno on failure. */
#define tangle_spawn(name, fn, arg) \
	tangle_spawn_at((name), (fn), (arg), TANGLE_SITE_HERE)
TANGLE_API tangle_task *tangle_spawn_at(const char *name, tangle_fn fn,
                                        void *arg, const tangle_site *site);

/* Spawn a task on rt from any thread (inside or outside a task). */
#define tangle_spawn_on(rt, name, fn, arg) \
	tangle_spawn_on_at((rt), (name), (fn), (arg), TANGLE_SITE_HERE)
TANGLE_API tangle_task *tangle_spawn_on_at(tangle_runtime *rt,
                                           const char *name, tangle_fn fn,
                                           void *arg, const tangle_site *site);

/* Wait for t to finish and release its handle; *result (if non-NULL) gets
 * its return value. From a task this suspends only the task; from a plain
 * thread it blocks the thread. TANGLE_EJOIN: t is the caller, detached or
 * joined already. TANGLE_ECANCELED: the caller was cancelled (t is still
 * joinable). */
#define tangle_join(t, result) tangle_join_at((t), (result), TANGLE_SITE_HERE)
TANGLE_API int tangle_join_at(tangle_task *t, void **result,
                              const tangle_site *site);

/* Release the handle; the task is freed when it finishes. */
TANGLE_API int tangle_detach(tangle_task *t);

/* Let other runnable tasks run (task only). */
#define tangle_yield() tangle_yield_at(TANGLE_SITE_HERE)
TANGLE_API int tangle_yield_at(const tangle_site *site);

/* Suspend the task for ms milliseconds (task only). TANGLE_ECANCELED. */
#define tangle_sleep_ms(ms) tangle_sleep_ms_at((ms), TANGLE_SITE_HERE)
TANGLE_API int tangle_sleep_ms_at(uint64_t ms, const tangle_site *site);

/* The calling task, or NULL outside a task. */
TANGLE_API tangle_task *tangle_task_current(void);
/* A task's id: unique in the process, never reused; 0 for NULL. */
TANGLE_API uint64_t tangle_task_id(const tangle_task *t);
/* The task's name (stable while the handle is held). */
TANGLE_API const char *tangle_task_name(const tangle_task *t);

/* Cooperative cancellation: t's current wait and every later wait return
 * TANGLE_ECANCELED (a lock or permit already handed to it is passed on).
 * Idempotent. A task can test its own flag with tangle_task_cancelled(). */
TANGLE_API int tangle_cancel(tangle_task *t);
TANGLE_API int tangle_task_cancelled(void);

/* Labels: up to TANGLE_LABELS_MAX key=value pairs on the calling task, like
 * pprof labels (key up to 15 bytes, value up to 31, both copied). Setting
 * an existing key replaces it; a NULL value removes it. */
#define TANGLE_LABELS_MAX 4
TANGLE_API int tangle_task_set_label(const char *key, const char *value);

/* Named spans nest inside a task (depth up to TANGLE_SPANS_MAX; deeper
 * spans are counted, not stored) and show in the task's backtrace. */
#define TANGLE_SPANS_MAX 8
#define tangle_span_enter(name) tangle_span_enter_at((name), TANGLE_SITE_HERE)
TANGLE_API int tangle_span_enter_at(const char *name, const tangle_site *site);
TANGLE_API int tangle_span_exit(void);

/* ---- Async mutex --------------------------------------------------------- */

/* Opaque storage; the runtime's object record lives inside. */
#define TANGLE_OBJECT_STORAGE 256
typedef struct tangle_mutex {
	_Alignas(16) unsigned char opaque_[TANGLE_OBJECT_STORAGE];
} tangle_mutex;

/* Not reentrant: locking a mutex the task holds waits forever (the tools
 * report it as a self-deadlock). Unlock hands the mutex to the first waiter
 * (FIFO): it is never free in between, so no later locker barges in.
 * Owned by a task: lock, try_lock and unlock are task only. Unlock by
 * another task is TANGLE_ENOTOWNER. A cancelled task's lock fails with
 * TANGLE_ECANCELED even when the mutex is free. Destroy is TANGLE_EBUSY
 * while the mutex is held, handed off or waited on. */
#define tangle_mutex_init(m, name) \
	tangle_mutex_init_at((m), (name), TANGLE_SITE_HERE)
TANGLE_API int tangle_mutex_init_at(tangle_mutex *m, const char *name,
                                    const tangle_site *site);
TANGLE_API int tangle_mutex_destroy(tangle_mutex *m);
#define tangle_mutex_lock(m) tangle_mutex_lock_at((m), -1, TANGLE_SITE_HERE)
#define tangle_mutex_lock_timeout(m, ms) \
	tangle_mutex_lock_at((m), (int64_t)(ms), TANGLE_SITE_HERE)
/* timeout_ms < 0: no deadline; 0: fail at once (TANGLE_ETIMEDOUT) if held.
 * TANGLE_ETIMEDOUT, TANGLE_ECANCELED. */
TANGLE_API int tangle_mutex_lock_at(tangle_mutex *m, int64_t timeout_ms,
                                    const tangle_site *site);
#define tangle_mutex_try_lock(m) tangle_mutex_try_lock_at((m), TANGLE_SITE_HERE)
TANGLE_API int tangle_mutex_try_lock_at(tangle_mutex *m,
                                        const tangle_site *site);
TANGLE_API int tangle_mutex_unlock(tangle_mutex *m);

/* ---- Reader-writer lock ---------------------------------------------------- */

/* Fair: requests are served in arrival order, consecutive readers together,
 * so a waiting writer is never starved by later readers (a read request
 * waits while anyone is queued). Task only. A task that holds no read
 * lock is told TANGLE_ENOTOWNER by unlock (detected through the debug
 * table; without it, unlock trusts the caller). Destroy is TANGLE_EBUSY
 * while held or waited on. */
typedef struct tangle_rwlock {
	_Alignas(16) unsigned char opaque_[TANGLE_OBJECT_STORAGE];
} tangle_rwlock;

#define tangle_rwlock_init(l, name) \
	tangle_rwlock_init_at((l), (name), TANGLE_SITE_HERE)
TANGLE_API int tangle_rwlock_init_at(tangle_rwlock *l, const char *name,
                                     const tangle_site *site);
TANGLE_API int tangle_rwlock_destroy(tangle_rwlock *l);
#define tangle_rwlock_read(l) tangle_rwlock_read_at((l), -1, TANGLE_SITE_HERE)
#define tangle_rwlock_read_timeout(l, ms) \
	tangle_rwlock_read_at((l), (int64_t)(ms), TANGLE_SITE_HERE)
TANGLE_API int tangle_rwlock_read_at(tangle_rwlock *l, int64_t timeout_ms,
                                     const tangle_site *site);
#define tangle_rwlock_write(l) tangle_rwlock_write_at((l), -1, TANGLE_SITE_HERE)
#define tangle_rwlock_write_timeout(l, ms) \
	tangle_rwlock_write_at((l), (int64_t)(ms), TANGLE_SITE_HERE)
TANGLE_API int tangle_rwlock_write_at(tangle_rwlock *l, int64_t timeout_ms,
                                      const tangle_site *site);
#define tangle_rwlock_try_read(l) tangle_rwlock_try_read_at((l), TANGLE_SITE_HERE)
TANGLE_API int tangle_rwlock_try_read_at(tangle_rwlock *l,
                                         const tangle_site *site);
#define tangle_rwlock_try_write(l) \
	tangle_rwlock_try_write_at((l), TANGLE_SITE_HERE)
TANGLE_API int tangle_rwlock_try_write_at(tangle_rwlock *l,
                                          const tangle_site *site);
/* Releases the caller's read or write hold. TANGLE_ENOTOWNER if none. */
TANGLE_API int tangle_rwlock_unlock(tangle_rwlock *l);

/* ---- Counting semaphore ---------------------------------------------------- */

/* FIFO: a request for n permits at the head of the queue is served before
 * later (even smaller) requests. The total is fixed at init: acquiring 0
 * or more than the total, and releasing 0 or more than are out, is
 * TANGLE_EINVAL. Permits are counts, not owned: try_acquire, release and
 * available work from plain threads too; acquire is task only. Destroy is
 * TANGLE_EBUSY while permits are out or requests wait. */
typedef struct tangle_sem {
	_Alignas(16) unsigned char opaque_[TANGLE_OBJECT_STORAGE];
} tangle_sem;

#define tangle_sem_init(s, permits, name) \
	tangle_sem_init_at((s), (permits), (name), TANGLE_SITE_HERE)
TANGLE_API int tangle_sem_init_at(tangle_sem *s, uint32_t permits,
                                  const char *name, const tangle_site *site);
TANGLE_API int tangle_sem_destroy(tangle_sem *s);
#define tangle_sem_acquire(s, n) \
	tangle_sem_acquire_at((s), (n), -1, TANGLE_SITE_HERE)
#define tangle_sem_acquire_timeout(s, n, ms) \
	tangle_sem_acquire_at((s), (n), (int64_t)(ms), TANGLE_SITE_HERE)
/* TANGLE_EINVAL if n is 0 or more than the semaphore's initial permits. */
TANGLE_API int tangle_sem_acquire_at(tangle_sem *s, uint32_t n,
                                     int64_t timeout_ms,
                                     const tangle_site *site);
#define tangle_sem_try_acquire(s, n) \
	tangle_sem_try_acquire_at((s), (n), TANGLE_SITE_HERE)
TANGLE_API int tangle_sem_try_acquire_at(tangle_sem *s, uint32_t n,
                                         const tangle_site *site);
/* Returns n permits (need not be the acquiring task: permits are counts).
 * The debug table lists permits under the task that acquired them until
 * that task releases them: permits that another task or a thread returns
 * stay listed under their acquirer (the semaphore's own count is right). */
TANGLE_API int tangle_sem_release(tangle_sem *s, uint32_t n);
/* Permits available now. */
TANGLE_API uint32_t tangle_sem_available(const tangle_sem *s);

/* ---- Channels -------------------------------------------------------------- */

typedef struct tangle_chan tangle_chan;

/* A multi-producer multi-consumer channel of elem_size-byte values.
 * capacity >= 1: bounded; TANGLE_CHAN_UNBOUNDED: grows as needed.
 * NULL + errno (EINVAL for elem_size 0) on failure. */
#define TANGLE_CHAN_UNBOUNDED 0
#define tangle_chan_new(elem_size, capacity, name) \
	tangle_chan_new_at((elem_size), (capacity), (name), TANGLE_SITE_HERE)
TANGLE_API tangle_chan *tangle_chan_new_at(size_t elem_size, size_t capacity,
                                           const char *name,
                                           const tangle_site *site);
/* Free a channel nobody waits on (TANGLE_EBUSY otherwise). */
TANGLE_API int tangle_chan_free(tangle_chan *ch);
/* Close: senders get TANGLE_ECLOSED at once; receivers drain what is
 * buffered, then get TANGLE_ECLOSED. Closing twice is TANGLE_ECLOSED.
 * Close works from plain threads. */
TANGLE_API int tangle_chan_close(tangle_chan *ch);

/* Values are copied in and out (elem_size bytes), FIFO. A send hands its
 * value straight to the longest-waiting receiver; senders block only on a
 * full bounded channel. Task only; timeout_ms < 0: no deadline, 0: fail at
 * once (TANGLE_ETIMEDOUT). TANGLE_ECLOSED, TANGLE_ETIMEDOUT,
 * TANGLE_ECANCELED (nothing was sent or received), TANGLE_ENOMEM (an
 * unbounded channel could not grow). */
#define tangle_chan_send(ch, v) \
	tangle_chan_send_at((ch), (v), -1, TANGLE_SITE_HERE)
#define tangle_chan_send_timeout(ch, v, ms) \
	tangle_chan_send_at((ch), (v), (int64_t)(ms), TANGLE_SITE_HERE)
TANGLE_API int tangle_chan_send_at(tangle_chan *ch, const void *value,
                                   int64_t timeout_ms, const tangle_site *site);
#define tangle_chan_recv(ch, out) \
	tangle_chan_recv_at((ch), (out), -1, TANGLE_SITE_HERE)
#define tangle_chan_recv_timeout(ch, out, ms) \
	tangle_chan_recv_at((ch), (out), (int64_t)(ms), TANGLE_SITE_HERE)
TANGLE_API int tangle_chan_recv_at(tangle_chan *ch, void *out,
                                   int64_t timeout_ms, const tangle_site *site);
/* Never wait: TANGLE_EAGAIN when full (send) or empty (recv). Usable from
 * plain threads too. */
TANGLE_API int tangle_chan_try_send(tangle_chan *ch, const void *value);
TANGLE_API int tangle_chan_try_recv(tangle_chan *ch, void *out);
/* Values buffered now. */
TANGLE_API size_t tangle_chan_len(const tangle_chan *ch);

/* Wait for the first of several channel operations to complete. */
typedef enum tangle_select_kind {
	TANGLE_SELECT_SEND = 1,
	TANGLE_SELECT_RECV = 2,
} tangle_select_kind;

typedef struct tangle_select_op {
	tangle_chan *chan;
	tangle_select_kind kind;
	void *value; /* SEND: the value to send; RECV: where to store it */
	int result;  /* out: TANGLE_OK or TANGLE_ECLOSED for the chosen op */
} tangle_select_op;

/* Returns the index of the op that completed (its .result says how), or
 * TANGLE_ETIMEDOUT / TANGLE_ECANCELED / TANGLE_EINVAL. timeout_ms < 0: no
 * deadline; 0: poll. At most TANGLE_SELECT_MAX ops. Task only.
 * When several ops are ready, the lowest index wins. A receive on a closed
 * and drained channel, and a send on a closed channel, are ready with
 * .result TANGLE_ECLOSED. Exactly one op completes; the others leave their
 * values and channels untouched. A channel may appear in several ops. */
#define TANGLE_SELECT_MAX 16
#define tangle_select(ops, n, timeout_ms) \
	tangle_select_at((ops), (n), (timeout_ms), TANGLE_SITE_HERE)
TANGLE_API int tangle_select_at(tangle_select_op *ops, size_t n,
                                int64_t timeout_ms, const tangle_site *site);

/* ---- Notify ------------------------------------------------------------------ */

/* notify_one wakes one waiter or, if none waits, stores one permit that the
 * next wait consumes at once; notify_all wakes every current waiter.
 * Waiters are woken in arrival order; at most one permit is stored; a
 * waiter chosen by notify_one that is cancelled or times out before it runs
 * passes the notification on. Notifying works from plain threads; waiting
 * is task only. */
typedef struct tangle_notify {
	_Alignas(16) unsigned char opaque_[TANGLE_OBJECT_STORAGE];
} tangle_notify;

#define tangle_notify_init(n, name) \
	tangle_notify_init_at((n), (name), TANGLE_SITE_HERE)
TANGLE_API int tangle_notify_init_at(tangle_notify *n, const char *name,
                                     const tangle_site *site);
TANGLE_API int tangle_notify_destroy(tangle_notify *n);
#define tangle_notify_wait(n) tangle_notify_wait_at((n), -1, TANGLE_SITE_HERE)
#define tangle_notify_wait_timeout(n, ms) \
	tangle_notify_wait_at((n), (int64_t)(ms), TANGLE_SITE_HERE)
TANGLE_API int tangle_notify_wait_at(tangle_notify *n, int64_t timeout_ms,
                                     const tangle_site *site);
TANGLE_API int tangle_notify_one(tangle_notify *n);
TANGLE_API int tangle_notify_all(tangle_notify *n);

/* ---- Blocking calls and I/O ---------------------------------------------------- */

/* Run fn(arg) on the blocking-call thread pool; only the calling task
 * waits. *result gets fn's return value. Cancellation does not interrupt fn;
 * it takes effect at the task's next wait. */
#define tangle_blocking(fn, arg, result) \
	tangle_blocking_at((fn), (arg), (result), TANGLE_SITE_HERE)
TANGLE_API int tangle_blocking_at(tangle_fn fn, void *arg, void **result,
                                  const tangle_site *site);

/* Wait until fd is ready for events (EPOLLIN, EPOLLOUT, EPOLLPRI,
 * EPOLLRDHUP bits; task only); *revents (if non-NULL) gets what happened,
 * EPOLLHUP and EPOLLERR included. Any number of tasks may wait on one fd,
 * for the same or different events (a reader and a writer on one socket):
 * each is woken when the fd is ready for what it asked, and all of them on
 * EPOLLHUP or EPOLLERR. Readiness may be spurious: retry on EAGAIN.
 * timeout_ms < 0: no deadline; 0: poll without waiting. A regular file is
 * always ready. TANGLE_ETIMEDOUT, TANGLE_ECANCELED, TANGLE_ECLOSED (the fd
 * was closed while waiting: see tangle_io_close), TANGLE_ESYSTEM (errno:
 * EBADF for an fd that is not open). */
#define tangle_io_wait(fd, events, timeout_ms) \
	tangle_io_wait_at((fd), (events), (timeout_ms), NULL, TANGLE_SITE_HERE)
TANGLE_API int tangle_io_wait_at(int fd, uint32_t events, int64_t timeout_ms,
                                 uint32_t *revents, const tangle_site *site);

/* Close fd (any thread) after waking every task waiting on it in
 * tangle_io_wait, which returns TANGLE_ECLOSED. Closing with close(2)
 * while tasks wait leaves them waiting (the kernel says nothing), until
 * the fd number is waited on again. TANGLE_ESYSTEM if close(2) fails. */
TANGLE_API int tangle_io_close(int fd);

/* ---- Wakers: building new primitives ------------------------------------------ */

/* A waker is a counted handle that can wake one task. The runtime counts
 * the live wakers of every task; the tools report a parked task with none
 * as a lost wake-up. Pattern:
 *     w = tangle_waker_current();  (publish w where the event source finds it)
 *     while (!condition) tangle_park("what I wait for");
 * and the event source calls tangle_waker_wake(w), then tangle_waker_drop(w). */
typedef struct tangle_waker tangle_waker;

/* A new waker for the calling task (task only); NULL + errno on failure. */
TANGLE_API tangle_waker *tangle_waker_current(void);
/* Make the task runnable if it is parked (else its next park returns at
 * once); nothing if the task has finished. Callable from any thread, any
 * number of times. */
TANGLE_API void tangle_waker_wake(tangle_waker *w);
/* Release the handle (after which it must not be used). Any thread; every
 * waker must be dropped before its runtime is freed (a live waker keeps
 * its task's record). */
TANGLE_API void tangle_waker_drop(tangle_waker *w);
/* Suspend the calling task until a waker wakes it; what (kept by pointer)
 * says what it waits for. Returns TANGLE_OK or TANGLE_ECANCELED; wake-ups
 * may be spurious, so test the condition in a loop. */
#define tangle_park(what) tangle_park_at((what), TANGLE_SITE_HERE)
TANGLE_API int tangle_park_at(const char *what, const tangle_site *site);

#ifdef __cplusplus
}
#endif
#endif /* TANGLE_H */
