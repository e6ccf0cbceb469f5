/*
 * rwlock.c — the fair reader-writer lock.
 *
 * State, all under the object's spinlock:
 *   writer    the task holding it exclusively, or NULL
 *   readers   read holds outstanding (handed-off ones included)
 *   waiters   one FIFO of READ and WRITE waiters, in arrival order
 * Invariants: writer != NULL implies readers == 0. A request is granted at
 * once only when nobody is queued (so a stream of readers cannot pass a
 * waiting writer) and it is compatible with the holders. Whenever holders
 * leave, or a queued waiter leaves by timeout or cancellation (after_abort),
 * grant_from_head() serves the queue in order: a writer at the head when
 * the lock is free, or every consecutive reader at the head while no
 * writer holds it. Grants move the hold to the waiter directly.
 *
 * Ownership: unlock releases the caller's write hold if it is the writer,
 * else one read hold. Read holds are not tied to tasks except through the
 * debug table: with the table on, a task that holds no read lock gets
 * ENOTOWNER (unless its hold list overflowed).
 */
#include "scheduler.h"

#include <stddef.h>
#include <string.h>

struct rwlock {
	struct tangle_object obj;        /* first: the debug record; value =
	                                    readers, owner_id = the writer */
	struct tangle_task *writer;
	uint32_t readers;
};

_Static_assert(sizeof(struct rwlock) <= TANGLE_OBJECT_STORAGE,
               "struct rwlock must fit in tangle_rwlock");
_Static_assert(_Alignof(struct rwlock) <= _Alignof(tangle_rwlock),
               "struct rwlock alignment");

static inline struct rwlock *L(tangle_rwlock *l)
{
	return (struct rwlock *)(void *)l;
}

static void set_readers(struct rwlock *l, uint32_t n)
{
	l->readers = n;
	TANGLE_DBG(DBG_STORE(l->obj.value, (int64_t)n));
}

static void hand_off(struct rwlock *l, struct tangle_waiter *w)
{
	tangle__waitq_remove(&l->obj.waiters, w);
	TANGLE_DBG({
		DBG_STORE(l->obj.handed_to, w->task->id);
		DBG_STORE(l->obj.handed_at, tangle__clock());
	});
	tangle__waiter_grant(w, TANGLE_DEBUG_WAITER_GRANTED);
}

/* Serve the queue in order as far as the holders allow. Under the lock. */
static void grant_from_head(struct rwlock *l)
{
	struct tangle_waiter *w;
	while ((w = l->obj.waiters.head) != NULL && !l->writer) {
		if (w->op == TANGLE_DEBUG_OP_WRITE) {
			if (l->readers)
				return;
			l->writer = w->task;
			hand_off(l, w);
			return;
		}
		set_readers(l, l->readers + 1);
		hand_off(l, w);
	}
}

static void after_abort(struct tangle_waitq *q)
{
	grant_from_head((struct rwlock *)(void *)((char *)q -
	                offsetof(struct tangle_object, waiters)));
}

int tangle_rwlock_init_at(tangle_rwlock *pl, const char *name,
                          const tangle_site *site)
{
	if (!pl)
		return TANGLE_EINVAL;
	struct rwlock *l = L(pl);
	memset(l, 0, sizeof *l);
	tangle__waitq_init(&l->obj.waiters, &l->obj.lock, after_abort);
	tangle__waitq_init(&l->obj.waiters2, &l->obj.lock, NULL);
	tangle__object_register(&l->obj, TANGLE_DEBUG_OBJ_RWLOCK, name, site);
	return TANGLE_OK;
}

int tangle_rwlock_destroy(tangle_rwlock *pl)
{
	if (!pl)
		return TANGLE_EINVAL;
	struct rwlock *l = L(pl);
	tangle__spin_lock(&l->obj.lock);
	bool busy = l->writer || l->readers || l->obj.waiters.head;
	tangle__spin_unlock(&l->obj.lock);
	if (busy)
		return TANGLE_EBUSY;
	tangle__object_unregister(&l->obj);
	return TANGLE_OK;
}

/* Bookkeeping of a hold the caller now has. */
static void claimed(struct rwlock *l, struct tangle_task *t, bool write,
                    const tangle_site *site)
{
	(void)l; (void)t; (void)write; (void)site;
	TANGLE_DBG({
		if (write)
			tangle__object_owned(&l->obj, t);
		tangle__hold_add(l, write ? TANGLE_DEBUG_HOLD_EXCLUSIVE
		                          : TANGLE_DEBUG_HOLD_SHARED, 1, site);
	});
}

/* An acquisition, counted under the lock. */
static inline void counted(struct rwlock *l)
{
	(void)l;
	TANGLE_DBG(DBG_INC(l->obj.acquisitions));
}

/* Try to take it at once; under the lock. */
static bool take_now(struct rwlock *l, struct tangle_task *t, bool write)
{
	if (l->writer || l->obj.waiters.head)
		return false;
	if (write) {
		if (l->readers)
			return false;
		l->writer = t;
	} else {
		set_readers(l, l->readers + 1);
	}
	counted(l);
	return true;
}

/* Drop one hold; under the lock. */
static void drop(struct rwlock *l, bool write)
{
	if (write)
		l->writer = NULL;
	else
		set_readers(l, l->readers - 1);
	grant_from_head(l);
}

static int acquire(tangle_rwlock *pl, bool write, int64_t timeout_ms,
                   const tangle_site *site)
{
	if (!pl)
		return TANGLE_EINVAL;
	struct rwlock *l = L(pl);
	int err = tangle__wait_check();
	if (err)
		return err;
	struct tangle_task *t = tangle__current();
	tangle__spin_lock(&l->obj.lock);
	if (take_now(l, t, write)) {
		tangle__spin_unlock(&l->obj.lock);
		claimed(l, t, write, site);
		return TANGLE_OK;
	}
	if (timeout_ms == 0) {
		tangle__spin_unlock(&l->obj.lock);
		return TANGLE_ETIMEDOUT;
	}
	struct tangle_waiter *w = tangle__waiter_begin(
		TANGLE_DEBUG_WAIT_RWLOCK,
		write ? TANGLE_DEBUG_OP_WRITE : TANGLE_DEBUG_OP_READ, l, 1,
		timeout_ms, site);
	tangle__waitq_push(&l->obj.waiters, w);
	TANGLE_DBG(DBG_INC(l->obj.contentions));
	tangle__spin_unlock(&l->obj.lock);

	uint8_t state = tangle__waiter_wait(w);
	if (state != TANGLE_DEBUG_WAITER_GRANTED)
		return state == TANGLE_DEBUG_WAITER_TIMEDOUT ? TANGLE_ETIMEDOUT
		                                              : TANGLE_ECANCELED;
	bool pass = tangle__waiter_must_pass_on(w, &err);
	tangle__spin_lock(&l->obj.lock);
	TANGLE_DBG(if (DBG_LOAD(l->obj.handed_to) == t->id)
		DBG_STORE(l->obj.handed_to, 0));
	if (pass) {
		drop(l, write);
		tangle__spin_unlock(&l->obj.lock);
		return err;
	}
	counted(l);
	tangle__spin_unlock(&l->obj.lock);
	claimed(l, t, write, site);
	return TANGLE_OK;
}

int tangle_rwlock_read_at(tangle_rwlock *l, int64_t timeout_ms,
                          const tangle_site *site)
{
	return acquire(l, false, timeout_ms, site);
}

int tangle_rwlock_write_at(tangle_rwlock *l, int64_t timeout_ms,
                           const tangle_site *site)
{
	return acquire(l, true, timeout_ms, site);
}

static int try_acquire(tangle_rwlock *pl, bool write, const tangle_site *site)
{
	if (!pl)
		return TANGLE_EINVAL;
	struct rwlock *l = L(pl);
	struct tangle_task *t = tangle__current();
	if (!t)
		return TANGLE_ENOTASK;
	tangle__spin_lock(&l->obj.lock);
	bool ok = take_now(l, t, write);
	tangle__spin_unlock(&l->obj.lock);
	if (!ok)
		return TANGLE_EAGAIN;
	claimed(l, t, write, site);
	return TANGLE_OK;
}

int tangle_rwlock_try_read_at(tangle_rwlock *l, const tangle_site *site)
{
	return try_acquire(l, false, site);
}

int tangle_rwlock_try_write_at(tangle_rwlock *l, const tangle_site *site)
{
	return try_acquire(l, true, site);
}

/* Whether t's debug record lists a read hold on l (or may have lost it to
 * an overflowing hold list). Without the table: assume so. */
static bool holds_read(const struct tangle_task *t, const struct rwlock *l)
{
#if TANGLE_DEBUG_TABLE
	if (t->hold_overflow)
		return true;
	for (unsigned i = 0; i < t->hold_count && i < TANGLE_HOLDS_MAX; i++)
		if (t->holds[i].object == l &&
		    t->holds[i].mode == TANGLE_DEBUG_HOLD_SHARED)
			return true;
	return false;
#else
	(void)t; (void)l;
	return true;
#endif
}

int tangle_rwlock_unlock(tangle_rwlock *pl)
{
	if (!pl)
		return TANGLE_EINVAL;
	struct rwlock *l = L(pl);
	struct tangle_task *t = tangle__current();
	if (!t)
		return TANGLE_ENOTASK;
	tangle__spin_lock(&l->obj.lock);
	bool write = l->writer == t;
	if (!write && (!l->readers || !holds_read(t, l))) {
		tangle__spin_unlock(&l->obj.lock);
		return TANGLE_ENOTOWNER;
	}
	if (write)
		tangle__object_released(&l->obj);
	drop(l, write);
	tangle__spin_unlock(&l->obj.lock);
	TANGLE_DBG(tangle__hold_remove(l, write ? TANGLE_DEBUG_HOLD_EXCLUSIVE
	                                        : TANGLE_DEBUG_HOLD_SHARED, 1));
	return TANGLE_OK;
}
