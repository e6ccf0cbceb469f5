/*
 * blocking-call: a service on one worker thread. The config reloader
 * reads its new configuration with a plain read() from a pipe, a blocking
 * system call, on the worker itself. Nothing ever arrives, the worker never
 * gets back to the scheduler, and the eight requests queued behind the
 * reloader never run.
 *
 * Expected: blocked-executor, task config-reload on worker 0, with the
 * requests queued behind it.
 * Fix: wait for the fd with tangle_io_wait(), or run the call on the
 * blocking pool with tangle_blocking().
 */
#include <unistd.h>

#include "example.h"

#define REQUESTS 8
#define PAST_THRESHOLD_MS 2000 /* the tools' threshold: 500 ms */

struct service {
	int config_pipe[2]; /* the control process writes new configs here */
	char config[256];
	int served;
};

static long load_config(int fd, char *buf, size_t len)
{
	return (long)read(fd, buf, len); /* wait: read */
}

static void *reload_config(void *arg)
{
	struct service *s = arg;
	load_config(s->config_pipe[0], s->config, sizeof s->config - 1);
	return NULL;
}

static void *handle_request(void *arg)
{
	struct service *s = arg;
	s->served++;
	return NULL;
}

static void *main_task(void *arg)
{
	struct service *s = arg;
	tangle_task *reload = example_ptr(tangle_spawn("config-reload", reload_config, s),
	                                  "spawn");
	for (int i = 1; i <= REQUESTS; i++) {
		char name[32];
		snprintf(name, sizeof name, "request-%d", i);
		example_check(tangle_detach(example_ptr(tangle_spawn(name, handle_request, s),
		                                        "spawn")), "detach");
	}
	example_hung_after("blocking-call", PAST_THRESHOLD_MS);
	tangle_join(reload, NULL); /* forever */
	return NULL;
}

int main(void)
{
	static struct service s;
	if (pipe(s.config_pipe) != 0) {
		perror("pipe");
		return 1;
	}
	return example_run("service", 1, main_task, &s);
}
