/*
 * channel-ring: a three-stage pipeline closed into a ring. parse sends to
 * enrich over "parsed", enrich to store over "enriched", and store sends
 * acknowledgements back to parse over "acks". Every stage flushes its whole
 * batch downstream before it reads its input, and a batch is larger than a
 * channel's capacity: all three channels fill up, every stage waits to
 * send, and no stage ever receives.
 *
 * Expected: deadlock, shape channel, tasks parse, enrich and store,
 * channels "parsed", "enriched" and "acks".
 * Fix: receive and send in one loop (tangle_select), or give the ring a
 * channel that can never fill up.
 */
#include "example.h"

#define CAPACITY 4
#define BATCH 8 /* > CAPACITY */

struct stage {
	tangle_chan *in, *out;
	long seen;
};

static void flush_batch(struct stage *st, long first)
{
	for (long i = 0; i < BATCH; i++) {
		long record = first + i;
		tangle_chan_send(st->out, &record); /* wait: send */
	}
}

static void *run_stage(void *arg)
{
	struct stage *st = arg;
	for (long round = 0;; round++) {
		flush_batch(st, round * BATCH);
		for (long i = 0; i < BATCH; i++) {
			long record;
			if (tangle_chan_recv(st->in, &record) != TANGLE_OK)
				return NULL;
			st->seen++;
		}
	}
}

static void *main_task(void *arg)
{
	(void)arg;
	static struct stage parse, enrich, store;
	tangle_chan *parsed = example_ptr(tangle_chan_new(sizeof(long), CAPACITY, "parsed"), "chan");
	tangle_chan *enriched = example_ptr(tangle_chan_new(sizeof(long), CAPACITY, "enriched"), "chan");
	tangle_chan *acks = example_ptr(tangle_chan_new(sizeof(long), CAPACITY, "acks"), "chan");
	parse = (struct stage){acks, parsed, 0};
	enrich = (struct stage){parsed, enriched, 0};
	store = (struct stage){enriched, acks, 0};

	tangle_task *t1 = example_ptr(tangle_spawn("parse", run_stage, &parse), "spawn");
	tangle_task *t2 = example_ptr(tangle_spawn("enrich", run_stage, &enrich), "spawn");
	tangle_task *t3 = example_ptr(tangle_spawn("store", run_stage, &store), "spawn");
	example_hung_after("channel-ring", EXAMPLE_SETTLE_MS);
	/* Nothing else happens in this program: the tools see that every task
	 * waits and nothing can wake any of them. */
	tangle_join(t1, NULL); /* forever */
	tangle_join(t2, NULL);
	tangle_join(t3, NULL);
	return NULL;
}

int main(void)
{
	return example_run("ring", 2, main_task, NULL);
}
