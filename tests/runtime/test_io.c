/* test_io.c — tangle_io_wait on a socketpair: readiness, timeout,
 * cancellation, and other tasks running meanwhile. */
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
	/* The fd left the epoll set: it can be waited on again. */
	assert_int_equal(tangle_io_wait(fd[0], EPOLLIN, 0), TANGLE_ETIMEDOUT);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_task_waits_until_its_fd_is_ready),
		cmocka_unit_test(a_wait_without_readiness_times_out),
		cmocka_unit_test(a_cancelled_io_wait_returns_ecanceled),
		cmocka_unit_test(a_regular_file_is_always_ready),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
