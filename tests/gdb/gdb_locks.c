/*
 * gdb_locks.c — a libtangle program with one of each lock-like object, for
 * the gdb pretty-printer and deadlock tests: a lock-order deadlock on the
 * mutexes "accounts" and "ledger", a full channel "jobs" with a sender
 * waiting, a semaphore "permits" with one permit taken, an rwlock "config"
 * held for reading with a writer waiting, and a notify "wakeup" with a
 * waiter. It prints "gdb_locks ready" and calls gdb_locks_ready() from a
 * plain thread once everything waits; then aborts (argument "abort") or
 * waits.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tangle.h"

tangle_mutex accounts, ledger;
tangle_rwlock config;
tangle_sem permits;
tangle_notify wakeup;
tangle_chan *jobs;

static int arrived;   /* tasks about to make their last wait */

static void arrive(void)
{
	__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
}

__attribute__((noinline)) void gdb_locks_ready(void)
{
	__asm__ volatile("" ::: "memory");
}

static void lock_both(tangle_mutex *first, tangle_mutex *second)
{
	tangle_mutex_lock(first);
	tangle_sleep_ms(50);   /* until the other transfer holds its first */
	arrive();
	tangle_mutex_lock(second);
}

static void *transfer_a(void *arg)
{
	(void)arg;
	lock_both(&accounts, &ledger);
	return NULL;
}

static void *transfer_b(void *arg)
{
	(void)arg;
	lock_both(&ledger, &accounts);
	return NULL;
}

static void *producer(void *arg)
{
	(void)arg;
	int job = 1;
	tangle_chan_send(jobs, &job);
	arrive();
	tangle_chan_send(jobs, &job);
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	tangle_sem_acquire(&permits, 1);
	tangle_rwlock_read(&config);
	arrive();
	tangle_notify_wait(&wakeup);
	return NULL;
}

static void *writer(void *arg)
{
	(void)arg;
	while (__atomic_load_n(&arrived, __ATOMIC_SEQ_CST) < 4)
		tangle_sleep_ms(5);   /* the reader holds config */
	arrive();
	tangle_rwlock_write(&config);
	return NULL;
}

static void *main_task(void *arg)
{
	(void)arg;
	tangle_task *t[5] = {
		tangle_spawn("transfer-a", transfer_a, NULL),
		tangle_spawn("transfer-b", transfer_b, NULL),
		tangle_spawn("producer", producer, NULL),
		tangle_spawn("reader", reader, NULL),
		tangle_spawn("writer", writer, NULL),
	};
	for (int i = 0; i < 5; i++)
		if (!t[i] || tangle_detach(t[i]) != 0) {
			perror("tangle_spawn");
			exit(1);
		}
	return NULL;
}

int main(int argc, char **argv)
{
	tangle_mutex_init(&accounts, "accounts");
	tangle_mutex_init(&ledger, "ledger");
	tangle_rwlock_init(&config, "config");
	tangle_sem_init(&permits, 2, "permits");
	tangle_notify_init(&wakeup, "wakeup");
	jobs = tangle_chan_new(sizeof(int), 1, "jobs");
	tangle_config cfg = {.workers = 2, .name = "gdb-locks"};
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	if (!rt || !jobs) {
		perror("tangle");
		return 1;
	}
	if (tangle_runtime_run(rt, main_task, NULL) != 0)
		return 1;
	while (__atomic_load_n(&arrived, __ATOMIC_SEQ_CST) < 5)
		usleep(10 * 1000);
	usleep(50 * 1000);   /* from arriving to suspended */
	printf("gdb_locks ready\n");
	fflush(stdout);
	gdb_locks_ready();
	if (argc > 1 && strcmp(argv[1], "abort") == 0)
		abort();
	for (;;)
		pause();
}
