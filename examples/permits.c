/*
 * permits: a pool of 2 database connections (semaphore "db-pool"). Each
 * export task takes one connection to read its table, then calls
 * copy_rows(), which needs two more at once. Both hold one, both wait for
 * two: hold-and-wait on permits.
 *
 * Expected: deadlock, shape permits, tasks export-users and export-orders,
 * semaphore "db-pool".
 * Fix: take all the connections a job needs in one acquire.
 */
#include "example.h"

struct db {
	tangle_sem pool;  /* connections */
	/* Only to make both exports hold their first connection every run. */
	tangle_notify users_has_one, orders_has_one;
};

struct export_job {
	struct db *db;
	tangle_notify *mine, *other;
	int rows;
};

/* Bulk copy: a reader and a writer connection. */
static void copy_rows(struct export_job *job)
{
	tangle_sem_acquire(&job->db->pool, 2); /* wait: copy */
	job->rows += 1000;
	tangle_sem_release(&job->db->pool, 2);
}

static void *export_table(void *arg)
{
	struct export_job *job = arg;
	tangle_sem_acquire(&job->db->pool, 1); /* read the schema */
	tangle_notify_one(job->mine);
	tangle_notify_wait(job->other);
	copy_rows(job);
	tangle_sem_release(&job->db->pool, 1);
	return NULL;
}

static void *main_task(void *arg)
{
	struct db *db = arg;
	static struct export_job users, orders;
	example_check(tangle_sem_init(&db->pool, 2, "db-pool"), "sem");
	example_check(tangle_notify_init(&db->users_has_one, "users-has-one"), "notify");
	example_check(tangle_notify_init(&db->orders_has_one, "orders-has-one"), "notify");
	users = (struct export_job){db, &db->users_has_one, &db->orders_has_one, 0};
	orders = (struct export_job){db, &db->orders_has_one, &db->users_has_one, 0};

	tangle_task *a = example_ptr(tangle_spawn("export-users", export_table, &users),
	                             "spawn");
	tangle_task *b = example_ptr(tangle_spawn("export-orders", export_table, &orders),
	                             "spawn");
	example_hung_after("permits", EXAMPLE_SETTLE_MS);
	tangle_join(a, NULL); /* forever */
	tangle_join(b, NULL);
	return NULL;
}

int main(void)
{
	static struct db db;
	return example_run("exporter", 2, main_task, &db);
}
