/*
 * select.c — wait for the first of several channel operations.
 *
 * One select resolves exactly once:
 *  1. With every channel locked (in address order, each once), the ops are
 *     tried in index order; the first that can complete now (a value moved,
 *     or ECLOSED) is the result.
 *  2. Otherwise one waiter per op, on the task's stack and sharing one
 *     tangle_select_group, is queued on its channel, and the channels are
 *     unlocked. The task's inline waiter says SELECT (for the tools).
 *  3. A granter on any channel claims the group with
 *     tangle__waiter_grant (a CAS on group.winner); a losing grant fails
 *     and the granter drops that waiter and serves someone else. The
 *     winner's value is copied by its granter under its channel's lock.
 *  4. The task sleeps until the group has a winner, it is cancelled or its
 *     deadline passes; then it relocks every channel, which both waits out
 *     the winner's copy and removes the waiters still queued. After that no
 *     grant can happen: the winner (or none: ETIMEDOUT / ECANCELED) is final.
 *  The inline waiter's select points to the group (and so to the arms)
 *  exactly while arms may be queued: tangle_runtime_free uses it to take
 *  an abandoned task's arms out of their channels.
 */
#include "chan.h"
#include "scheduler.h"

static bool cancelled(const struct tangle_task *t)
{
	return atomic_load_explicit(&t->flags, memory_order_acquire) &
	       TANGLE_DEBUG_TASKF_CANCEL_REQUESTED;
}

/* The distinct channels of ops, in address order. */
static size_t sorted_chans(const tangle_select_op *ops, size_t n,
                           struct tangle_chan **out)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		struct tangle_chan *c = ops[i].chan;
		size_t j = m;
		while (j > 0 && (uintptr_t)out[j - 1] > (uintptr_t)c)
			j--;
		if (j > 0 && out[j - 1] == c)
			continue;
		for (size_t k = m; k > j; k--)
			out[k] = out[k - 1];
		out[j] = c;
		m++;
	}
	return m;
}

static void lock_all(struct tangle_chan **chans, size_t m)
{
	for (size_t i = 0; i < m; i++)
		tangle__spin_lock(&chans[i]->obj.lock);
}

static void unlock_all(struct tangle_chan **chans, size_t m)
{
	for (size_t i = m; i-- > 0;)
		tangle__spin_unlock(&chans[i]->obj.lock);
}

static int try_op(tangle_select_op *op, const uint64_t *self)
{
	return op->kind == TANGLE_SELECT_SEND
	               ? tangle__chan_send_locked(op->chan, op->value, self)
	               : tangle__chan_recv_locked(op->chan, op->value, self);
}

/* Sleep until the group is claimed, the task is cancelled or the deadline
 * passes. */
static void sleep_on(struct tangle_select_group *g, struct tangle_task *t,
                     uint64_t deadline)
{
	bool armed = false;
	while (!atomic_load_explicit(&g->winner, memory_order_acquire)) {
		if (cancelled(t))
			break;
		if (deadline) {
			if (tangle__clock_precise() >= deadline)
				break;
			if (!armed) {
				tangle__timer_arm(t, deadline);
				armed = true;
			}
		}
		tangle__suspend();
		if (!atomic_load_explicit(&g->winner, memory_order_acquire))
			tangle__resumed_fence();
	}
	if (armed)
		tangle__timer_disarm(t);
}

int tangle_select_at(tangle_select_op *ops, size_t n, int64_t timeout_ms,
                     const tangle_site *site)
{
	if (!ops || n == 0 || n > TANGLE_SELECT_MAX)
		return TANGLE_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!ops[i].chan || !ops[i].value ||
		    (ops[i].kind != TANGLE_SELECT_SEND &&
		     ops[i].kind != TANGLE_SELECT_RECV))
			return TANGLE_EINVAL;
	int err = tangle__wait_check();
	if (err)
		return err;
	struct tangle_task *t = tangle__current();
	struct tangle_chan *chans[TANGLE_SELECT_MAX];
	size_t m = sorted_chans(ops, n, chans);

	lock_all(chans, m);
	for (size_t i = 0; i < n; i++) {
		int r = try_op(&ops[i], &t->id);
		if (r == TANGLE_EAGAIN)
			continue;
		unlock_all(chans, m);
		if (r == TANGLE_ENOMEM)
			return r;
		ops[i].result = r;
		return (int)i;
	}
	if (timeout_ms == 0) {
		unlock_all(chans, m);
		return TANGLE_ETIMEDOUT;
	}

	struct tangle_select_group group;
	atomic_init(&group.winner, NULL);
	struct tangle_waiter *self = tangle__waiter_begin(
		TANGLE_DEBUG_WAIT_SELECT, TANGLE_DEBUG_OP_SELECT, NULL, (uint32_t)n,
		timeout_ms, site);
	self->select = &group;
	struct tangle_waiter ws[TANGLE_SELECT_MAX];
	group.arms = ws;
	group.narms = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		bool send = ops[i].kind == TANGLE_SELECT_SEND;
		struct tangle_chan *c = ops[i].chan;
		tangle__waiter_init(&ws[i], TANGLE_DEBUG_WAIT_CHAN,
		                    send ? TANGLE_DEBUG_OP_SEND : TANGLE_DEBUG_OP_RECV,
		                    c, 0, self->deadline, site);
		ws[i].select = &group;
		ws[i].value = ops[i].value;
		tangle__waitq_push(send ? &c->obj.waiters : &c->obj.waiters2, &ws[i]);
		TANGLE_DBG(DBG_STORE(c->obj.contentions,
		                     DBG_LOAD(c->obj.contentions) + 1));
	}
	unlock_all(chans, m);

	sleep_on(&group, t, self->deadline);

	lock_all(chans, m);
	for (size_t i = 0; i < n; i++) {
		struct tangle_waitq *q = __atomic_load_n(&ws[i].queue, __ATOMIC_ACQUIRE);
		if (q)
			tangle__waitq_remove(q, &ws[i]);
	}
	struct tangle_waiter *win =
		atomic_load_explicit(&group.winner, memory_order_acquire);
	unlock_all(chans, m);
	self->select = NULL; /* out of every queue: nothing for the free to drop */

	if (!win) {
		bool c = cancelled(t);
		atomic_store_explicit(&self->state,
		                      c ? TANGLE_DEBUG_WAITER_CANCELLED
		                        : TANGLE_DEBUG_WAITER_TIMEDOUT,
		                      memory_order_relaxed);
		return c ? TANGLE_ECANCELED : TANGLE_ETIMEDOUT;
	}
	uint8_t state = atomic_load_explicit(&win->state, memory_order_acquire);
	self->granted_at = win->granted_at;
	atomic_store_explicit(&self->state, state, memory_order_relaxed);
	size_t i = (size_t)(win - ws);
	ops[i].result = state == TANGLE_DEBUG_WAITER_CLOSED ? TANGLE_ECLOSED
	                                                    : TANGLE_OK;
	return (int)i;
}
