/*
 * healthy-server: a busy server that is fine. Nothing here is a bug; a
 * core dump taken at any moment of its run must give no finding at all.
 *
 *   conn-N       64 connections over socketpairs: wait for a request
 *                (tangle_io_wait), read the config (rwlock "config"), run a
 *                query on a pooled connection (semaphore "db-pool"), count
 *                it (mutex "stats"), sometimes queue a background job
 *   client-N     the other ends: a quarter of them busy (a request every
 *                20-50 ms), the rest idle for half a minute at a time
 *   job-worker-N wait for "urgent-jobs" or "jobs" (select) and do each on
 *                the blocking pool (tangle_blocking)
 *   subscriber-N 200 idle receivers on the "events" channel
 *   metrics-N    wait on the "tick" notify
 *   publisher, cron, config-reload, janitor: timers, short and long
 *
 * It prints "healthy-server: running" two seconds in, keeps running for
 * SECONDS (argument, default 600), then cancels and joins every task and
 * exits 0, with a one-line summary on stderr.
 */
#include <errno.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "example.h"

#define CONNECTIONS 64
#define SUBSCRIBERS 200
#define JOB_WORKERS 8
#define METRICS 4
#define DB_CONNECTIONS 4
#define MAX_TASKS (2 * CONNECTIONS + SUBSCRIBERS + JOB_WORKERS + METRICS + 4)
#define RUNNING_AFTER_MS 2000

struct server {
	tangle_mutex stats_lock; /* "stats" */
	tangle_rwlock config;    /* "config" */
	tangle_sem db_pool;      /* "db-pool" */
	tangle_chan *jobs, *urgent, *events;
	tangle_notify tick;      /* "tick" */
	int config_version;
	long requests, jobs_done, events_seen, ticks_seen, trims;
};

struct conn {
	struct server *s;
	int fd;
	unsigned period_ms; /* client: time between requests */
};

static struct server server;
static struct conn conns[CONNECTIONS], clients[CONNECTIONS];

/* Add one to a counter under "stats"; *now (if non-NULL) gets the sum. */
static int count(struct server *s, long *counter, long *now)
{
	int err = tangle_mutex_lock(&s->stats_lock);
	if (err == TANGLE_OK) {
		long n = ++*counter;
		tangle_mutex_unlock(&s->stats_lock);
		if (now != NULL)
			*now = n;
	}
	return err;
}

static int handle_request(struct server *s)
{
	int err = tangle_rwlock_read(&s->config);
	if (err != TANGLE_OK)
		return err;
	unsigned query_ms = 1 + (unsigned)s->config_version % 3;
	tangle_rwlock_unlock(&s->config);

	if ((err = tangle_sem_acquire(&s->db_pool, 1)) != TANGLE_OK)
		return err;
	err = tangle_sleep_ms(query_ms); /* the query */
	tangle_sem_release(&s->db_pool, 1);
	long n = 0;
	if (err == TANGLE_OK)
		err = count(s, &s->requests, &n);
	if (err == TANGLE_OK && n % 8 == 0) {
		long job = n;
		err = tangle_chan_send(job % 64 == 0 ? s->urgent : s->jobs, &job);
	}
	return err;
}

static void *serve_conn(void *arg)
{
	struct conn *c = arg;
	char buf[64];
	for (;;) {
		if (tangle_io_wait(c->fd, EPOLLIN, -1) != TANGLE_OK) /* wait: request */
			break;
		ssize_t n = read(c->fd, buf, sizeof buf);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0 || handle_request(c->s) != TANGLE_OK)
			break;
		if (write(c->fd, "ok\n", 3) != 3)
			break;
	}
	close(c->fd);
	return NULL;
}

static void *client(void *arg)
{
	struct conn *c = arg;
	char buf[64];
	while (tangle_sleep_ms(c->period_ms) == TANGLE_OK) { /* wait: think */
		if (write(c->fd, "get\n", 4) != 4)
			break;
		if (tangle_io_wait(c->fd, EPOLLIN, 5000) != TANGLE_OK)
			break;
		if (read(c->fd, buf, sizeof buf) <= 0)
			break;
	}
	close(c->fd);
	return NULL;
}

static void *compress(void *arg)
{
	usleep(500); /* disk and CPU work, off the workers */
	return arg;
}

static void *job_worker(void *arg)
{
	struct server *s = arg;
	long job;
	for (;;) {
		tangle_select_op ops[2] = {
			{s->urgent, TANGLE_SELECT_RECV, &job, 0},
			{s->jobs, TANGLE_SELECT_RECV, &job, 0},
		};
		int i = tangle_select(ops, 2, -1); /* wait: jobs */
		if (i < 0 || ops[i].result != TANGLE_OK)
			break;
		if (tangle_blocking(compress, &job, NULL) != TANGLE_OK ||
		    count(s, &s->jobs_done, NULL) != TANGLE_OK)
			break;
	}
	return NULL;
}

static void *subscriber(void *arg)
{
	struct server *s = arg;
	long event;
	while (tangle_chan_recv(s->events, &event) == TANGLE_OK) /* wait: events */
		if (count(s, &s->events_seen, NULL) != TANGLE_OK)
			break;
	return NULL;
}

static void *metrics(void *arg)
{
	struct server *s = arg;
	while (tangle_notify_wait(&s->tick) == TANGLE_OK)
		if (count(s, &s->ticks_seen, NULL) != TANGLE_OK)
			break;
	return NULL;
}

static void *publisher(void *arg)
{
	struct server *s = arg;
	for (long event = 0; tangle_sleep_ms(250) == TANGLE_OK; event++)
		if (tangle_chan_send(s->events, &event) != TANGLE_OK)
			break;
	return NULL;
}

static void *cron(void *arg)
{
	struct server *s = arg;
	while (tangle_sleep_ms(100) == TANGLE_OK)
		tangle_notify_all(&s->tick);
	return NULL;
}

static void *config_reload(void *arg)
{
	struct server *s = arg;
	while (tangle_sleep_ms(300) == TANGLE_OK) {
		if (tangle_rwlock_write(&s->config) != TANGLE_OK)
			break;
		s->config_version++;
		tangle_rwlock_unlock(&s->config);
	}
	return NULL;
}

static void *janitor(void *arg)
{
	struct server *s = arg;
	while (tangle_sleep_ms(60 * 1000) == TANGLE_OK) /* wait: janitor */
		if (count(s, &s->trims, NULL) != TANGLE_OK)
			break;
	return NULL;
}

static tangle_task *tasks[MAX_TASKS];
static size_t ntasks;

static void spawn(const char *name, int n, tangle_fn fn, void *arg)
{
	char full[32];
	if (n > 0)
		snprintf(full, sizeof full, "%s-%d", name, n);
	else
		snprintf(full, sizeof full, "%s", name);
	tasks[ntasks++] = example_ptr(tangle_spawn(full, fn, arg), "spawn");
}

static void setup(struct server *s)
{
	example_check(tangle_mutex_init(&s->stats_lock, "stats"), "mutex");
	example_check(tangle_rwlock_init(&s->config, "config"), "rwlock");
	example_check(tangle_sem_init(&s->db_pool, DB_CONNECTIONS, "db-pool"), "sem");
	example_check(tangle_notify_init(&s->tick, "tick"), "notify");
	s->jobs = example_ptr(tangle_chan_new(sizeof(long), 16, "jobs"), "chan");
	s->urgent = example_ptr(tangle_chan_new(sizeof(long), 4, "urgent-jobs"), "chan");
	s->events = example_ptr(tangle_chan_new(sizeof(long), TANGLE_CHAN_UNBOUNDED,
	                                        "events"), "chan");
	for (int i = 0; i < CONNECTIONS; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		               sv) != 0) {
			perror("socketpair");
			exit(1);
		}
		conns[i] = (struct conn){s, sv[0], 0};
		unsigned busy = 20 + (unsigned)(i * 7) % 30, idle = 30000 + (unsigned)i * 100;
		clients[i] = (struct conn){s, sv[1], i % 4 == 0 ? busy : idle};
		spawn("conn", i + 1, serve_conn, &conns[i]);
		spawn("client", i + 1, client, &clients[i]);
	}
	for (int i = 1; i <= JOB_WORKERS; i++)
		spawn("job-worker", i, job_worker, s);
	for (int i = 1; i <= SUBSCRIBERS; i++)
		spawn("subscriber", i, subscriber, s);
	for (int i = 1; i <= METRICS; i++)
		spawn("metrics", i, metrics, s);
	spawn("publisher", 0, publisher, s);
	spawn("cron", 0, cron, s);
	spawn("config-reload", 0, config_reload, s);
	spawn("janitor", 0, janitor, s);
}

static void *main_task(void *arg)
{
	unsigned seconds = *(unsigned *)arg;
	struct server *s = &server;
	setup(s);
	tangle_sleep_ms(RUNNING_AFTER_MS);
	printf("healthy-server: running\n");
	fflush(stdout);
	if (seconds * 1000u > RUNNING_AFTER_MS)
		tangle_sleep_ms(seconds * 1000u - RUNNING_AFTER_MS);

	for (size_t i = 0; i < ntasks; i++)
		tangle_cancel(tasks[i]);
	for (size_t i = 0; i < ntasks; i++)
		example_check(tangle_join(tasks[i], NULL), "join");
	fprintf(stderr, "healthy-server: %ld requests, %ld jobs, %ld events, "
	        "%ld ticks, %ld trims, %zu tasks\n", s->requests, s->jobs_done,
	        s->events_seen, s->ticks_seen, s->trims, ntasks);
	example_check(tangle_chan_free(s->jobs), "chan_free");
	example_check(tangle_chan_free(s->urgent), "chan_free");
	example_check(tangle_chan_free(s->events), "chan_free");
	return NULL;
}

int main(int argc, char **argv)
{
	static unsigned seconds = 600;
	if (argc > 1)
		seconds = (unsigned)strtoul(argv[1], NULL, 10);
	return example_run("server", 2, main_task, &seconds);
}
