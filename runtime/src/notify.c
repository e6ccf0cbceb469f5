/*
 * notify.c — wake one or all waiting tasks, with one stored permit.
 *
 * State, under the object's spinlock:
 *   permit    1 when a notify_one found nobody waiting (the record's value);
 *             the next wait consumes it and returns at once
 *   waiters   tasks in notify_wait, in arrival order
 * Invariant: permit == 1 implies nobody waits. notify_one grants the head
 * waiter (GRANTED: it carries the one notification) or stores the permit;
 * notify_all wakes every current waiter (WOKEN) and stores nothing.
 * A waiter granted by notify_one that turns out cancelled or late passes
 * the notification on (notify_one again), so none is lost.
 */
#include "scheduler.h"

#include <string.h>

struct notify {
	struct tangle_object obj;        /* first: the debug record */
	bool permit;
};

_Static_assert(sizeof(struct notify) <= TANGLE_OBJECT_STORAGE,
               "struct notify must fit in tangle_notify");
_Static_assert(_Alignof(struct notify) <= _Alignof(tangle_notify),
               "struct notify alignment");

static inline struct notify *N(tangle_notify *n)
{
	return (struct notify *)(void *)n;
}

static void set_permit(struct notify *n, bool v)
{
	n->permit = v;
	TANGLE_DBG(DBG_STORE(n->obj.value, (int64_t)v));
}

/* A wake-up delivered (a permit taken or a waiter woken), under the
 * lock. */
static inline void counted(struct notify *n)
{
	(void)n;
	TANGLE_DBG(DBG_INC(n->obj.acquisitions));
}

int tangle_notify_init_at(tangle_notify *pn, const char *name,
                          const tangle_site *site)
{
	if (!pn)
		return TANGLE_EINVAL;
	struct notify *n = N(pn);
	memset(n, 0, sizeof *n);
	tangle__waitq_init(&n->obj.waiters, &n->obj.lock, NULL);
	tangle__waitq_init(&n->obj.waiters2, &n->obj.lock, NULL);
	tangle__object_register(&n->obj, TANGLE_DEBUG_OBJ_NOTIFY, name, site);
	return TANGLE_OK;
}

int tangle_notify_destroy(tangle_notify *pn)
{
	if (!pn)
		return TANGLE_EINVAL;
	struct notify *n = N(pn);
	tangle__spin_lock(&n->obj.lock);
	bool busy = n->obj.waiters.head != NULL;
	tangle__spin_unlock(&n->obj.lock);
	if (busy)
		return TANGLE_EBUSY;
	tangle__object_unregister(&n->obj);
	return TANGLE_OK;
}

int tangle_notify_wait_at(tangle_notify *pn, int64_t timeout_ms,
                          const tangle_site *site)
{
	if (!pn)
		return TANGLE_EINVAL;
	struct notify *n = N(pn);
	int err = tangle__wait_check();
	if (err)
		return err;
	tangle__spin_lock(&n->obj.lock);
	if (n->permit) {
		set_permit(n, false);
		counted(n);
		tangle__spin_unlock(&n->obj.lock);
		return TANGLE_OK;
	}
	if (timeout_ms == 0) {
		tangle__spin_unlock(&n->obj.lock);
		return TANGLE_ETIMEDOUT;
	}
	struct tangle_waiter *w = tangle__waiter_begin(
		TANGLE_DEBUG_WAIT_NOTIFY, TANGLE_DEBUG_OP_WAIT, n, 0, timeout_ms,
		site);
	tangle__waitq_push(&n->obj.waiters, w);
	TANGLE_DBG(DBG_INC(n->obj.contentions));
	tangle__spin_unlock(&n->obj.lock);

	uint8_t state = tangle__waiter_wait(w);
	switch (state) {
	case TANGLE_DEBUG_WAITER_GRANTED:
		if (tangle__waiter_must_pass_on(w, &err)) {
			tangle_notify_one(pn);
			return err;
		}
		break;
	case TANGLE_DEBUG_WAITER_WOKEN:
		break;
	case TANGLE_DEBUG_WAITER_TIMEDOUT:
		return TANGLE_ETIMEDOUT;
	default:
		return TANGLE_ECANCELED;
	}
	return TANGLE_OK;
}

int tangle_notify_one(tangle_notify *pn)
{
	if (!pn)
		return TANGLE_EINVAL;
	struct notify *n = N(pn);
	tangle__spin_lock(&n->obj.lock);
	struct tangle_waiter *w = n->obj.waiters.head;
	if (w) {
		tangle__waitq_remove(&n->obj.waiters, w);
		counted(n);
		tangle__waiter_grant(w, TANGLE_DEBUG_WAITER_GRANTED);
	} else {
		set_permit(n, true);
	}
	tangle__spin_unlock(&n->obj.lock);
	return TANGLE_OK;
}

int tangle_notify_all(tangle_notify *pn)
{
	if (!pn)
		return TANGLE_EINVAL;
	struct notify *n = N(pn);
	tangle__spin_lock(&n->obj.lock);
	struct tangle_waiter *w;
	while ((w = n->obj.waiters.head) != NULL) {
		tangle__waitq_remove(&n->obj.waiters, w);
		counted(n);
		tangle__waiter_grant(w, TANGLE_DEBUG_WAITER_WOKEN);
	}
	tangle__spin_unlock(&n->obj.lock);
	return TANGLE_OK;
}
