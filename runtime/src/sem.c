/*
 * sem.c — the counting semaphore, strictly FIFO.
 *
 * State, under the object's spinlock:
 *   avail     permits free now: the record's VALUE itself (one store)
 *   total     permits in all, fixed at init (the record's capacity)
 *   waiters   requests in arrival order, each for w->count permits
 * Invariants: 0 <= avail <= total; a request is served at once only when
 * nobody is queued, so a big request at the head is never overtaken by
 * later small ones. Whenever permits come back, or a queued request leaves
 * by timeout or cancellation (after_abort), grant_from_head() serves the
 * head while it fits, moving the permits to each waiter directly.
 *
 * Ownership: permits are counts, not tied to a task; any task (or thread)
 * may release them. The debug table records them as PERMITS holds of the
 * acquiring task, removed from the releasing one.
 */
#include "scheduler.h"

#include <stddef.h>
#include <string.h>

struct sem {
	struct tangle_object obj;        /* first: the debug record; obj.value
	                                    is avail, written under the lock,
	                                    read relaxed by tangle_sem_available */
	uint32_t total;
};

_Static_assert(sizeof(struct sem) <= TANGLE_OBJECT_STORAGE,
               "struct sem must fit in tangle_sem");
_Static_assert(_Alignof(struct sem) <= _Alignof(tangle_sem),
               "struct sem alignment");

static inline struct sem *S(tangle_sem *s)
{
	return (struct sem *)(void *)s;
}

static inline uint32_t avail(const struct sem *s)
{
	return (uint32_t)__atomic_load_n(&s->obj.value, __ATOMIC_RELAXED);
}

static inline void set_avail(struct sem *s, uint32_t n)
{
	__atomic_store_n(&s->obj.value, (int64_t)n, __ATOMIC_RELAXED);
}

/* Serve the head while it fits. Under the lock. */
static void grant_from_head(struct sem *s)
{
	struct tangle_waiter *w;
	while ((w = s->obj.waiters.head) != NULL && w->count <= avail(s)) {
		set_avail(s, avail(s) - w->count);
		tangle__waitq_remove(&s->obj.waiters, w);
		TANGLE_DBG({
			DBG_STORE(s->obj.handed_to, w->task->id);
			DBG_STORE(s->obj.handed_at, tangle__stamp());
		});
		tangle__waiter_grant(w, TANGLE_DEBUG_WAITER_GRANTED);
	}
}

static void after_abort(struct tangle_waitq *q)
{
	grant_from_head((struct sem *)(void *)((char *)q -
	                offsetof(struct tangle_object, waiters)));
}

int tangle_sem_init_at(tangle_sem *ps, uint32_t permits, const char *name,
                       const tangle_site *site)
{
	if (!ps || permits > INT32_MAX)
		return TANGLE_EINVAL;
	struct sem *s = S(ps);
	memset(s, 0, sizeof *s);
	tangle__waitq_init(&s->obj.waiters, &s->obj.lock, after_abort);
	tangle__waitq_init(&s->obj.waiters2, &s->obj.lock, NULL);
	s->total = permits;
	set_avail(s, permits);
	s->obj.capacity = permits;
	tangle__object_register(&s->obj, TANGLE_DEBUG_OBJ_SEM, name, site);
	return TANGLE_OK;
}

int tangle_sem_destroy(tangle_sem *ps)
{
	if (!ps)
		return TANGLE_EINVAL;
	struct sem *s = S(ps);
	tangle__spin_lock(&s->obj.lock);
	bool busy = avail(s) != s->total || s->obj.waiters.head;
	tangle__spin_unlock(&s->obj.lock);
	if (busy)
		return TANGLE_EBUSY;
	tangle__object_unregister(&s->obj);
	return TANGLE_OK;
}

/* An acquisition, counted under the lock. */
static inline void counted(struct sem *s)
{
	(void)s;
	TANGLE_DBG(DBG_INC(s->obj.acquisitions));
}

/* The acquiring task's hold. */
static inline void claimed(struct sem *s, struct tangle_task *t, uint32_t n,
                           uint64_t now, const tangle_site *site)
{
	(void)s; (void)t; (void)n; (void)now; (void)site;
	TANGLE_DBG(tangle__hold_permits_add(t, s, n, now, site));
}

/* The calling task (NULL outside a task) and its worker's cached clock,
 * with one lookup of the thread's worker. */
static inline struct tangle_task *me(uint64_t *now)
{
	struct tangle_worker *w = tangle__worker_self();
	if (unlikely(!w))
		return NULL;
	*now = w->clock;
	return w->current;
}

/* The waiting path, out of line so that the uncontended acquire stays a
 * leaf (no callee-saved registers to spill). Called with the lock held. */
static __attribute__((noinline)) int
acquire_wait(struct sem *s, struct tangle_task *t, uint32_t n,
             int64_t timeout_ms, const tangle_site *site)
{
	if (timeout_ms == 0) {
		tangle__spin_unlock(&s->obj.lock);
		return TANGLE_ETIMEDOUT;
	}
	struct tangle_waiter *w = tangle__waiter_begin(
		TANGLE_DEBUG_WAIT_SEM, TANGLE_DEBUG_OP_ACQUIRE, s, n, timeout_ms,
		site);
	tangle__waitq_push(&s->obj.waiters, w);
	TANGLE_DBG(DBG_INC(s->obj.contentions));
	tangle__spin_unlock(&s->obj.lock);

	uint8_t state = tangle__waiter_wait(w);
	if (state != TANGLE_DEBUG_WAITER_GRANTED)
		return state == TANGLE_DEBUG_WAITER_TIMEDOUT ? TANGLE_ETIMEDOUT
		                                              : TANGLE_ECANCELED;
	int err;
	bool pass = tangle__waiter_must_pass_on(w, &err);
	uint64_t self = t->id;
	tangle__spin_lock(&s->obj.lock);
	TANGLE_DBG(if (DBG_LOAD(s->obj.handed_to) == self)
		DBG_STORE(s->obj.handed_to, 0));
	(void)self;
	if (pass) {
		set_avail(s, avail(s) + n);
		grant_from_head(s);
		tangle__spin_unlock(&s->obj.lock);
		return err;
	}
	counted(s);
	tangle__spin_unlock(&s->obj.lock);
	claimed(s, t, n, tangle__stamp(), site);
	return TANGLE_OK;
}

/* The semaphore of a request for n permits, or NULL when there is none or
 * n could never be served (0 or more than the total). */
static inline struct sem *requested(tangle_sem *ps, uint32_t n)
{
	struct sem *s = ps ? S(ps) : NULL;
	return s && n != 0 && n <= s->total ? s : NULL;
}

/* Take n permits now if nobody is queued and they are free (FIFO: a
 * request never overtakes a queued one). Under the lock. */
static inline bool take(struct sem *s, uint32_t n)
{
	if (s->obj.waiters.head || avail(s) < n)
		return false;
	set_avail(s, avail(s) - n);
	counted(s);
	return true;
}

int tangle_sem_acquire_at(tangle_sem *ps, uint32_t n, int64_t timeout_ms,
                          const tangle_site *site)
{
	struct sem *s = requested(ps, n);
	if (!s)
		return TANGLE_EINVAL;
	uint64_t now = 0;
	struct tangle_task *t = me(&now);
	if (unlikely(!t))
		return TANGLE_ENOTASK;
	if (unlikely(atomic_load_explicit(&t->flags, memory_order_relaxed) &
	             TANGLE_DEBUG_TASKF_CANCEL_REQUESTED))
		return TANGLE_ECANCELED;
	tangle__spin_lock(&s->obj.lock);
	if (likely(take(s, n))) {
		tangle__spin_unlock(&s->obj.lock);
		claimed(s, t, n, now, site);
		return TANGLE_OK;
	}
	return acquire_wait(s, t, n, timeout_ms, site);
}

int tangle_sem_try_acquire_at(tangle_sem *ps, uint32_t n,
                              const tangle_site *site)
{
	struct sem *s = requested(ps, n);
	if (!s)
		return TANGLE_EINVAL;
	uint64_t now = 0;
	struct tangle_task *t = me(&now);
	tangle__spin_lock(&s->obj.lock);
	bool ok = take(s, n);
	tangle__spin_unlock(&s->obj.lock);
	if (!ok)
		return TANGLE_EAGAIN;
	if (t)
		claimed(s, t, n, now, site);
	return TANGLE_OK;
}

int tangle_sem_release(tangle_sem *ps, uint32_t n)
{
	if (!ps)
		return TANGLE_EINVAL;
	struct sem *s = S(ps);
	if (n == 0 || n > s->total)
		return TANGLE_EINVAL;
	tangle__spin_lock(&s->obj.lock);
	if (avail(s) + n > s->total) {
		tangle__spin_unlock(&s->obj.lock);
		return TANGLE_EINVAL;
	}
	set_avail(s, avail(s) + n);
	if (s->obj.waiters.head)
		grant_from_head(s);
	tangle__spin_unlock(&s->obj.lock);
	TANGLE_DBG({
		struct tangle_worker *w = tangle__worker_self();
		struct tangle_task *t = w ? w->current : NULL;
		if (t)
			tangle__hold_permits_remove(t, s, n);
	});
	return TANGLE_OK;
}

uint32_t tangle_sem_available(const tangle_sem *ps)
{
	if (!ps)
		return 0;
	const struct sem *s = (const struct sem *)(const void *)ps;
	return avail(s);
}
