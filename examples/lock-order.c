/*
 * lock-order: two transfers take the "accounts" and "ledger" mutexes in
 * opposite orders (ABBA). transfer-a holds "accounts" and waits for
 * "ledger"; transfer-b holds "ledger" and waits for "accounts".
 *
 * Expected: deadlock, shape lock-order, between transfer-a and transfer-b.
 * Fix: take "accounts" before "ledger" everywhere.
 *
 * Usage: lock-order [N]: N payments go through first (default 0), so that
 * runs differ in task ids and addresses but not in the bug.
 */
#include "example.h"

struct bank {
	unsigned warm_up;       /* payments made before the collision */
	tangle_mutex accounts;  /* balances */
	tangle_mutex ledger;    /* the journal of every movement */
	long balance[2];
	long entries;
	/* Only to make the race that bites in production happen every run:
	 * each transfer tells the other when it holds its first lock. */
	tangle_notify a_has_first, b_has_first;
};

/* Debit, then record: "accounts" first, then "ledger". */
static void *transfer(void *arg)
{
	struct bank *bank = arg;
	tangle_mutex_lock(&bank->accounts);
	bank->balance[0] -= 100;
	bank->balance[1] += 100;
	tangle_notify_one(&bank->a_has_first);
	tangle_notify_wait(&bank->b_has_first);
	tangle_mutex_lock(&bank->ledger); /* wait: ledger */
	bank->entries++;
	tangle_mutex_unlock(&bank->ledger);
	tangle_mutex_unlock(&bank->accounts);
	return NULL;
}

/* A refund written later by someone else: record first, then credit. */
static void *refund(void *arg)
{
	struct bank *bank = arg;
	tangle_mutex_lock(&bank->ledger);
	bank->entries++;
	tangle_notify_one(&bank->b_has_first);
	tangle_notify_wait(&bank->a_has_first);
	tangle_mutex_lock(&bank->accounts); /* wait: accounts */
	bank->balance[1] -= 100;
	bank->balance[0] += 100;
	tangle_mutex_unlock(&bank->accounts);
	tangle_mutex_unlock(&bank->ledger);
	return NULL;
}

/* A payment that takes the locks in the right order. */
static void *pay(void *arg)
{
	struct bank *bank = arg;
	tangle_mutex_lock(&bank->accounts);
	tangle_mutex_lock(&bank->ledger);
	bank->balance[0] -= 1;
	bank->entries++;
	tangle_mutex_unlock(&bank->ledger);
	tangle_mutex_unlock(&bank->accounts);
	return NULL;
}

static void *main_task(void *arg)
{
	struct bank *bank = arg;
	example_check(tangle_mutex_init(&bank->accounts, "accounts"), "mutex");
	example_check(tangle_mutex_init(&bank->ledger, "ledger"), "mutex");
	example_check(tangle_notify_init(&bank->a_has_first, "a-has-first"), "notify");
	example_check(tangle_notify_init(&bank->b_has_first, "b-has-first"), "notify");

	for (unsigned i = 0; i < bank->warm_up; i++)
		example_check(tangle_join(example_ptr(tangle_spawn("payment", pay, bank),
		                                      "spawn"), NULL), "join");

	tangle_task *a = example_ptr(tangle_spawn("transfer-a", transfer, bank),
	                             "spawn");
	tangle_task *b = example_ptr(tangle_spawn("transfer-b", refund, bank),
	                             "spawn");
	example_hung_after("lock-order", EXAMPLE_SETTLE_MS);
	tangle_join(a, NULL); /* forever */
	tangle_join(b, NULL);
	return NULL;
}

int main(int argc, char **argv)
{
	static struct bank bank = {.balance = {1000, 1000}};
	if (argc > 1)
		bank.warm_up = (unsigned)strtoul(argv[1], NULL, 10);
	return example_run("bank", 2, main_task, &bank);
}
