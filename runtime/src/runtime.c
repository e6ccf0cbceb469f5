/*
 * runtime.c — creating, running and freeing a runtime.
 *
 * Multi-thread flavour: worker threads start in tangle_runtime_new and run
 * until tangle_runtime_free; tangle_runtime_run queues the main task and
 * waits for it like a plain-thread join. Current-thread flavour: one worker
 * record, driven by the thread inside tangle_runtime_run until the main
 * task returns (other tasks wait in the queues until the next run).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scheduler.h"

#define DEFAULT_STACK (256u * 1024u)
#define MIN_STACK (16u * 1024u)
#define MAX_WORKERS 1024u
#define MAX_STACK ((size_t)1 << 30)
#define MAX_BLOCKING_THREADS 4096u

static _Atomic uint64_t next_runtime_id = 1;

static void runtime_destroy(struct tangle_runtime *rt)
{
	tangle__blocking_free(rt);
	tangle__runtime_unregister(rt);
	tangle__waits_abandon(rt);
	tangle__slabs_free(rt);
	tangle__wakers_free(rt);
	tangle__driver_free(rt);
	free(rt->workers);
	free(rt);
}

tangle_runtime *tangle_runtime_new(const tangle_config *cfg)
{
	tangle_config c;
	if (cfg)
		c = *cfg;
	else
		memset(&c, 0, sizeof c);
	/* Contradictory or absurd settings are refused, not adjusted. */
	if ((c.current_thread && c.workers > 1) || c.stack_size > MAX_STACK ||
	    c.blocking_threads > MAX_BLOCKING_THREADS) {
		errno = EINVAL;
		return NULL;
	}
	unsigned n = c.current_thread ? 1 : c.workers;
	if (!n) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus > 0 ? (unsigned)cpus : 1;
	}
	if (n > MAX_WORKERS) {
		errno = EINVAL;
		return NULL;
	}
	struct tangle_runtime *rt = calloc(1, sizeof *rt);
	if (!rt) {
		errno = ENOMEM;
		return NULL;
	}
	rt->page_size = (size_t)sysconf(_SC_PAGESIZE);
	size_t stack = c.stack_size ? c.stack_size : DEFAULT_STACK;
	if (stack < MIN_STACK)
		stack = MIN_STACK;
	rt->stack_size = (stack + rt->page_size - 1) & ~(rt->page_size - 1);
	rt->id = atomic_fetch_add(&next_runtime_id, 1);
	const char *name = c.name ? c.name : "tangle";
	size_t len = strnlen(name, sizeof rt->name - 1);
	memcpy(rt->name, name, len);
	rt->current_thread = c.current_thread != 0;
	rt->flavor = rt->current_thread ? TANGLE_DEBUG_FLAVOR_CURRENT_THREAD
	                                : TANGLE_DEBUG_FLAVOR_MULTI_THREAD;
	rt->created_at = tangle__clock_precise();
	rt->epfd = rt->evfd = -1;

	rt->workers = aligned_alloc(64, n * sizeof(struct tangle_worker));
	if (!rt->workers) {
		free(rt);
		errno = ENOMEM;
		return NULL;
	}
	memset(rt->workers, 0, n * sizeof(struct tangle_worker));
	for (unsigned i = 0; i < n; i++) {
		struct tangle_worker *w = &rt->workers[i];
		w->index = i;
		w->rt = rt;
		w->rand = 0x9e3779b9u * (i + 1);
		w->solo = n == 1;
	}
	rt->worker_count = n;
	rt->worker_stride = sizeof(struct tangle_worker);
	if (tangle__driver_init(rt)) {
		int e = errno;
		free(rt->workers);
		free(rt);
		errno = e;
		return NULL;
	}
	tangle__blocking_init(rt, c.blocking_threads);
	tangle__signals_init();
	tangle__runtime_register(rt);
	if (!rt->current_thread && tangle__workers_start(rt)) {
		int e = errno;
		tangle__workers_stop(rt);
		runtime_destroy(rt);
		errno = e;
		return NULL;
	}
	return rt;
}

int tangle_runtime_run_at(tangle_runtime *rt, tangle_fn fn, void *arg,
                          const tangle_site *main_site)
{
	if (!rt || !fn || tangle__current())
		return TANGLE_EINVAL;
	if (!rt->current_thread) {
		struct tangle_task *t = tangle__spawn(rt, "main", fn, arg, main_site,
		                                      true);
		if (!t)
			return TANGLE_ENOMEM;
		return tangle_join_at(t, NULL, main_site);
	}
	bool idle = false;
	if (!atomic_compare_exchange_strong(&rt->running, &idle, true))
		return TANGLE_EINVAL; /* another thread runs it already */
	struct tangle_task *t = tangle__spawn(rt, "main", fn, arg, main_site, true);
	if (!t) {
		atomic_store(&rt->running, false);
		return TANGLE_ENOMEM;
	}
	struct tangle_worker *w = &rt->workers[0];
	tangle__worker_enter(w);
	tangle__worker_loop(w, &t->sched.done);
	tangle__worker_leave(w);
	atomic_store(&rt->running, false);
	atomic_store(&t->sched.handle, TANGLE__H_RELEASED);
	tangle__task_release(t);
	return TANGLE_OK;
}

/* Bad use of tangle_runtime_free: it returns void, so say it on stderr
 * (one line) and leave the runtime alone. */
static void refuse_free(const struct tangle_runtime *rt, const char *why)
{
	struct tangle_task *t = tangle__current();
	if (t)
		fprintf(stderr, "tangle: tangle_runtime_free(\"%s\") %s (from task %llu "
		        "\"%s\"): ignored\n", rt->name, why, (unsigned long long)t->id,
		        t->name);
	else
		fprintf(stderr, "tangle: tangle_runtime_free(\"%s\") %s: ignored\n",
		        rt->name, why);
}

void tangle_runtime_free(tangle_runtime *rt)
{
	if (!rt)
		return;
	struct tangle_task *t = tangle__current();
	if (t && t->rt == rt) {
		refuse_free(rt, "called from one of its own tasks");
		return;
	}
	if (rt->current_thread && atomic_load(&rt->running)) {
		refuse_free(rt, "called while tangle_runtime_run runs it");
		return;
	}
	tangle__workers_stop(rt);
	runtime_destroy(rt);
}

tangle_runtime *tangle_runtime_current(void)
{
	struct tangle_task *t = tangle__current();
	return t ? t->rt : NULL;
}
