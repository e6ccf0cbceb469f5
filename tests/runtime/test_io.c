/* test_io.c — tangle_io_wait on a socketpair: readiness, timeout,
 * cancellation, other tasks running meanwhile, several tasks on one fd
 * (a reader and a writer; several readers), hang-up, and closing. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rt_test.h"

struct pair {
	int fd[2];
	int rc;
	uint32_t revents;
	char got;
};

static void *reader(void *arg)
{
	struct pair *p = arg;
	p->rc = tangle_io_wait_at(p->fd[0], EPOLLIN, 5000, &p->revents,
	                          TANGLE_SITE_HERE);
	if (p->rc == TANGLE_OK && read(p->fd[0], &p->got, 1) != 1)
		p->got = 0;
	return NULL;
}

static void *writer(void *arg)
{
	struct pair *p = arg;
	tangle_sleep_ms(20);
	if (write(p->fd[1], "x", 1) != 1)
		p->rc = -99;
	return NULL;
}

static void *ready_body(void *arg)
{
	(void)arg;
	struct pair p = {.rc = -1};
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p.fd), 0);
	tangle_task *r = tangle_spawn("reader", reader, &p);
	tangle_task *w = tangle_spawn("writer", writer, &p);
	tangle_join(r, NULL);
	tangle_join(w, NULL);
	assert_int_equal(p.rc, TANGLE_OK);
	assert_true(p.revents & EPOLLIN);
	assert_int_equal(p.got, 'x');
	/* Writable at once. */
	uint32_t ev = 0;
	assert_int_equal(tangle_io_wait_at(p.fd[1], EPOLLOUT, 1000, &ev,
	                                   TANGLE_SITE_HERE), TANGLE_OK);
	assert_true(ev & EPOLLOUT);
	close(p.fd[0]);
	close(p.fd[1]);
	return NULL;
}

static void a_task_waits_until_its_fd_is_ready(void **state)
{
	(void)state;
	rt_test_both(ready_body, NULL);
}

static void *timeout_body(void *arg)
{
	(void)arg;
	int fd[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd), 0);
	uint64_t t0 = rt_test_now_ns();
	assert_int_equal(tangle_io_wait(fd[0], EPOLLIN, 20), TANGLE_ETIMEDOUT);
	assert_true(rt_test_now_ns() - t0 >= 20000000u);
	/* It can be waited on again; 0 polls. */
	assert_int_equal(tangle_io_wait(fd[0], EPOLLIN, 0), TANGLE_ETIMEDOUT);
	assert_int_equal(write(fd[1], "x", 1), 1);
	uint32_t ev = 0;
	assert_int_equal(tangle_io_wait_at(fd[0], EPOLLIN, 0, &ev, TANGLE_SITE_HERE),
	                 TANGLE_OK);
	assert_int_equal(ev, EPOLLIN);
	assert_int_equal(tangle_io_wait(-1, EPOLLIN, 0), TANGLE_EINVAL);
	assert_int_equal(tangle_io_wait(fd[0], 0, 0), TANGLE_EINVAL);
	close(fd[0]);
	close(fd[1]);
	return NULL;
}

static void a_wait_without_readiness_times_out(void **state)
{
	(void)state;
	rt_test_both(timeout_body, NULL);
}

static void *cancel_body(void *arg)
{
	(void)arg;
	struct pair p = {.rc = -1};
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p.fd), 0);
	tangle_task *r = tangle_spawn("reader", reader, &p);
	tangle_sleep_ms(10);
	tangle_cancel(r);
	tangle_join(r, NULL);
	assert_int_equal(p.rc, TANGLE_ECANCELED);
	close(p.fd[0]);
	close(p.fd[1]);
	return NULL;
}

static void a_cancelled_io_wait_returns_ecanceled(void **state)
{
	(void)state;
	rt_test_both(cancel_body, NULL);
}

static void *regular_file_body(void *arg)
{
	(void)arg;
	int fd = open("/proc/self/stat", O_RDONLY);
	assert_true(fd >= 0);
	uint32_t ev = 0;
	assert_int_equal(tangle_io_wait_at(fd, EPOLLIN, -1, &ev, TANGLE_SITE_HERE),
	                 TANGLE_OK);
	assert_true(ev & EPOLLIN);
	close(fd);
	return NULL;
}

static void a_regular_file_is_always_ready(void **state)
{
	(void)state;
	rt_test_run(0, regular_file_body, NULL);
}

/* ---- Several tasks on one fd ---------------------------------------------- */

struct waiter_arg {
	int fd;
	uint32_t events;
	int64_t timeout_ms;
	_Atomic int done;
	int rc;
	uint32_t revents;
};

static void *io_waiter(void *arg)
{
	struct waiter_arg *a = arg;
	a->rc = tangle_io_wait_at(a->fd, a->events, a->timeout_ms, &a->revents,
	                          TANGLE_SITE_HERE);
	atomic_store(&a->done, 1);
	return NULL;
}

/* Fill fd's send buffer until a write would block. */
static void fill(int fd)
{
	char buf[4096] = {0};
	while (write(fd, buf, sizeof buf) > 0)
		;
	assert_int_equal(errno, EAGAIN);
}

static void drain(int fd)
{
	char buf[4096];
	while (read(fd, buf, sizeof buf) > 0)
		;
}

static void settle(void)
{
	tangle_sleep_ms(30);
}

static void *reader_writer_body(void *arg)
{
	(void)arg;
	int fd[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd), 0);
	fill(fd[0]);
	struct waiter_arg r = {.fd = fd[0], .events = EPOLLIN, .timeout_ms = 5000};
	struct waiter_arg w = {.fd = fd[0], .events = EPOLLOUT, .timeout_ms = 5000};
	tangle_task *rt = tangle_spawn("reader", io_waiter, &r);
	tangle_task *wt = tangle_spawn("writer", io_waiter, &w);
	settle();
	assert_false(atomic_load(&r.done));
	assert_false(atomic_load(&w.done));
	/* Room to write: only the writer wakes. */
	drain(fd[1]);
	tangle_join(wt, NULL);
	assert_int_equal(w.rc, TANGLE_OK);
	assert_true(w.revents & EPOLLOUT);
	assert_false(w.revents & EPOLLIN);
	settle();
	assert_false(atomic_load(&r.done));
	/* Something to read: the reader wakes. */
	assert_int_equal(write(fd[1], "x", 1), 1);
	tangle_join(rt, NULL);
	assert_int_equal(r.rc, TANGLE_OK);
	assert_true(r.revents & EPOLLIN);
	close(fd[0]);
	close(fd[1]);
	return NULL;
}

static void a_reader_and_a_writer_wait_on_one_socket(void **state)
{
	(void)state;
	rt_test_both(reader_writer_body, NULL);
}

#define READERS 4

static void *reading(void *arg)
{
	struct waiter_arg *a = arg;
	for (;;) {
		a->rc = tangle_io_wait_at(a->fd, EPOLLIN, 5000, &a->revents,
		                          TANGLE_SITE_HERE);
		if (a->rc != TANGLE_OK)
			return NULL;
		char c;
		if (read(a->fd, &c, 1) == 1)
			break;
		if (errno != EAGAIN) {
			a->rc = -99;
			return NULL;
		}
	}
	atomic_store(&a->done, 1);
	return NULL;
}

static void *several_readers_body(void *arg)
{
	(void)arg;
	int fd[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd), 0);
	struct waiter_arg a[READERS];
	tangle_task *t[READERS];
	for (int i = 0; i < READERS; i++) {
		a[i] = (struct waiter_arg){.fd = fd[0]};
		t[i] = tangle_spawn("reader", reading, &a[i]);
	}
	settle();
	for (int i = 0; i < READERS; i++)
		assert_false(atomic_load(&a[i].done));
	/* One byte each, one at a time: every reader gets one. */
	for (int i = 0; i < READERS; i++) {
		assert_int_equal(write(fd[1], "x", 1), 1);
		tangle_sleep_ms(5);
	}
	for (int i = 0; i < READERS; i++) {
		tangle_join(t[i], NULL);
		assert_int_equal(a[i].rc, TANGLE_OK);
		assert_true(atomic_load(&a[i].done));
	}
	close(fd[0]);
	close(fd[1]);
	return NULL;
}

static void several_readers_share_one_fd(void **state)
{
	(void)state;
	rt_test_both(several_readers_body, NULL);
}

static void *hangup_body(void *arg)
{
	(void)arg;
	int fd[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd), 0);
	fill(fd[0]);
	struct waiter_arg w = {.fd = fd[0], .events = EPOLLOUT, .timeout_ms = 5000};
	struct waiter_arg p = {.fd = fd[0], .events = EPOLLPRI, .timeout_ms = 5000};
	tangle_task *wt = tangle_spawn("writer", io_waiter, &w);
	tangle_task *pt = tangle_spawn("pri", io_waiter, &p);
	settle();
	close(fd[1]); /* the peer goes away: everybody wakes */
	tangle_join(wt, NULL);
	tangle_join(pt, NULL);
	assert_int_equal(w.rc, TANGLE_OK);
	assert_int_equal(p.rc, TANGLE_OK);
	assert_true(w.revents & EPOLLHUP);
	assert_true(p.revents & EPOLLHUP);
	assert_false(p.revents & EPOLLIN); /* not asked for */
	close(fd[0]);
	return NULL;
}

static void a_hang_up_wakes_every_waiter(void **state)
{
	(void)state;
	rt_test_both(hangup_body, NULL);
}

static void *give_up_body(void *arg)
{
	(void)arg;
	int fd[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd), 0);
	struct waiter_arg timed = {.fd = fd[0], .events = EPOLLIN, .timeout_ms = 20};
	struct waiter_arg cancelled = {.fd = fd[0], .events = EPOLLIN, .timeout_ms = -1};
	struct waiter_arg patient = {.fd = fd[0], .events = EPOLLIN, .timeout_ms = 5000};
	tangle_task *a = tangle_spawn("timed", io_waiter, &timed);
	tangle_task *b = tangle_spawn("cancelled", io_waiter, &cancelled);
	tangle_task *c = tangle_spawn("patient", io_waiter, &patient);
	settle();
	tangle_join(a, NULL);
	assert_int_equal(timed.rc, TANGLE_ETIMEDOUT);
	tangle_cancel(b);
	tangle_join(b, NULL);
	assert_int_equal(cancelled.rc, TANGLE_ECANCELED);
	/* The one left still gets its readiness. */
	assert_false(atomic_load(&patient.done));
	assert_int_equal(write(fd[1], "x", 1), 1);
	tangle_join(c, NULL);
	assert_int_equal(patient.rc, TANGLE_OK);
	assert_true(patient.revents & EPOLLIN);
	close(fd[0]);
	close(fd[1]);
	return NULL;
}

static void a_timeout_or_cancel_leaves_the_other_waiters_waiting(void **state)
{
	(void)state;
	rt_test_both(give_up_body, NULL);
}

static void *close_body(void *arg)
{
	(void)arg;
	int fd[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd), 0);
	fill(fd[0]);
	struct waiter_arg r = {.fd = fd[0], .events = EPOLLIN, .timeout_ms = 5000};
	struct waiter_arg w = {.fd = fd[0], .events = EPOLLOUT, .timeout_ms = 5000};
	tangle_task *rt = tangle_spawn("reader", io_waiter, &r);
	tangle_task *wt = tangle_spawn("writer", io_waiter, &w);
	settle();
	assert_int_equal(tangle_io_close(fd[0]), TANGLE_OK);
	tangle_join(rt, NULL);
	tangle_join(wt, NULL);
	assert_int_equal(r.rc, TANGLE_ECLOSED);
	assert_int_equal(w.rc, TANGLE_ECLOSED);
	assert_int_equal(tangle_io_close(fd[0]), TANGLE_ESYSTEM); /* closed */
	assert_int_equal(tangle_io_close(-1), TANGLE_EINVAL);
	close(fd[1]);
	return NULL;
}

static void closing_an_fd_wakes_its_waiters(void **state)
{
	(void)state;
	rt_test_both(close_body, NULL);
}

static void *reuse_body(void *arg)
{
	(void)arg;
	int a[2], b[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b), 0);
	struct waiter_arg old = {.fd = a[0], .events = EPOLLIN, .timeout_ms = 5000};
	tangle_task *ot = tangle_spawn("old", io_waiter, &old);
	settle();
	/* Closed behind the runtime's back, and the number reused for
	 * another socket: the next wait on it finds the old registration
	 * gone and wakes its waiter. */
	assert_int_equal(dup2(b[0], a[0]), a[0]);
	struct waiter_arg fresh = {.fd = a[0], .events = EPOLLIN, .timeout_ms = 5000};
	tangle_task *ft = tangle_spawn("new", io_waiter, &fresh);
	tangle_join(ot, NULL);
	assert_int_equal(old.rc, TANGLE_ECLOSED);
	assert_false(atomic_load(&fresh.done));
	assert_int_equal(write(b[1], "x", 1), 1);
	tangle_join(ft, NULL);
	assert_int_equal(fresh.rc, TANGLE_OK);
	assert_true(fresh.revents & EPOLLIN);
	/* A number that is not open at all. */
	int gone = b[0];
	close(gone);
	errno = 0;
	assert_int_equal(tangle_io_wait(gone, EPOLLIN, 1000), TANGLE_ESYSTEM);
	assert_int_equal(errno, EBADF);
	close(a[0]);
	close(a[1]);
	close(b[1]);
	return NULL;
}

static void a_reused_fd_number_wakes_the_old_waiters(void **state)
{
	(void)state;
	rt_test_both(reuse_body, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_task_waits_until_its_fd_is_ready),
		cmocka_unit_test(a_wait_without_readiness_times_out),
		cmocka_unit_test(a_cancelled_io_wait_returns_ecanceled),
		cmocka_unit_test(a_regular_file_is_always_ready),
		cmocka_unit_test(a_reader_and_a_writer_wait_on_one_socket),
		cmocka_unit_test(several_readers_share_one_fd),
		cmocka_unit_test(a_hang_up_wakes_every_waiter),
		cmocka_unit_test(a_timeout_or_cancel_leaves_the_other_waiters_waiting),
		cmocka_unit_test(closing_an_fd_wakes_its_waiters),
		cmocka_unit_test(a_reused_fd_number_wakes_the_old_waiters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
