/*
 * io.c — tangle_io_wait: readiness of one fd through the runtime's epoll.
 *
 * Each wait registers the fd once (EPOLLONESHOT, data = the task) and
 * removes it before returning, so an fd is in the set only while a task
 * waits on it; a second task waiting on the same fd at the same time gets
 * TANGLE_EBUSY. The driver ORs the events into the task's io_revents and
 * wakes it. An event from an earlier wait can arrive late, so readiness may
 * be spurious: callers retry on EAGAIN, as with any readiness API.
 */
#include <errno.h>
#include <sys/epoll.h>

#include "scheduler.h"

int tangle_io_wait_at(int fd, uint32_t events, int64_t timeout_ms,
                      uint32_t *revents, const tangle_site *site)
{
	int err = tangle__wait_check();
	if (err)
		return err;
	if (fd < 0 || !(events & (EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP)))
		return TANGLE_EINVAL;
	struct tangle_task *t = tangle__current();
	struct tangle_runtime *rt = t->rt;
	uint8_t op = (events & EPOLLIN) && (events & EPOLLOUT) ? TANGLE_DEBUG_OP_IO_RW
	             : (events & EPOLLOUT)                    ? TANGLE_DEBUG_OP_IO_WRITE
	                                                      : TANGLE_DEBUG_OP_IO_READ;
	struct tangle_waiter *w = tangle__waiter_begin(
		TANGLE_DEBUG_WAIT_IO, op, NULL, (uint32_t)fd, timeout_ms, site);
	atomic_store(&t->sched.io_revents, 0);
	struct epoll_event ev = {.events = events | EPOLLONESHOT, .data.ptr = t};
	if (epoll_ctl(rt->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int e = errno;
		atomic_store(&w->state, TANGLE_DEBUG_WAITER_NONE);
		if (e == EPERM) { /* a regular file: always ready */
			if (revents)
				*revents = events & (EPOLLIN | EPOLLOUT);
			return TANGLE_OK;
		}
		errno = e;
		return e == EEXIST ? TANGLE_EBUSY : TANGLE_ESYSTEM;
	}
	atomic_fetch_add(&t->live_wakers, 1);
	atomic_fetch_add(&rt->io_waiters, 1);

	bool armed = false;
	int rc = TANGLE_OK;
	uint32_t got;
	for (;;) {
		got = atomic_load_explicit(&t->sched.io_revents, memory_order_acquire);
		if (got)
			break;
		if (atomic_load(&t->flags) & TANGLE_DEBUG_TASKF_CANCEL_REQUESTED) {
			rc = TANGLE_ECANCELED;
			break;
		}
		if (w->deadline) {
			if (tangle__clock_precise() >= w->deadline) {
				rc = TANGLE_ETIMEDOUT;
				break;
			}
			if (!armed) {
				tangle__timer_arm(t, w->deadline);
				armed = true;
			}
		}
		tangle__suspend();
	}
	if (armed)
		tangle__timer_disarm(t);
	epoll_ctl(rt->epfd, EPOLL_CTL_DEL, fd, NULL);
	atomic_fetch_sub(&rt->io_waiters, 1);
	atomic_fetch_sub(&t->live_wakers, 1);
	atomic_store(&w->state, got                     ? TANGLE_DEBUG_WAITER_WOKEN
	                        : rc == TANGLE_ETIMEDOUT ? TANGLE_DEBUG_WAITER_TIMEDOUT
	                                                 : TANGLE_DEBUG_WAITER_CANCELLED);
	if (revents)
		*revents = got;
	return rc;
}
