/*
 * self-deadlock: compact() locks the "journal" mutex, then calls a helper,
 * flush_journal(), that locks it again. tangle mutexes are not reentrant,
 * so the compactor task waits for itself forever.
 *
 * Expected: deadlock, shape self, task compactor, mutex "journal".
 * Fix: let the helper assume the lock is held (flush_journal_locked).
 */
#include "example.h"

struct store {
	tangle_mutex journal;  /* guards the write-ahead journal */
	int pending;
	int flushed;
};

/* Written for callers that do not hold the journal lock. */
static void flush_journal(struct store *s)
{
	tangle_mutex_lock(&s->journal); /* wait: journal */
	s->flushed += s->pending;
	s->pending = 0;
	tangle_mutex_unlock(&s->journal);
}

static void *compact(void *arg)
{
	struct store *s = arg;
	tangle_mutex_lock(&s->journal);
	s->pending += 10;
	flush_journal(s); /* the journal lock is already ours */
	tangle_mutex_unlock(&s->journal);
	return NULL;
}

static void *main_task(void *arg)
{
	struct store *s = arg;
	example_check(tangle_mutex_init(&s->journal, "journal"), "mutex");
	tangle_task *t = example_ptr(tangle_spawn("compactor", compact, s), "spawn");
	example_hung_after("self-deadlock", EXAMPLE_SETTLE_MS);
	tangle_join(t, NULL); /* forever */
	return NULL;
}

int main(void)
{
	static struct store store;
	return example_run("store", 2, main_task, &store);
}
