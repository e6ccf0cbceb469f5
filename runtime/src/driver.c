/*
 * driver.c — timers (a binary min-heap of tasks by deadline) and epoll.
 *
 * One idle worker at a time blocks in tangle__driver_poll(rt, true) with
 * the earliest deadline as its timeout; busy workers fire due timers and
 * poll epoll without blocking every TANGLE__TICK_MAINTENANCE picks. An
 * eventfd in the epoll set ("poke") makes the blocked poller return: when
 * work is queued for it, or a timer earlier than its timeout is armed.
 * Only the blocking poller drains the eventfd, so a non-blocking poll can
 * never swallow a poke.
 *
 * Timers wake their task under the timer lock, so a task that disarmed
 * its timer is never woken by it afterwards. Lock order: timer lock, then
 * the scheduler's queue and idle locks.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "scheduler.h"

int tangle__driver_init(struct tangle_runtime *rt)
{
	rt->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (rt->epfd < 0)
		return -1;
	rt->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (rt->evfd < 0) {
		close(rt->epfd);
		return -1;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(rt->epfd, EPOLL_CTL_ADD, rt->evfd, &ev)) {
		close(rt->evfd);
		close(rt->epfd);
		return -1;
	}
	return 0;
}

void tangle__driver_free(struct tangle_runtime *rt)
{
	tangle__io_free(rt);
	close(rt->evfd);
	close(rt->epfd);
	free(rt->heap);
	rt->heap = NULL;
}

void tangle__driver_poke(struct tangle_runtime *rt)
{
	uint64_t one = 1;
	ssize_t r = write(rt->evfd, &one, sizeof one);
	(void)r;
}

/* ---- The heap (timer lock held) -------------------------------------------- */

static inline uint64_t key(struct tangle_runtime *rt, uint32_t i)
{
	return rt->heap[i]->sched.timer_deadline;
}

static inline void place(struct tangle_runtime *rt, uint32_t i,
                         struct tangle_task *t)
{
	rt->heap[i] = t;
	t->sched.timer_index = (int32_t)i;
}

static void sift_up(struct tangle_runtime *rt, uint32_t i)
{
	struct tangle_task *t = rt->heap[i];
	while (i) {
		uint32_t p = (i - 1) / 2;
		if (key(rt, p) <= t->sched.timer_deadline)
			break;
		place(rt, i, rt->heap[p]);
		i = p;
	}
	place(rt, i, t);
}

static void sift_down(struct tangle_runtime *rt, uint32_t i)
{
	struct tangle_task *t = rt->heap[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= rt->heap_len)
			break;
		if (c + 1 < rt->heap_len && key(rt, c + 1) < key(rt, c))
			c++;
		if (key(rt, c) >= t->sched.timer_deadline)
			break;
		place(rt, i, rt->heap[c]);
		i = c;
	}
	place(rt, i, t);
}

static void heap_remove(struct tangle_runtime *rt, struct tangle_task *t)
{
	uint32_t i = (uint32_t)t->sched.timer_index;
	t->sched.timer_index = -1;
	struct tangle_task *last = rt->heap[--rt->heap_len];
	if (last != t) {
		place(rt, i, last);
		sift_up(rt, i);
		sift_down(rt, (uint32_t)last->sched.timer_index);
	}
}

static void publish_top(struct tangle_runtime *rt)
{
	atomic_store(&rt->next_deadline, rt->heap_len ? key(rt, 0) : 0);
}

void tangle__timer_arm(struct tangle_task *t, uint64_t deadline)
{
	struct tangle_runtime *rt = t->rt;
	tangle__spin_lock(&rt->timer_lock);
	if (t->sched.timer_index >= 0)
		heap_remove(rt, t);
	if (rt->heap_len == rt->heap_cap) {
		uint32_t cap = rt->heap_cap ? rt->heap_cap * 2 : 64;
		struct tangle_task **h = realloc(rt->heap, cap * sizeof *h);
		if (!h) {
			/* No timer: the wait still ends at its deadline when
			 * anything wakes it; degrade rather than fail. */
			tangle__spin_unlock(&rt->timer_lock);
			return;
		}
		rt->heap = h;
		rt->heap_cap = cap;
	}
	t->sched.timer_deadline = deadline;
	place(rt, rt->heap_len++, t);
	sift_up(rt, rt->heap_len - 1);
	bool top = t->sched.timer_index == 0;
	if (top)
		publish_top(rt);
	tangle__spin_unlock(&rt->timer_lock);
	if (top) {
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load_explicit(&rt->driver_busy, memory_order_relaxed))
			tangle__driver_poke(rt);
	}
}

void tangle__timer_disarm(struct tangle_task *t)
{
	struct tangle_runtime *rt = t->rt;
	tangle__spin_lock(&rt->timer_lock);
	if (t->sched.timer_index >= 0) {
		bool top = t->sched.timer_index == 0;
		heap_remove(rt, t);
		if (top)
			publish_top(rt);
	}
	tangle__spin_unlock(&rt->timer_lock);
}

static void fire_timers(struct tangle_runtime *rt)
{
	uint64_t nd = atomic_load(&rt->next_deadline);
	if (!nd)
		return;
	uint64_t now = tangle__clock_precise();
	if (nd > now)
		return;
	tangle__spin_lock(&rt->timer_lock);
	while (rt->heap_len && key(rt, 0) <= now) {
		struct tangle_task *t = rt->heap[0];
		heap_remove(rt, t);
		tangle__wake(t);
	}
	publish_top(rt);
	tangle__spin_unlock(&rt->timer_lock);
}

/* ---- Polling ------------------------------------------------------------------ */

static int wait_events(struct tangle_runtime *rt, struct epoll_event *ev, int max,
                       bool block)
{
	if (!block)
		return epoll_wait(rt->epfd, ev, max, 0);
	uint64_t nd = atomic_load(&rt->next_deadline);
	/* While a worker is busy, a task may wait in its queue without a
	 * wake-up (idle.c): look again every TANGLE__WATCH_NS. */
	bool busy = atomic_load_explicit(&rt->n_idle, memory_order_relaxed) <
	            rt->worker_count;
	if (!nd && !busy)
		return epoll_wait(rt->epfd, ev, max, -1);
	uint64_t now = tangle__clock_precise();
	uint64_t d = !nd ? TANGLE__WATCH_NS : nd > now ? nd - now : 0;
	if (busy && d > TANGLE__WATCH_NS)
		d = TANGLE__WATCH_NS;
	struct timespec ts = {.tv_sec = (time_t)(d / 1000000000u),
	                      .tv_nsec = (long)(d % 1000000000u)};
	int n = epoll_pwait2(rt->epfd, ev, max, &ts, NULL);
	if (n < 0 && errno == ENOSYS)
		n = epoll_wait(rt->epfd, ev, max, (int)((d + 999999u) / 1000000u));
	return n;
}

void tangle__driver_poll(struct tangle_runtime *rt, bool block)
{
	struct epoll_event ev[64];
	int n = 0;
	if (block || atomic_load_explicit(&rt->io_waiters, memory_order_relaxed))
		n = wait_events(rt, ev, 64, block);
	for (int i = 0; i < n; i++) {
		struct tangle_io_reg *r = ev[i].data.ptr;
		if (!r) {
			if (block) {
				uint64_t v;
				ssize_t rd = read(rt->evfd, &v, sizeof v);
				(void)rd;
			}
			continue;
		}
		tangle__io_ready(rt, r, ev[i].events);
	}
	fire_timers(rt);
}
