/*
 * test_rwlock.c — the fair reader-writer lock, as a specification.
 *
 * Shared and exclusive holds, arrival-order fairness (consecutive readers
 * together, a waiting writer never starved by later readers), timeouts,
 * cancellation, and bad use.
 */
#include "sync_helpers.h"

struct shared {
	tangle_rwlock l;
	char log[64];          /* one letter per grant, in grant order */
	_Atomic int n;
	_Atomic int holding;   /* readers holding right now */
	_Atomic int max_holding;
	_Atomic int go;        /* holders let go once it is set */
};

struct arg {
	struct shared *s;
	char name;             /* lower case: reader; upper case: writer */
	int64_t timeout_ms;
};

static void note(struct shared *s, char c)
{
	s->log[atomic_fetch_add(&s->n, 1)] = c;
}

/* Take the lock as the name says, log it, hold it until `go`, let go. */
static void *client(void *p)
{
	struct arg *a = p;
	struct shared *s = a->s;
	bool write = a->name >= 'A' && a->name <= 'Z';
	int r = write ? tangle_rwlock_write_timeout(&s->l, a->timeout_ms)
	              : tangle_rwlock_read_timeout(&s->l, a->timeout_ms);
	if (r != TANGLE_OK)
		return INT_PTR(r);
	note(s, a->name);
	if (!write) {
		int h = atomic_fetch_add(&s->holding, 1) + 1;
		int m = atomic_load(&s->max_holding);
		while (h > m && !atomic_compare_exchange_weak(&s->max_holding, &m, h))
			;
	}
	settle(); /* let others granted with it show they hold it too */
	while (!atomic_load(&s->go))
		tangle_yield();
	if (!write)
		atomic_fetch_sub(&s->holding, 1);
	CHECK_OK(tangle_rwlock_unlock(&s->l));
	return INT_PTR(r);
}

/* ---- basics ------------------------------------------------------------------------- */

static void *shared_reader(void *p)
{
	return INT_PTR(tangle_rwlock_try_read(p) == TANGLE_OK
	                       ? tangle_rwlock_unlock(p)
	                       : -100);
}

static void *basics_main(void *p)
{
	(void)p;
	tangle_rwlock l;
	CHECK_OK(tangle_rwlock_init(&l, "basics"));
	/* Readers share. */
	CHECK_OK(tangle_rwlock_read(&l));
	CHECK_EQ(join_int(tangle_spawn("r2", shared_reader, &l)), TANGLE_OK);
	CHECK_EQ(tangle_rwlock_try_write(&l), TANGLE_EAGAIN);
	CHECK_EQ(tangle_rwlock_write_timeout(&l, 0), TANGLE_ETIMEDOUT);
	CHECK_OK(tangle_rwlock_unlock(&l));
	/* A writer excludes everyone. */
	CHECK_OK(tangle_rwlock_write(&l));
	CHECK_EQ(join_int(tangle_spawn("r2", shared_reader, &l)), -100);
	CHECK_EQ(tangle_rwlock_try_read(&l), TANGLE_EAGAIN);
	CHECK_EQ(tangle_rwlock_try_write(&l), TANGLE_EAGAIN);
	CHECK_OK(tangle_rwlock_unlock(&l)); /* releases the write hold */
	CHECK_EQ(tangle_rwlock_unlock(&l), TANGLE_ENOTOWNER);
	CHECK_OK(tangle_rwlock_try_write(&l));
	CHECK_OK(tangle_rwlock_unlock(&l));
	CHECK_OK(tangle_rwlock_try_read(&l));
	CHECK_OK(tangle_rwlock_unlock(&l)); /* releases the read hold */
	CHECK_EQ(tangle_rwlock_unlock(&l), TANGLE_ENOTOWNER);
	CHECK_OK(tangle_rwlock_destroy(&l));
	return NULL;
}

static void test_shared_and_exclusive(void **state)
{
	(void)state;
	run_rt(1, 1, basics_main, NULL);
}

/* ---- fairness -------------------------------------------------------------------------- */

/* Spawn clients in order (each queues before the next arrives). */
static void spawn_all(struct shared *s, const char *names, struct arg *a,
                      tangle_task **t)
{
	for (int i = 0; names[i]; i++) {
		a[i] = (struct arg){s, names[i], -1};
		t[i] = tangle_spawn("client", client, &a[i]);
		settle();
	}
}

/* Readers hold it; a writer queues; later readers queue behind the writer
 * instead of joining the current readers. */
static void *writer_not_starved_main(void *p)
{
	(void)p;
	struct shared s = {0};
	struct arg a[8];
	tangle_task *t[8];
	CHECK_OK(tangle_rwlock_init(&s.l, "fair"));
	spawn_all(&s, "abWcd", a, t);
	CHECK_EQ(s.n, 2); /* a and b hold; W waits; c, d wait behind W */
	CHECK_EQ(tangle_rwlock_try_read(&s.l), TANGLE_EAGAIN);
	atomic_store(&s.go, 1);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(join_int(t[i]), TANGLE_OK);
	CHECK_EQ(s.n, 5);
	CHECK(memcmp(s.log, "abW", 3) == 0);
	CHECK(s.log[3] == 'c' || s.log[3] == 'd');
	CHECK_OK(tangle_rwlock_destroy(&s.l));
	return NULL;
}

static void test_writer_not_starved(void **state)
{
	(void)state;
	run_rt(1, 1, writer_not_starved_main, NULL);
}

/* A writer holds it; the queue is r1 r2 W2 r3: releasing grants r1 and r2
 * together, then W2 alone, then r3. */
static void *readers_together_main(void *p)
{
	(void)p;
	struct shared s = {0};
	struct arg a[8];
	tangle_task *t[8];
	CHECK_OK(tangle_rwlock_init(&s.l, "batch"));
	spawn_all(&s, "WabXc", a, t);
	CHECK_EQ(s.n, 1);
	atomic_store(&s.go, 1); /* everyone releases as soon as it is granted */
	for (int i = 0; i < 5; i++)
		CHECK_EQ(join_int(t[i]), TANGLE_OK);
	CHECK_EQ(s.n, 5);
	CHECK(memcmp(s.log, "W", 1) == 0);
	CHECK((s.log[1] == 'a' && s.log[2] == 'b') ||
	      (s.log[1] == 'b' && s.log[2] == 'a'));
	CHECK_EQ(s.log[3], 'X');
	CHECK_EQ(s.log[4], 'c');
	CHECK_EQ(s.max_holding, 2); /* a and b held it at the same time */
	CHECK_OK(tangle_rwlock_destroy(&s.l));
	return NULL;
}

static void test_consecutive_readers_granted_together(void **state)
{
	(void)state;
	run_rt(1, 1, readers_together_main, NULL);
}

/* ---- timeouts and cancellation ------------------------------------------------------------ */

/* The writer at the head gives up: the readers queued behind it, which
 * are compatible with the current readers, are granted at once. */
static void *head_writer_leaves_main(void *p)
{
	(void)p;
	struct shared s = {0};
	struct arg a[4];
	tangle_task *t[4];
	CHECK_OK(tangle_rwlock_init(&s.l, "abort"));
	a[0] = (struct arg){&s, 'a', -1};
	a[1] = (struct arg){&s, 'W', 30};
	a[2] = (struct arg){&s, 'b', -1};
	for (int i = 0; i < 3; i++) {
		t[i] = tangle_spawn("client", client, &a[i]);
		settle();
	}
	CHECK_EQ(s.n, 1);
	CHECK_EQ(join_int(t[1]), TANGLE_ETIMEDOUT);
	settle();
	CHECK_EQ(s.n, 2); /* b got in once W left */
	CHECK_EQ(s.max_holding, 2);
	atomic_store(&s.go, 1);
	CHECK_EQ(join_int(t[0]), TANGLE_OK);
	CHECK_EQ(join_int(t[2]), TANGLE_OK);
	CHECK_OK(tangle_rwlock_try_write(&s.l));
	CHECK_OK(tangle_rwlock_unlock(&s.l));
	CHECK_OK(tangle_rwlock_destroy(&s.l));
	return NULL;
}

static void test_head_writer_timeout_admits_readers(void **state)
{
	(void)state;
	run_rt(1, 1, head_writer_leaves_main, NULL);
}

/* A writer is handed the lock and cancelled before it runs: the lock goes
 * on to the readers behind it. */
static void *cancel_granted_writer_main(void *p)
{
	(void)p;
	struct shared s = {0};
	struct arg a[4];
	tangle_task *t[4];
	CHECK_OK(tangle_rwlock_init(&s.l, "cancel"));
	CHECK_OK(tangle_rwlock_read(&s.l));
	a[0] = (struct arg){&s, 'W', -1};
	a[1] = (struct arg){&s, 'a', -1};
	a[2] = (struct arg){&s, 'b', -1};
	for (int i = 0; i < 3; i++) {
		t[i] = tangle_spawn("client", client, &a[i]);
		settle();
	}
	CHECK_EQ(s.n, 0);
	CHECK_OK(tangle_rwlock_unlock(&s.l)); /* handed to W */
	CHECK_OK(tangle_cancel(t[0]));
	atomic_store(&s.go, 1);
	CHECK_EQ(join_int(t[0]), TANGLE_ECANCELED);
	CHECK_EQ(join_int(t[1]), TANGLE_OK);
	CHECK_EQ(join_int(t[2]), TANGLE_OK);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(s.max_holding, 2);
	CHECK_OK(tangle_rwlock_try_write(&s.l));
	CHECK_OK(tangle_rwlock_unlock(&s.l));
	CHECK_OK(tangle_rwlock_destroy(&s.l));
	return NULL;
}

static void test_cancel_after_grant_passes_on(void **state)
{
	(void)state;
	run_rt(1, 1, cancel_granted_writer_main, NULL);
}

static void *cancel_waiting_main(void *p)
{
	(void)p;
	struct shared s = {0};
	struct arg a = {&s, 'a', -1};
	CHECK_OK(tangle_rwlock_init(&s.l, "cancel-wait"));
	CHECK_OK(tangle_rwlock_write(&s.l));
	tangle_task *t = tangle_spawn("reader", client, &a);
	settle();
	CHECK_OK(tangle_cancel(t));
	CHECK_EQ(join_int(t), TANGLE_ECANCELED);
	CHECK_OK(tangle_rwlock_unlock(&s.l));
	CHECK_OK(tangle_rwlock_try_write(&s.l)); /* nothing was left behind */
	CHECK_OK(tangle_rwlock_unlock(&s.l));
	CHECK_OK(tangle_rwlock_destroy(&s.l));
	return NULL;
}

static void test_cancel_while_waiting(void **state)
{
	(void)state;
	run_rt(1, 1, cancel_waiting_main, NULL);
}

/* A waiting writer is cancelled while the readers let go (two workers,
 * many rounds): it either gets the lock or not, the reader behind it gets
 * it in any case, and the lock is free afterwards. */
static void *canceller(void *p)
{
	tangle_cancel(p);
	return NULL;
}

static void *race_cancel_main(void *p)
{
	(void)p;
	struct shared s = {0};
	s.go = 1;
	int ok = 0;
	const int rounds = ROUNDS(1000);
	CHECK_OK(tangle_rwlock_init(&s.l, "race"));
	for (int round = 0; round < rounds; round++) {
		CHECK_OK(tangle_rwlock_read(&s.l));
		struct arg w = {&s, 'W', -1}, r = {&s, 'r', 5000};
		tangle_task *tw = tangle_spawn("writer", client, &w);
		for (int i = 0; i < round % 4; i++)
			tangle_yield();
		tangle_task *tr = tangle_spawn("reader", client, &r);
		for (int i = 0; i < round % 16; i++)
			tangle_yield();
		tangle_task *tc = tangle_spawn("canceller", canceller, tw);
		CHECK_OK(tangle_rwlock_unlock(&s.l));
		int e = (int)join_int(tw);
		CHECK(e == TANGLE_OK || e == TANGLE_ECANCELED);
		ok += e == TANGLE_OK;
		CHECK_EQ(join_int(tr), TANGLE_OK);
		join_int(tc);
		CHECK_OK(tangle_rwlock_try_write(&s.l));
		CHECK_OK(tangle_rwlock_unlock(&s.l));
		atomic_store(&s.n, 0);
	}
	CHECK(ok <= rounds);
	CHECK_OK(tangle_rwlock_destroy(&s.l));
	return NULL;
}

static void test_race_grant_vs_cancel(void **state)
{
	(void)state;
	run_rt(2, 0, race_cancel_main, NULL);
}

/* ---- exclusion under contention ---------------------------------------------------------------- */

struct pair {
	tangle_rwlock l;
	long a, b;              /* a == b whenever no writer holds it */
	_Atomic long bad_reads;
	_Atomic long reads;
};

static void *mixed(void *p)
{
	struct pair *x = p;
	uint32_t seed = (uint32_t)(uintptr_t)tangle_task_id(tangle_task_current());
	for (int i = 0; i < 2000; i++) {
		if (rnd_next(&seed) % 4 == 0) {
			CHECK_OK(tangle_rwlock_write(&x->l));
			x->a++;
			if (i % 5 == 0)
				tangle_yield();
			x->b++;
		} else {
			CHECK_OK(tangle_rwlock_read(&x->l));
			long a = x->a;
			if (i % 5 == 0)
				tangle_yield();
			if (a != x->b)
				atomic_fetch_add(&x->bad_reads, 1);
			atomic_fetch_add(&x->reads, 1);
		}
		CHECK_OK(tangle_rwlock_unlock(&x->l));
	}
	return NULL;
}

static void *contended_main(void *p)
{
	(void)p;
	struct pair x = {0};
	tangle_task *t[8];
	CHECK_OK(tangle_rwlock_init(&x.l, "pair"));
	for (int i = 0; i < 8; i++)
		t[i] = tangle_spawn("mixed", mixed, &x);
	for (int i = 0; i < 8; i++)
		join_int(t[i]);
	CHECK_EQ(x.a, x.b);
	CHECK_EQ(x.a + atomic_load(&x.reads), 8 * 2000);
	CHECK_EQ(atomic_load(&x.bad_reads), 0);
	CHECK_OK(tangle_rwlock_destroy(&x.l));
	return NULL;
}

static void test_exclusion_under_contention(void **state)
{
	(void)state;
	run_rt(2, 0, contended_main, NULL);
}

/* ---- bad use -------------------------------------------------------------------------------------- */

static void *unlock_other(void *p)
{
	return INT_PTR(tangle_rwlock_unlock(p));
}

static void *errors_main(void *p)
{
	(void)p;
	tangle_rwlock l;
	CHECK_OK(tangle_rwlock_init(&l, "errors"));
	CHECK_EQ(tangle_rwlock_unlock(&l), TANGLE_ENOTOWNER);
	CHECK_OK(tangle_rwlock_write(&l));
	CHECK_EQ(join_int(tangle_spawn("other", unlock_other, &l)),
	         TANGLE_ENOTOWNER);
	CHECK_EQ(tangle_rwlock_destroy(&l), TANGLE_EBUSY);
	CHECK_OK(tangle_rwlock_unlock(&l));
	CHECK_OK(tangle_rwlock_read(&l));
	/* A task without a read hold cannot release someone else's. */
	CHECK_EQ(join_int(tangle_spawn("other", unlock_other, &l)),
	         TANGLE_ENOTOWNER);
	CHECK_EQ(tangle_rwlock_destroy(&l), TANGLE_EBUSY);
	CHECK_OK(tangle_rwlock_unlock(&l));
	CHECK_OK(tangle_rwlock_destroy(&l));

	CHECK_EQ(tangle_rwlock_init(NULL, "x"), TANGLE_EINVAL);
	CHECK_EQ(tangle_rwlock_read(NULL), TANGLE_EINVAL);
	CHECK_EQ(tangle_rwlock_write(NULL), TANGLE_EINVAL);
	CHECK_EQ(tangle_rwlock_try_read(NULL), TANGLE_EINVAL);
	CHECK_EQ(tangle_rwlock_unlock(NULL), TANGLE_EINVAL);
	return NULL;
}

static void test_errors(void **state)
{
	(void)state;
	run_rt(1, 1, errors_main, NULL);
}

static void test_outside_task(void **state)
{
	(void)state;
	tangle_rwlock l;
	assert_int_equal(tangle_rwlock_init(&l, "plain"), TANGLE_OK);
	assert_int_equal(tangle_rwlock_read(&l), TANGLE_ENOTASK);
	assert_int_equal(tangle_rwlock_write(&l), TANGLE_ENOTASK);
	assert_int_equal(tangle_rwlock_try_read(&l), TANGLE_ENOTASK);
	assert_int_equal(tangle_rwlock_try_write(&l), TANGLE_ENOTASK);
	assert_int_equal(tangle_rwlock_unlock(&l), TANGLE_ENOTASK);
	assert_int_equal(tangle_rwlock_destroy(&l), TANGLE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_and_exclusive),
		cmocka_unit_test(test_writer_not_starved),
		cmocka_unit_test(test_consecutive_readers_granted_together),
		cmocka_unit_test(test_head_writer_timeout_admits_readers),
		cmocka_unit_test(test_cancel_after_grant_passes_on),
		cmocka_unit_test(test_cancel_while_waiting),
		cmocka_unit_test(test_race_grant_vs_cancel),
		cmocka_unit_test(test_exclusion_under_contention),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_outside_task),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
