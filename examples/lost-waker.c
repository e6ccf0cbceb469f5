/*
 * lost-waker: a one-shot reply slot built on the waker API, the way
 * tangle.h shows how to write a new primitive. The checkout task asks the
 * pricing task for a price and parks until the reply is there. The pricing
 * task fails to price the item and, on its error path, drops the waker
 * without waking anybody. checkout is parked and nothing can ever wake it.
 *
 * Expected: lost-waker, task checkout (parked on "price reply").
 * Fix: every path that drops a waker must first complete the slot and
 * wake it (reply_fail should call reply_complete with an error).
 */
#include <stdatomic.h>

#include "example.h"

/* The custom primitive: one value, one waiting task. */
struct reply {
	atomic_int done;
	long value;
	tangle_waker *waker; /* set by the waiting task */
	tangle_notify posted;
};

static void reply_complete(struct reply *r, long value)
{
	r->value = value;
	atomic_store(&r->done, 1);
	tangle_waker_wake(r->waker);
	tangle_waker_drop(r->waker);
}

/* The bug: gives up on the request and forgets the waiting task. */
static void reply_fail(struct reply *r)
{
	tangle_waker_drop(r->waker);
}

static long reply_wait(struct reply *r)
{
	r->waker = example_ptr(tangle_waker_current(), "waker");
	tangle_notify_one(&r->posted);
	while (!atomic_load(&r->done))
		tangle_park("price reply"); /* wait: park */
	return r->value;
}

static void *checkout(void *arg)
{
	struct reply *r = arg;
	long cents = reply_wait(r);
	return (void *)cents;
}

static void *price(void *arg)
{
	struct reply *r = arg;
	tangle_notify_wait(&r->posted);
	int in_catalog = 0; /* the item was discontinued */
	if (!in_catalog) {
		reply_fail(r);
		return NULL;
	}
	reply_complete(r, 1999);
	return NULL;
}

static void *main_task(void *arg)
{
	struct reply *r = arg;
	example_check(tangle_notify_init(&r->posted, "posted"), "notify");
	tangle_task *c = example_ptr(tangle_spawn("checkout", checkout, r), "spawn");
	tangle_task *p = example_ptr(tangle_spawn("pricing", price, r), "spawn");
	tangle_join(p, NULL);
	example_hung_after("lost-waker", EXAMPLE_SETTLE_MS);
	tangle_join(c, NULL); /* forever */
	return NULL;
}

int main(void)
{
	static struct reply r;
	return example_run("shop", 2, main_task, &r);
}
