/*
 * mutex.c — the async mutex: FIFO hand-off, not reentrant.
 *
 * State is one word, `word`:
 *   0              free
 *   T              held by task T (a struct tangle_task pointer), none queued
 *   T | QUEUED     held by T; waiters may be queued, so unlock must look
 * The fast paths are one CAS each: lock 0 -> T, unlock T -> 0. Everything
 * else happens under the object's spinlock:
 *  - a locker that finds the mutex held sets QUEUED and queues its waiter;
 *  - an unlocker that finds QUEUED removes the head waiter and stores its
 *    task as the new owner before granting it, so the mutex is never free
 *    in between and no later locker can barge in (FIFO);
 *  - while QUEUED is set only the owner changes the word, and only under the
 *    spinlock; a locker's CAS from 0 cannot succeed.
 * Ownership: only the task in the word unlocks (others get ENOTOWNER). A
 * task handed the mutex owns it from the hand-off; when it runs it records
 * its hold and clears handed_to, or, if it was cancelled or the hand-off
 * came after its deadline, unlocks at once (passing it on) and fails.
 * A task that ends holding the mutex leaves it held for good (an orphaned
 * lock: owner_id still names the finished task for the tools). The word
 * cannot tell that task from a later one reusing its record; owner_id can.
 *
 * The owner's hold lives on the mutex (owner_id, owner_since, held_site),
 * not in the task's hold list: a mutex has one owner, and readers derive
 * the task's holds from the objects it owns. These fields and the counters
 * are written by the owner alone (the word makes it exclusive), as plain
 * relaxed stores.
 */
#include "scheduler.h"

#include <string.h>

#define QUEUED ((uintptr_t)1)
#define MUTEX_SPINS 64 /* pauses before queueing behind a running owner */

struct mutex {
	struct tangle_object obj;        /* first: the debug record */
	_Atomic uintptr_t word;          /* owner task | QUEUED, 0 = free */
};

_Static_assert(sizeof(struct mutex) <= TANGLE_OBJECT_STORAGE,
               "struct mutex must fit in tangle_mutex");
_Static_assert(_Alignof(struct mutex) <= _Alignof(tangle_mutex),
               "struct mutex alignment");

static inline struct mutex *M(tangle_mutex *m)
{
	return (struct mutex *)(void *)m;
}

/* The owner's bookkeeping once the mutex is its own (now: cached clock). */
static inline void claimed(struct mutex *m, struct tangle_task *t,
                           uint64_t now, const tangle_site *site)
{
	(void)m; (void)t; (void)now; (void)site;
	TANGLE_DBG({
		DBG_STORE(m->obj.owner_id, t->id);
		DBG_STORE(m->obj.owner_since, now);
		DBG_STORE(m->obj.held_site, site);
		DBG_INC(m->obj.acquisitions);
	});
}

/* The owner's bookkeeping just before it lets go. */
static inline void releasing(struct mutex *m, struct tangle_task *t,
                             uint64_t now)
{
	(void)m; (void)t; (void)now;
	TANGLE_DBG({
		uint64_t since = DBG_LOAD(m->obj.owner_since);
		if (now > since && now - since > DBG_LOAD(m->obj.longest_hold))
			DBG_STORE(m->obj.longest_hold, now - since);
		DBG_STORE(m->obj.owner_id, 0); /* OWNER_SINCE: its own then */
	});
}

/* The calling task and its worker's cached clock, with one lookup of the
 * thread's worker; NULL outside a task. */
static inline struct tangle_task *me(uint64_t *now)
{
	struct tangle_worker *w = tangle__worker_self();
	if (unlikely(!w))
		return NULL;
	*now = w->clock;
	return w->current;
}

int tangle_mutex_init_at(tangle_mutex *pm, const char *name,
                         const tangle_site *site)
{
	if (!pm)
		return TANGLE_EINVAL;
	struct mutex *m = M(pm);
	memset(m, 0, sizeof *m);
	tangle__waitq_init(&m->obj.waiters, &m->obj.lock, NULL);
	tangle__waitq_init(&m->obj.waiters2, &m->obj.lock, NULL);
	atomic_init(&m->word, 0);
	tangle__object_register(&m->obj, TANGLE_DEBUG_OBJ_MUTEX, name, site);
	return TANGLE_OK;
}

int tangle_mutex_destroy(tangle_mutex *pm)
{
	if (!pm)
		return TANGLE_EINVAL;
	struct mutex *m = M(pm);
	tangle__spin_lock(&m->obj.lock);
	bool busy = atomic_load_explicit(&m->word, memory_order_relaxed) != 0 ||
	            m->obj.waiters.head != NULL;
	tangle__spin_unlock(&m->obj.lock);
	if (busy)
		return TANGLE_EBUSY;
	tangle__object_unregister(&m->obj);
	return TANGLE_OK;
}

/* Let go of a mutex the caller owns and that has QUEUED set: hand it to
 * the head waiter, or free it if the waiters left. */
static __attribute__((noinline)) void release_slow(struct mutex *m)
{
	tangle__spin_lock(&m->obj.lock);
	struct tangle_waiter *w = m->obj.waiters.head;
	if (!w) {
		atomic_store_explicit(&m->word, 0, memory_order_release);
	} else {
		tangle__waitq_remove(&m->obj.waiters, w);
		uintptr_t next = (uintptr_t)w->task;
		if (m->obj.waiters.head)
			next |= QUEUED;
		atomic_store_explicit(&m->word, next, memory_order_release);
		TANGLE_DBG({
			DBG_STORE(m->obj.handed_to, w->task->id);
			DBG_STORE(m->obj.handed_at, tangle__stamp());
		});
		tangle__waiter_grant(w, TANGLE_DEBUG_WAITER_GRANTED);
	}
	tangle__spin_unlock(&m->obj.lock);
}

/* Let go of a mutex the caller owns: free it, or hand it on. */
static inline void release(struct mutex *m, uintptr_t self)
{
	uintptr_t expect = self;
	if (unlikely(!atomic_compare_exchange_strong_explicit(
		    &m->word, &expect, 0, memory_order_release,
		    memory_order_relaxed)))
		release_slow(m);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__)
	__asm__ volatile("pause");
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/* Before queueing: while nobody is queued and the owner is running on
 * another worker, spin a little. A short critical section ends sooner than
 * a suspend plus a cross-worker wake-up, and without this every contended
 * lock becomes a convoy of hand-offs between sleeping workers. Taking the
 * mutex here keeps FIFO: it is free only when nobody waits. */
static bool spin_for(struct mutex *m, struct tangle_task *t)
{
	for (unsigned i = 0; i < MUTEX_SPINS; i++) {
		uintptr_t word = atomic_load_explicit(&m->word, memory_order_relaxed);
		if (word == 0) {
			if (atomic_compare_exchange_weak_explicit(
				    &m->word, &word, (uintptr_t)t,
				    memory_order_acquire, memory_order_relaxed))
				return true;
			continue;
		}
		struct tangle_task *owner = (struct tangle_task *)word;
		if ((word & QUEUED) || owner == t)
			return false;
		/* Task records live in slabs that outlive the runtime's tasks,
		 * so reading a stale owner's state is safe. */
		uint32_t st = atomic_load_explicit(&owner->sched.state,
		                                   memory_order_relaxed);
		if (st != TANGLE__S_RUNNING && st != TANGLE__S_NOTIFIED)
			return false;
		cpu_relax();
	}
	return false;
}

static __attribute__((noinline)) int lock_slow(struct mutex *m, struct tangle_task *t,
                     int64_t timeout_ms, const tangle_site *site)
{
	uintptr_t self = (uintptr_t)t;
	if (timeout_ms != 0 && spin_for(m, t)) {
		claimed(m, t, tangle__stamp(), site);
		return TANGLE_OK;
	}
	tangle__spin_lock(&m->obj.lock);
	uintptr_t word = atomic_load_explicit(&m->word, memory_order_relaxed);
	for (;;) {
		if (word == 0) {
			if (atomic_compare_exchange_weak_explicit(
				    &m->word, &word, self, memory_order_acquire,
				    memory_order_relaxed)) {
				tangle__spin_unlock(&m->obj.lock);
				claimed(m, t, tangle__stamp(), site);
				return TANGLE_OK;
			}
		} else if (word & QUEUED) {
			break;
		} else if (atomic_compare_exchange_weak_explicit(
			           &m->word, &word, word | QUEUED,
			           memory_order_relaxed, memory_order_relaxed)) {
			break;
		}
	}
	if (timeout_ms == 0) {
		tangle__spin_unlock(&m->obj.lock);
		return TANGLE_ETIMEDOUT;
	}
	struct tangle_waiter *w = tangle__waiter_begin(
		TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, m, 1, timeout_ms, site);
	tangle__waitq_push(&m->obj.waiters, w);
	TANGLE_DBG(DBG_INC(m->obj.contentions));
	tangle__spin_unlock(&m->obj.lock);

	uint8_t state = tangle__waiter_wait(w);
	if (state != TANGLE_DEBUG_WAITER_GRANTED)
		return state == TANGLE_DEBUG_WAITER_TIMEDOUT ? TANGLE_ETIMEDOUT
		                                              : TANGLE_ECANCELED;
	int err;
	if (tangle__waiter_must_pass_on(w, &err)) {
		TANGLE_DBG(__atomic_compare_exchange_n(
			&m->obj.handed_to, &(uint64_t){t->id}, 0, false,
			__ATOMIC_RELAXED, __ATOMIC_RELAXED));
		release(m, self);
		return err;
	}
	TANGLE_DBG(DBG_STORE(m->obj.handed_to, 0));
	claimed(m, t, tangle__stamp(), site);
	return TANGLE_OK;
}

static inline bool cancelled(const struct tangle_task *t)
{
	return atomic_load_explicit(&t->flags, memory_order_relaxed) &
	       TANGLE_DEBUG_TASKF_CANCEL_REQUESTED;
}

int tangle_mutex_lock_at(tangle_mutex *pm, int64_t timeout_ms,
                         const tangle_site *site)
{
	if (unlikely(!pm))
		return TANGLE_EINVAL;
	struct mutex *m = M(pm);
	uint64_t now = 0;
	struct tangle_task *t = me(&now);
	if (unlikely(!t))
		return TANGLE_ENOTASK;
	if (unlikely(cancelled(t)))
		return TANGLE_ECANCELED;
	uintptr_t expect = 0;
	if (likely(atomic_compare_exchange_strong_explicit(
		    &m->word, &expect, (uintptr_t)t, memory_order_acquire,
		    memory_order_relaxed))) {
		claimed(m, t, now, site);
		return TANGLE_OK;
	}
	return lock_slow(m, t, timeout_ms, site);
}

int tangle_mutex_try_lock_at(tangle_mutex *pm, const tangle_site *site)
{
	if (unlikely(!pm))
		return TANGLE_EINVAL;
	struct mutex *m = M(pm);
	uint64_t now = 0;
	struct tangle_task *t = me(&now);
	if (unlikely(!t))
		return TANGLE_ENOTASK;
	uintptr_t expect = 0;
	if (atomic_compare_exchange_strong_explicit(
		    &m->word, &expect, (uintptr_t)t, memory_order_acquire,
		    memory_order_relaxed)) {
		claimed(m, t, now, site);
		return TANGLE_OK;
	}
	return TANGLE_EAGAIN;
}

int tangle_mutex_unlock(tangle_mutex *pm)
{
	if (unlikely(!pm))
		return TANGLE_EINVAL;
	struct mutex *m = M(pm);
	uint64_t now = 0;
	struct tangle_task *t = me(&now);
	if (unlikely(!t))
		return TANGLE_ENOTASK;
	uintptr_t self = (uintptr_t)t;
	uintptr_t word = atomic_load_explicit(&m->word, memory_order_relaxed);
	if (unlikely((word & ~QUEUED) != self))
		return TANGLE_ENOTOWNER;
	releasing(m, t, now);
	release(m, self);
	return TANGLE_OK;
}
