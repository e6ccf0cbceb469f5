/*
 * orphaned-lock: the migration task locks the "schema" mutex, hits an
 * error and returns early, without unlocking. The mutex stays owned by a
 * task that has finished; every API task that needs the schema waits
 * forever.
 *
 * Expected: orphaned-lock, mutex "schema" owned by the finished task
 * migrate, api-1 ... api-4 waiting for it.
 * Fix: unlock on every path out (one exit label).
 */
#include "example.h"

#define API_TASKS 4

struct db {
	tangle_mutex schema; /* "schema" */
	tangle_notify migrating;
	int version;
};

static int apply(struct db *db, int to)
{
	return to > db->version + 1 ? -1 : 0; /* a migration is missing */
}

static void *migrate(void *arg)
{
	struct db *db = arg;
	tangle_mutex_lock(&db->schema);
	tangle_notify_one(&db->migrating);
	if (apply(db, 3) != 0)
		return (void *)-1L; /* the early return forgets the unlock */
	db->version = 3;
	tangle_mutex_unlock(&db->schema);
	return NULL;
}

static void *serve(void *arg)
{
	struct db *db = arg;
	tangle_mutex_lock(&db->schema); /* wait: schema */
	int version = db->version;
	tangle_mutex_unlock(&db->schema);
	return (void *)(long)version;
}

static void *main_task(void *arg)
{
	struct db *db = arg;
	tangle_task *api[API_TASKS];
	example_check(tangle_mutex_init(&db->schema, "schema"), "mutex");
	example_check(tangle_notify_init(&db->migrating, "migrating"), "notify");
	tangle_task *m = example_ptr(tangle_spawn("migrate", migrate, db), "spawn");
	tangle_notify_wait(&db->migrating);
	for (int i = 0; i < API_TASKS; i++) {
		char name[32];
		snprintf(name, sizeof name, "api-%d", i + 1);
		api[i] = example_ptr(tangle_spawn(name, serve, db), "spawn");
	}
	example_hung_after("orphaned-lock", EXAMPLE_SETTLE_MS);
	for (int i = 0; i < API_TASKS; i++)
		tangle_join(api[i], NULL); /* forever */
	tangle_join(m, NULL);
	return NULL;
}

int main(void)
{
	static struct db db = {.version = 1};
	return example_run("migrations", 2, main_task, &db);
}
