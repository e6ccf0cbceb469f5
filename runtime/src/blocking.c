/*
 * blocking.c — the blocking-call pool: threads on demand up to the
 * runtime's limit; a thread idle for POOL_IDLE_SECONDS exits.
 *
 * Every queued call gets a thread of its own (up to the limit): a thread
 * is started whenever queued calls outnumber idle threads, since one call
 * may wait for another (a reader and its writer).
 *
 * A job lives on the calling task's stack. The task waits for it to finish
 * even when cancelled (fn cannot be interrupted, and the job must outlive
 * it); the cancellation shows at the task's next wait. The pool thread
 * reads everything it needs from the job before it stores `done`, and
 * touches only the task record after that.
 */
#include <errno.h>
#include <time.h>

#include "scheduler.h"

#define POOL_IDLE_SECONDS 5

struct tangle_blocking_job {
	struct tangle_blocking_job *next;
	tangle_fn fn;
	void *arg;
	void *result;
	struct tangle_task *task;
	_Atomic uint32_t done;
};

void tangle__blocking_init(struct tangle_runtime *rt, unsigned max)
{
	struct tangle_blocking_pool *p = &rt->pool;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_cond_init(&p->exited, &ca);
	pthread_condattr_destroy(&ca);
	p->head = p->tail = NULL;
	p->threads = p->idle = 0;
	p->max = max ? max : 64;
	p->stopping = false;
}

static void *pool_main(void *arg)
{
	struct tangle_runtime *rt = arg;
	struct tangle_blocking_pool *p = &rt->pool;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->head && !p->stopping) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += POOL_IDLE_SECONDS;
			p->idle++;
			int r = pthread_cond_timedwait(&p->cond, &p->lock, &ts);
			p->idle--;
			if (r == ETIMEDOUT && !p->head)
				goto out;
		}
		if (!p->head)
			break; /* stopping */
		struct tangle_blocking_job *j = p->head;
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		__atomic_store_n(&rt->blocking_queued, rt->blocking_queued - 1,
		                 __ATOMIC_RELAXED);
		__atomic_store_n(&rt->blocking_busy, rt->blocking_busy + 1,
		                 __ATOMIC_RELAXED);
		pthread_mutex_unlock(&p->lock);

		j->result = j->fn(j->arg);
		struct tangle_task *t = j->task;
		atomic_fetch_sub_explicit(&t->wakers, 1, memory_order_relaxed);
		atomic_store_explicit(&j->done, 1, memory_order_release);
		tangle__wake(t);

		pthread_mutex_lock(&p->lock);
		__atomic_store_n(&rt->blocking_busy, rt->blocking_busy - 1,
		                 __ATOMIC_RELAXED);
	}
out:
	p->threads--;
	pthread_cond_broadcast(&p->exited);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int tangle_blocking_at(tangle_fn fn, void *arg, void **result,
                       const tangle_site *site)
{
	struct tangle_task *t = tangle__current();
	if (!t)
		return TANGLE_ENOTASK;
	if (!fn)
		return TANGLE_EINVAL;
	struct tangle_runtime *rt = t->rt;
	struct tangle_blocking_pool *p = &rt->pool;
	struct tangle_blocking_job job = {.fn = fn, .arg = arg, .task = t};
	struct tangle_waiter *w = tangle__waiter_begin(
		TANGLE_DEBUG_WAIT_BLOCKING, TANGLE_DEBUG_OP_CALL, NULL, 0, -1, site);
	atomic_fetch_add_explicit(&t->wakers, 1, memory_order_relaxed);

	pthread_mutex_lock(&p->lock);
	if (p->stopping) {
		pthread_mutex_unlock(&p->lock);
		atomic_fetch_sub(&t->wakers, 1);
		atomic_store(&w->state, TANGLE_DEBUG_WAITER_NONE);
		return TANGLE_EINVAL;
	}
	if (p->tail)
		p->tail->next = &job;
	else
		p->head = &job;
	p->tail = &job;
	__atomic_store_n(&rt->blocking_queued, rt->blocking_queued + 1,
	                 __ATOMIC_RELAXED);
	/* Every queued call needs a thread of its own (one call may wait for
	 * another): start one unless an idle thread is left for it. Counting
	 * idle threads alone is not enough, as a signalled thread stays idle
	 * until it runs. */
	bool start = rt->blocking_queued > p->idle && p->threads < p->max;
	if (start) {
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_t th;
		if (pthread_create(&th, &attr, pool_main, rt) == 0)
			p->threads++;
		pthread_attr_destroy(&attr);
		if (!p->threads) {
			/* No thread to run it: run it here rather than wait
			 * forever (it blocks this worker, but completes). */
			p->head = p->tail = NULL;
			__atomic_store_n(&rt->blocking_queued, 0, __ATOMIC_RELAXED);
			pthread_mutex_unlock(&p->lock);
			job.result = fn(arg);
			atomic_fetch_sub(&t->wakers, 1);
			atomic_store(&w->state, TANGLE_DEBUG_WAITER_WOKEN);
			if (result)
				*result = job.result;
			return TANGLE_OK;
		}
	} else {
		pthread_cond_signal(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);

	while (!atomic_load_explicit(&job.done, memory_order_acquire)) {
		tangle__suspend();
		if (!atomic_load_explicit(&job.done, memory_order_acquire))
			tangle__resumed_fence();
	}
	atomic_store(&w->state, TANGLE_DEBUG_WAITER_WOKEN);
	if (result)
		*result = job.result;
	return TANGLE_OK;
}

void tangle__blocking_free(struct tangle_runtime *rt)
{
	struct tangle_blocking_pool *p = &rt->pool;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->cond);
	while (p->threads)
		pthread_cond_wait(&p->exited, &p->lock);
	pthread_mutex_unlock(&p->lock);
	pthread_cond_destroy(&p->cond);
	pthread_cond_destroy(&p->exited);
	pthread_mutex_destroy(&p->lock);
}
