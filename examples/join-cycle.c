/*
 * join-cycle: the loader waits for the indexer to finish before it marks
 * the data loaded; the indexer waits for the loader to finish before it
 * builds the index. Each joins the other.
 *
 * Expected: deadlock, shape join, tasks loader and indexer.
 * Fix: one side must not wait for the other (use a channel or a notify
 * for "data loaded" instead of a join).
 */
#include "example.h"

struct pipeline {
	tangle_task *loader, *indexer;
	/* Each task starts once both handles are published. */
	tangle_notify loader_go, indexer_go;
	int loaded, indexed;
};

static void *load(void *arg)
{
	struct pipeline *p = arg;
	tangle_notify_wait(&p->loader_go);
	p->loaded = 1;
	tangle_join(p->indexer, NULL); /* wait: indexer */
	return NULL;
}

static void *build_index(void *arg)
{
	struct pipeline *p = arg;
	tangle_notify_wait(&p->indexer_go);
	tangle_join(p->loader, NULL); /* wait: loader */
	p->indexed = p->loaded;
	return NULL;
}

static void *main_task(void *arg)
{
	struct pipeline *p = arg;
	example_check(tangle_notify_init(&p->loader_go, "loader-go"), "notify");
	example_check(tangle_notify_init(&p->indexer_go, "indexer-go"), "notify");
	p->loader = example_ptr(tangle_spawn("loader", load, p), "spawn");
	p->indexer = example_ptr(tangle_spawn("indexer", build_index, p), "spawn");
	tangle_notify_one(&p->loader_go);
	tangle_notify_one(&p->indexer_go);
	example_hung_after("join-cycle", EXAMPLE_SETTLE_MS);
	for (;;) /* the handles belong to the two tasks now: just wait */
		tangle_sleep_ms(3600 * 1000);
	return NULL;
}

int main(void)
{
	static struct pipeline p;
	return example_run("pipeline", 2, main_task, &p);
}
