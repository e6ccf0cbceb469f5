/*
 * held-across-await: the cache refresher locks "cache", then waits for a
 * slow origin server while it still holds the lock. A dozen lookups queue
 * for "cache" behind it: the service is down although nothing is
 * deadlocked.
 *
 * Expected: lock-held-across-await, task cache-refresh holding mutex
 * "cache", lookup-1 ... lookup-12 waiting for it.
 * Fix: fetch first, then lock only to swap the new entries in.
 */
#include "example.h"

#define LOOKUPS 12
#define ORIGIN_LATENCY_MS (10 * 60 * 1000) /* the origin is having a bad day */
#define PAST_THRESHOLD_MS 2500             /* the tools' threshold: 1000 ms */

struct cache {
	tangle_mutex lock;       /* "cache" */
	tangle_notify refreshing;
	int entries, hits;
};

/* Stands in for a request to the origin server over the network. */
static int fetch_from_origin(void)
{
	tangle_sleep_ms(ORIGIN_LATENCY_MS); /* wait: origin */
	return 128;
}

static void *refresh(void *arg)
{
	struct cache *c = arg;
	tangle_mutex_lock(&c->lock);
	tangle_notify_one(&c->refreshing);
	c->entries = fetch_from_origin(); /* the lock is held across the wait */
	tangle_mutex_unlock(&c->lock);
	return NULL;
}

static void *lookup(void *arg)
{
	struct cache *c = arg;
	tangle_mutex_lock(&c->lock); /* wait: cache */
	c->hits++;
	tangle_mutex_unlock(&c->lock);
	return NULL;
}

static void *main_task(void *arg)
{
	struct cache *c = arg;
	example_check(tangle_mutex_init(&c->lock, "cache"), "mutex");
	example_check(tangle_notify_init(&c->refreshing, "refreshing"), "notify");
	tangle_task *r = example_ptr(tangle_spawn("cache-refresh", refresh, c), "spawn");
	tangle_notify_wait(&c->refreshing);
	for (int i = 1; i <= LOOKUPS; i++) {
		char name[32];
		snprintf(name, sizeof name, "lookup-%d", i);
		example_check(tangle_detach(example_ptr(tangle_spawn(name, lookup, c),
		                                        "spawn")), "detach");
	}
	example_hung_after("held-across-await", PAST_THRESHOLD_MS);
	tangle_join(r, NULL); /* ten minutes */
	return NULL;
}

int main(void)
{
	static struct cache cache;
	return example_run("cache", 2, main_task, &cache);
}
