/*
 * select-deadlock: a dispatcher feeds jobs to a worker and audit records to
 * an auditor with tangle_select (whichever has room first), and collects
 * the results only once the whole batch is out. The worker and the auditor
 * both report on "results". Once "results" is full neither drains its
 * input, both inputs fill up, and neither op of the dispatcher's select can
 * ever complete.
 *
 * Expected: deadlock, shape channel, tasks dispatch, worker and auditor,
 * channels "jobs", "audit" and "results".
 * Fix: put the receive from "results" into the same select, so that the
 * dispatcher drains results while it waits to hand out work.
 */
#include "example.h"

#define CAPACITY 4
#define BATCH 1000 /* far more than the channels hold */

struct pipes {
	tangle_chan *jobs, *audit, *results;
};

static void *run_worker(void *arg)
{
	struct pipes *p = arg;
	long ready = -1, job;
	tangle_chan_send(p->results, &ready); /* hello: the dispatcher waits */
	while (tangle_chan_recv(p->jobs, &job) == TANGLE_OK) {
		long result = job * 2;
		tangle_chan_send(p->results, &result); /* wait: worker-send */
	}
	return NULL;
}

static void *run_auditor(void *arg)
{
	struct pipes *p = arg;
	long record;
	while (tangle_chan_recv(p->audit, &record) == TANGLE_OK) {
		long verdict = -record; /* every record gets a verdict */
		tangle_chan_send(p->results, &verdict); /* wait: auditor-send */
	}
	return NULL;
}

static long dispatch_batch(struct pipes *p, long first)
{
	long sent = 0;
	for (long i = 0; i < BATCH; i++) {
		long job = first + i, record = first + i;
		tangle_select_op ops[2] = {
			{.kind = TANGLE_SELECT_SEND, .chan = p->jobs, .value = &job},
			{.kind = TANGLE_SELECT_SEND, .chan = p->audit, .value = &record},
		};
		if (tangle_select(ops, 2, -1) >= 0) /* wait: select */
			sent++;
	}
	return sent;
}

static void *run_dispatch(void *arg)
{
	struct pipes *p = arg;
	long ready, value;
	tangle_chan_recv(p->results, &ready); /* the worker is up */
	for (long round = 0;; round++) {
		long sent = dispatch_batch(p, round * BATCH);
		for (long i = 0; i < sent; i++)
			if (tangle_chan_recv(p->results, &value) != TANGLE_OK)
				return NULL;
	}
}

static void *main_task(void *arg)
{
	(void)arg;
	static struct pipes p;
	p.jobs = example_ptr(tangle_chan_new(sizeof(long), CAPACITY, "jobs"), "chan");
	p.audit = example_ptr(tangle_chan_new(sizeof(long), CAPACITY, "audit"), "chan");
	p.results = example_ptr(tangle_chan_new(sizeof(long), CAPACITY, "results"), "chan");

	tangle_task *w = example_ptr(tangle_spawn("worker", run_worker, &p), "spawn");
	tangle_task *a = example_ptr(tangle_spawn("auditor", run_auditor, &p), "spawn");
	tangle_task *d = example_ptr(tangle_spawn("dispatch", run_dispatch, &p), "spawn");
	example_hung_after("select-deadlock", EXAMPLE_SETTLE_MS);
	tangle_join(d, NULL); /* forever */
	tangle_join(w, NULL);
	tangle_join(a, NULL);
	return NULL;
}

int main(void)
{
	return example_run("dispatch", 2, main_task, NULL);
}
