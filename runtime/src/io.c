/*
 * io.c — tangle_io_wait and tangle_io_close: fd readiness through the
 * runtime's epoll, any number of waiting tasks per fd.
 *
 * Each fd number has one registration (struct tangle_io_reg), made on its
 * first wait and kept until the runtime is freed (so that a late epoll
 * event's data pointer is always valid). A registration holds the fd's
 * waiters in one fair queue (wait.c) under its lock; each waiter is the
 * task's inline waiter, with the events it asked for in w->result while it
 * waits and the events it got once woken.
 *
 * Invariants
 *  - The fd is in the epoll set with EPOLLONESHOT and the union of its
 *    waiters' events: every new waiter re-arms it (one epoll_ctl), and the
 *    driver re-arms it after an event for the waiters still there. So
 *    readiness is level-triggered from the waiters' point of view, and a
 *    stale registration (the fd was closed and its number reused) is found
 *    on the next epoll_ctl (ENOENT/EBADF) rather than trusted.
 *  - An event wakes the waiters that asked for one of its events; EPOLLHUP
 *    and EPOLLERR wake every waiter. A closed fd (tangle_io_close, or found
 *    closed when re-arming) wakes every waiter with TANGLE_ECLOSED.
 *  - A waiter leaves the queue either granted (by the driver or a close,
 *    under the lock) or by its own timeout or cancellation (wait.c).
 *    Registrations left armed by a waiter that gave up produce at most one
 *    spurious event, ignored.
 *  - Readiness may be spurious (an event from before a wait can arrive
 *    late): callers retry on EAGAIN, as with any readiness API.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "scheduler.h"

#define IO_CHUNK 64u                         /* registrations per chunk */
#define IO_MAX_FD (1u << 20)                 /* fds the table can hold */
#define IO_CHUNKS (IO_MAX_FD / IO_CHUNK)
#define IO_EVENTS (EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP)
#define IO_ALWAYS (EPOLLHUP | EPOLLERR)      /* reported whatever was asked */

struct tangle_io_reg {
	tangle_spinlock lock;
	int fd;
	bool registered;                     /* in the epoll set, as far as we know */
	struct tangle_waitq waiters;         /* tasks in tangle_io_wait on fd */
};

struct tangle_io_chunk {
	struct tangle_io_reg regs[IO_CHUNK];
};

/* The registration of fd, created if `create`; NULL if there is none (or
 * no memory). Lock-free: the table and its chunks are installed by CAS
 * and never move. */
static struct tangle_io_reg *reg_get(struct tangle_runtime *rt, int fd, bool create)
{
	struct tangle_io_chunk *_Atomic *table =
		atomic_load_explicit(&rt->io_table, memory_order_acquire);
	if (!table) {
		if (!create)
			return NULL;
		struct tangle_io_chunk *_Atomic *fresh = calloc(IO_CHUNKS, sizeof *fresh);
		if (!fresh)
			return NULL;
		if (!atomic_compare_exchange_strong(&rt->io_table, &table, fresh))
			free(fresh); /* somebody else's won; table holds it */
		else
			table = fresh;
	}
	unsigned c = (unsigned)fd / IO_CHUNK;
	struct tangle_io_chunk *chunk = atomic_load_explicit(&table[c], memory_order_acquire);
	if (!chunk) {
		if (!create)
			return NULL;
		struct tangle_io_chunk *fresh = calloc(1, sizeof *fresh);
		if (!fresh)
			return NULL;
		for (unsigned i = 0; i < IO_CHUNK; i++) {
			struct tangle_io_reg *r = &fresh->regs[i];
			r->fd = (int)(c * IO_CHUNK + i);
			tangle__waitq_init(&r->waiters, &r->lock, NULL);
		}
		if (!atomic_compare_exchange_strong(&table[c], &chunk, fresh))
			free(fresh);
		else
			chunk = fresh;
	}
	return &chunk->regs[(unsigned)fd % IO_CHUNK];
}

void tangle__io_free(struct tangle_runtime *rt)
{
	struct tangle_io_chunk *_Atomic *table = atomic_load(&rt->io_table);
	if (!table)
		return;
	for (unsigned c = 0; c < IO_CHUNKS; c++)
		free(atomic_load_explicit(&table[c], memory_order_relaxed));
	free(table);
	atomic_store(&rt->io_table, NULL);
}

/* ---- Under the registration's lock ----------------------------------------- */

static uint32_t interest(const struct tangle_io_reg *r)
{
	uint32_t want = 0;
	for (const struct tangle_waiter *w = r->waiters.head; w; w = w->next)
		want |= (uint32_t)w->result;
	return want;
}

/* Wake, except `keep`, the waiters that asked for one of `events` (all of
 * them for HUP or ERR, or when state is CLOSED), each with the events it
 * asked for that happened. */
static void wake_waiters(struct tangle_io_reg *r, uint32_t events, uint8_t state,
                         const struct tangle_waiter *keep)
{
	bool all = state == TANGLE_DEBUG_WAITER_CLOSED || (events & IO_ALWAYS);
	struct tangle_waiter *w = r->waiters.head, *next;
	for (; w; w = next) {
		next = w->next;
		uint32_t want = (uint32_t)w->result;
		if (w == keep || !(all || (want & events)))
			continue;
		tangle__waitq_remove(&r->waiters, w);
		w->result = (int)(events & (want | IO_ALWAYS));
		tangle__waiter_grant(w, state);
	}
}

/* epoll_ctl failed with e for r's waiters but `keep`: if the fd is gone
 * (EBADF, or a regular file got its number: EPERM), they are woken CLOSED;
 * for anything else (ENOMEM, ENOSPC) they are woken as if ready, and find
 * out when they retry. */
static void arm_failed(struct tangle_io_reg *r, int e, const struct tangle_waiter *keep)
{
	if (e == EBADF || e == EPERM)
		wake_waiters(r, 0, TANGLE_DEBUG_WAITER_CLOSED, keep);
	else
		wake_waiters(r, IO_EVENTS, TANGLE_DEBUG_WAITER_WOKEN, keep);
}

enum { ARM_OK, ARM_ALWAYS_READY, ARM_FAILED };

/* Arm the fd for the union of its waiters' events (at least one waiter).
 * A registration that vanished means the file it watched was closed: its
 * old waiters (all but `fresh`, the one just queued) are woken CLOSED.
 * When it fails, every waiter but `fresh` is woken (arm_failed) and errno
 * says why (EBADF: fd not open; EPERM: a regular file, always ready). */
static int arm(struct tangle_runtime *rt, struct tangle_io_reg *r,
               const struct tangle_waiter *fresh)
{
	struct epoll_event ev = {.events = interest(r) | EPOLLONESHOT, .data.ptr = r};
	int op = r->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	for (int tries = 0; tries < 3; tries++) {
		if (epoll_ctl(rt->epfd, op, r->fd, &ev) == 0) {
			r->registered = true;
			return ARM_OK;
		}
		int e = errno;
		if (op == EPOLL_CTL_MOD && e == ENOENT) {
			/* The watched file was closed; the number is reused. */
			r->registered = false;
			wake_waiters(r, 0, TANGLE_DEBUG_WAITER_CLOSED, fresh);
			if (!r->waiters.head)
				return ARM_OK;
			ev.events = interest(r) | EPOLLONESHOT;
			op = EPOLL_CTL_ADD;
			continue;
		}
		if (op == EPOLL_CTL_ADD && e == EEXIST) {
			op = EPOLL_CTL_MOD;
			continue;
		}
		r->registered = false;
		arm_failed(r, e, fresh);
		errno = e;
		return e == EPERM ? ARM_ALWAYS_READY : ARM_FAILED;
	}
	arm_failed(r, EAGAIN, fresh);
	errno = EAGAIN;
	return ARM_FAILED;
}

/* The driver got `events` for r (its one-shot arm fired). */
void tangle__io_ready(struct tangle_runtime *rt, struct tangle_io_reg *r,
                      uint32_t events)
{
	tangle__spin_lock(&r->lock);
	wake_waiters(r, events, TANGLE_DEBUG_WAITER_WOKEN, NULL);
	if (r->waiters.head)
		arm(rt, r, NULL); /* on failure it woke them all */
	tangle__spin_unlock(&r->lock);
}

/* ---- Public API ---------------------------------------------------------------- */

int tangle_io_wait_at(int fd, uint32_t events, int64_t timeout_ms,
                      uint32_t *revents, const tangle_site *site)
{
	int err = tangle__wait_check();
	if (err)
		return err;
	if (fd < 0 || (unsigned)fd >= IO_MAX_FD || !(events & IO_EVENTS))
		return TANGLE_EINVAL;
	events &= IO_EVENTS;
	if (timeout_ms == 0) {
		/* Poll: what the fd is ready for now, without waiting. */
		struct pollfd p = {.fd = fd, .events = (short)events};
		int n = poll(&p, 1, 0);
		if (n < 0)
			return TANGLE_ESYSTEM;
		if (n == 0)
			return TANGLE_ETIMEDOUT;
		if (p.revents & POLLNVAL) {
			errno = EBADF;
			return TANGLE_ESYSTEM;
		}
		if (revents)
			*revents = (uint32_t)p.revents;
		return TANGLE_OK;
	}
	struct tangle_task *t = tangle__current();
	struct tangle_runtime *rt = t->rt;
	struct tangle_io_reg *r = reg_get(rt, fd, true);
	if (!r)
		return TANGLE_ENOMEM;
	uint8_t op = (events & EPOLLIN) && (events & EPOLLOUT) ? TANGLE_DEBUG_OP_IO_RW
	             : (events & EPOLLOUT)                    ? TANGLE_DEBUG_OP_IO_WRITE
	                                                      : TANGLE_DEBUG_OP_IO_READ;
	struct tangle_waiter *w = tangle__waiter_begin(
		TANGLE_DEBUG_WAIT_IO, op, NULL, (uint32_t)fd, timeout_ms, site);
	w->result = (int)events;

	tangle__spin_lock(&r->lock);
	tangle__waitq_push(&r->waiters, w);
	int armed = arm(rt, r, w);
	if (armed != ARM_OK) {
		tangle__waitq_remove(&r->waiters, w);
		tangle__spin_unlock(&r->lock);
		int e = errno;
		atomic_store_explicit(&w->state, TANGLE_DEBUG_WAITER_NONE,
		                      memory_order_relaxed);
		if (armed == ARM_ALWAYS_READY) { /* a regular file */
			if (revents)
				*revents = events & (EPOLLIN | EPOLLOUT);
			return TANGLE_OK;
		}
		errno = e;
		return TANGLE_ESYSTEM;
	}
	tangle__spin_unlock(&r->lock);

	atomic_fetch_add_explicit(&rt->io_waiters, 1, memory_order_relaxed);
	uint8_t s = tangle__waiter_wait(w);
	atomic_fetch_sub_explicit(&rt->io_waiters, 1, memory_order_relaxed);
	switch (s) {
	case TANGLE_DEBUG_WAITER_WOKEN:
		if (revents)
			*revents = (uint32_t)w->result;
		return TANGLE_OK;
	case TANGLE_DEBUG_WAITER_CLOSED:
		return TANGLE_ECLOSED;
	case TANGLE_DEBUG_WAITER_TIMEDOUT:
		return TANGLE_ETIMEDOUT;
	default:
		return TANGLE_ECANCELED;
	}
}

/* Wake fd's waiters in rt with CLOSED and take it out of rt's epoll set. */
static void close_in(struct tangle_runtime *rt, void *arg)
{
	int fd = *(int *)arg;
	struct tangle_io_reg *r = reg_get(rt, fd, false);
	if (!r)
		return;
	tangle__spin_lock(&r->lock);
	wake_waiters(r, 0, TANGLE_DEBUG_WAITER_CLOSED, NULL);
	if (r->registered)
		epoll_ctl(rt->epfd, EPOLL_CTL_DEL, fd, NULL);
	r->registered = false;
	tangle__spin_unlock(&r->lock);
}

int tangle_io_close(int fd)
{
	if (fd < 0)
		return TANGLE_EINVAL;
	if ((unsigned)fd < IO_MAX_FD)
		tangle__runtimes_each(close_in, &fd);
	return close(fd) == 0 ? TANGLE_OK : TANGLE_ESYSTEM;
}
