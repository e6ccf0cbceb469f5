/*
 * chan.c — multi-producer multi-consumer channels, bounded or unbounded.
 *
 * State, under the object's spinlock: a ring buffer of `len` values from
 * `head`, the senders blocked on a full channel (obj.waiters, each with a
 * pointer to its value), the receivers blocked on an empty one
 * (obj.waiters2, each with a pointer to its slot), and `closed`.
 * Invariants:
 *  - receivers wait only while the buffer is empty, and senders only while
 *    a bounded buffer is full (an unbounded one grows instead);
 *  - a send first hands its value straight to the head receiver, a receive
 *    takes the oldest value and refills the buffer from the head sender, so
 *    values leave in the order they were sent (FIFO per sender, and across
 *    senders in the order their sends completed or queued);
 *  - a value moves exactly once: the granter copies it under the lock and
 *    grants the waiter, which then only returns. For a plain waiter the copy
 *    comes before the grant (the waiter may return at once); a select waiter
 *    is claimed first (tangle__waiter_grant fails if another of its
 *    operations won) and copied after, which is safe because the select
 *    relocks every one of its channels before it returns;
 *  - close grants every waiter CLOSED: senders fail at once, receivers (the
 *    buffer is empty while they wait) too; later receivers drain the buffer
 *    first, then get ECLOSED.
 */
#include "chan.h"
#include "scheduler.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define UNBOUNDED_FIRST_SLOTS 16

static void set_len(struct tangle_chan *ch, size_t n)
{
	__atomic_store_n(&ch->len, n, __ATOMIC_RELAXED);
	TANGLE_DBG(DBG_STORE(ch->obj.value, (int64_t)n));
}

/* Copy one value; word-sized values (the common case) without a call. */
static inline void copy(const struct tangle_chan *ch, void *dst, const void *src)
{
	switch (ch->elem_size) {
	case 4: memcpy(dst, src, 4); break;
	case 8: memcpy(dst, src, 8); break;
	case 16: memcpy(dst, src, 16); break;
	default: memcpy(dst, src, ch->elem_size); break;
	}
}

static inline unsigned char *slot(struct tangle_chan *ch, size_t i)
{
	if (i >= ch->slots)
		i -= ch->slots;
	return ch->buf + i * ch->elem_size;
}

/* Record a transfer (under the lock): a value from task `from` reached
 * task `to` (ids; 0 = a plain thread). Stored whatever they are: a test
 * would cost more than the store. */
static inline void transferred(struct tangle_chan *ch, uint64_t from,
                               uint64_t to)
{
	(void)ch; (void)from; (void)to;
	TANGLE_DBG({
		DBG_STORE(ch->obj.last_sender, from);
		DBG_STORE(ch->obj.last_receiver, to);
		DBG_INC(ch->obj.acquisitions);
	});
}

/* The same for a value taken out of the buffer (its sender is recorded). */
static inline void received(struct tangle_chan *ch, uint64_t to)
{
	(void)ch; (void)to;
	TANGLE_DBG({
		DBG_STORE(ch->obj.last_receiver, to);
		DBG_INC(ch->obj.acquisitions);
	});
}

static bool grow(struct tangle_chan *ch)
{
	size_t slots = ch->slots ? ch->slots * 2 : UNBOUNDED_FIRST_SLOTS;
	if (slots > SIZE_MAX / ch->elem_size)
		return false;
	unsigned char *buf = malloc(slots * ch->elem_size);
	if (!buf)
		return false;
	for (size_t i = 0; i < ch->len; i++)
		memcpy(buf + i * ch->elem_size, slot(ch, ch->head + i),
		       ch->elem_size);
	free(ch->buf);
	ch->buf = buf;
	ch->slots = slots;
	ch->head = 0;
	return true;
}

const uint64_t tangle__thread_id = 0;

int tangle__chan_send_locked(struct tangle_chan *ch, const void *value,
                             const uint64_t *self)
{
	if (ch->closed)
		return TANGLE_ECLOSED;
	struct tangle_waiter *r;
	while ((r = ch->obj.waiters2.head) != NULL) {
		tangle__waitq_remove(&ch->obj.waiters2, r);
		uint64_t to = r->task->id; /* r is not ours once granted */
		if (r->select) {
			void *out = r->value;
			if (!tangle__waiter_grant(r, TANGLE_DEBUG_WAITER_GRANTED))
				continue;
			copy(ch, out, value);
		} else {
			copy(ch, r->value, value);
			tangle__waiter_grant(r, TANGLE_DEBUG_WAITER_GRANTED);
		}
		transferred(ch, *self, to);
		return TANGLE_OK;
	}
	if (ch->len == ch->slots) {
		if (ch->cap)
			return TANGLE_EAGAIN;
		if (!grow(ch))
			return TANGLE_ENOMEM;
	}
	copy(ch, slot(ch, ch->head + ch->len), value);
	set_len(ch, ch->len + 1);
	TANGLE_DBG(DBG_STORE(ch->obj.last_sender, *self));
	return TANGLE_OK;
}

/* Move the head sender's value into the buffer's free slot. */
static void refill(struct tangle_chan *ch)
{
	struct tangle_waiter *s;
	while ((s = ch->obj.waiters.head) != NULL) {
		tangle__waitq_remove(&ch->obj.waiters, s);
		unsigned char *dst = slot(ch, ch->head + ch->len);
		uint64_t from = s->task->id; /* s is not ours once granted */
		if (s->select) {
			const void *src = s->value;
			if (!tangle__waiter_grant(s, TANGLE_DEBUG_WAITER_GRANTED))
				continue;
			copy(ch, dst, src);
		} else {
			copy(ch, dst, s->value);
			tangle__waiter_grant(s, TANGLE_DEBUG_WAITER_GRANTED);
		}
		set_len(ch, ch->len + 1);
		TANGLE_DBG(DBG_STORE(ch->obj.last_sender, from));
		(void)from;
		return;
	}
}

int tangle__chan_recv_locked(struct tangle_chan *ch, void *out,
                             const uint64_t *self)
{
	if (ch->len) {
		copy(ch, out, slot(ch, ch->head));
		ch->head = ch->head + 1 == ch->slots ? 0 : ch->head + 1;
		set_len(ch, ch->len - 1);
		received(ch, *self);
		refill(ch);
		return TANGLE_OK;
	}
	if (ch->closed)
		return TANGLE_ECLOSED;
	return TANGLE_EAGAIN;
}

tangle_chan *tangle_chan_new_at(size_t elem_size, size_t capacity,
                                const char *name, const tangle_site *site)
{
	if (elem_size == 0 ||
	    (capacity && capacity > (SIZE_MAX - sizeof(struct tangle_chan)) /
	                            elem_size)) {
		errno = EINVAL;
		return NULL;
	}
	size_t bytes = sizeof(struct tangle_chan) + capacity * elem_size;
	struct tangle_chan *ch = malloc(bytes);
	if (!ch) {
		errno = ENOMEM;
		return NULL;
	}
	memset(ch, 0, sizeof *ch);
	tangle__waitq_init(&ch->obj.waiters, &ch->obj.lock, NULL);
	tangle__waitq_init(&ch->obj.waiters2, &ch->obj.lock, NULL);
	ch->elem_size = elem_size;
	ch->cap = capacity;
	if (capacity) {
		ch->buf = (unsigned char *)(ch + 1);
		ch->slots = capacity;
	}
	ch->obj.capacity = (int64_t)capacity;
	ch->obj.elem_size = elem_size;
	tangle__object_register(&ch->obj, TANGLE_DEBUG_OBJ_CHAN, name, site);
	if (!capacity)
		atomic_store_explicit(&ch->obj.flags, TANGLE_DEBUG_OBJF_UNBOUNDED,
		                      memory_order_relaxed);
	return ch;
}

int tangle_chan_free(tangle_chan *ch)
{
	if (!ch)
		return TANGLE_EINVAL;
	tangle__spin_lock(&ch->obj.lock);
	bool busy = ch->obj.waiters.head || ch->obj.waiters2.head;
	tangle__spin_unlock(&ch->obj.lock);
	if (busy)
		return TANGLE_EBUSY;
	tangle__object_unregister(&ch->obj);
	if (!ch->cap)
		free(ch->buf);
	free(ch);
	return TANGLE_OK;
}

int tangle_chan_close(tangle_chan *ch)
{
	if (!ch)
		return TANGLE_EINVAL;
	tangle__spin_lock(&ch->obj.lock);
	if (ch->closed) {
		tangle__spin_unlock(&ch->obj.lock);
		return TANGLE_ECLOSED;
	}
	ch->closed = true;
	atomic_fetch_or_explicit(&ch->obj.flags, TANGLE_DEBUG_OBJF_CLOSED,
	                         memory_order_relaxed);
	struct tangle_waiter *w;
	while ((w = ch->obj.waiters.head) != NULL) {
		tangle__waitq_remove(&ch->obj.waiters, w);
		tangle__waiter_grant(w, TANGLE_DEBUG_WAITER_CLOSED);
	}
	while ((w = ch->obj.waiters2.head) != NULL) {
		tangle__waitq_remove(&ch->obj.waiters2, w);
		tangle__waiter_grant(w, TANGLE_DEBUG_WAITER_CLOSED);
	}
	tangle__spin_unlock(&ch->obj.lock);
	return TANGLE_OK;
}

static inline const uint64_t *self_id(void)
{
	struct tangle_worker *wk = tangle__worker_self();
	return wk && wk->current ? &wk->current->id : &tangle__thread_id;
}

/* A blocking send or receive: try now, else queue and wait. */
static int op(tangle_chan *ch, void *value, bool send, int64_t timeout_ms,
              const tangle_site *site)
{
	if (unlikely(!ch || !value))
		return TANGLE_EINVAL;
	struct tangle_worker *wk = tangle__worker_self();
	struct tangle_task *t = wk ? wk->current : NULL;
	if (unlikely(!t))
		return TANGLE_ENOTASK;
	if (unlikely(atomic_load_explicit(&t->flags, memory_order_relaxed) &
	             TANGLE_DEBUG_TASKF_CANCEL_REQUESTED))
		return TANGLE_ECANCELED;
	/* The site now, for the wait below if there is one: kept until then
	 * it would hold a register across the calls in between, which costs
	 * more than this store (WAIT is read only while the task waits). */
	TANGLE_DBG(t->wait.site = site);
	(void)site;
	int err;
	tangle__spin_lock(&ch->obj.lock);
	err = send ? tangle__chan_send_locked(ch, value, &t->id)
	           : tangle__chan_recv_locked(ch, value, &t->id);
	if (err != TANGLE_EAGAIN || timeout_ms == 0) {
		tangle__spin_unlock(&ch->obj.lock);
		return err == TANGLE_EAGAIN ? TANGLE_ETIMEDOUT : err;
	}
	struct tangle_waiter *w = tangle__waiter_begin_unsited(
		TANGLE_DEBUG_WAIT_CHAN,
		send ? TANGLE_DEBUG_OP_SEND : TANGLE_DEBUG_OP_RECV, ch, 0,
		timeout_ms);
	w->value = value;
	tangle__waitq_push(send ? &ch->obj.waiters : &ch->obj.waiters2, w);
	TANGLE_DBG(DBG_INC(ch->obj.contentions));
	tangle__spin_unlock(&ch->obj.lock);

	switch (tangle__waiter_wait(w)) {
	case TANGLE_DEBUG_WAITER_GRANTED:
		return TANGLE_OK;
	case TANGLE_DEBUG_WAITER_CLOSED:
		return TANGLE_ECLOSED;
	case TANGLE_DEBUG_WAITER_TIMEDOUT:
		return TANGLE_ETIMEDOUT;
	default:
		return TANGLE_ECANCELED;
	}
}

int tangle_chan_send_at(tangle_chan *ch, const void *value, int64_t timeout_ms,
                        const tangle_site *site)
{
	return op(ch, (void *)(uintptr_t)value, true, timeout_ms, site);
}

int tangle_chan_recv_at(tangle_chan *ch, void *out, int64_t timeout_ms,
                        const tangle_site *site)
{
	return op(ch, out, false, timeout_ms, site);
}

int tangle_chan_try_send(tangle_chan *ch, const void *value)
{
	if (!ch || !value)
		return TANGLE_EINVAL;
	const uint64_t *self = self_id();
	tangle__spin_lock(&ch->obj.lock);
	int err = tangle__chan_send_locked(ch, value, self);
	tangle__spin_unlock(&ch->obj.lock);
	return err;
}

int tangle_chan_try_recv(tangle_chan *ch, void *out)
{
	if (!ch || !out)
		return TANGLE_EINVAL;
	const uint64_t *self = self_id();
	tangle__spin_lock(&ch->obj.lock);
	int err = tangle__chan_recv_locked(ch, out, self);
	tangle__spin_unlock(&ch->obj.lock);
	return err;
}

size_t tangle_chan_len(const tangle_chan *ch)
{
	return ch ? __atomic_load_n(&ch->len, __ATOMIC_RELAXED) : 0;
}
