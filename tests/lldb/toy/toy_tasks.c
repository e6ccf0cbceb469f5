/*
 * toy_tasks: hand-made suspended "tasks" for testing the lldb OS plugin
 * before libtangle exists. Two tasks run on their own stacks until they
 * "wait" (switch back to main); main then prints "ready" and sleeps, for
 * a debugger to attach or the test to take a core dump.
 * A second real thread sleeps too, so real threads sit beside the tasks.
 *
 * toy_table lists the suspended tasks: id, name, what they wait for and
 * their saved stack pointer (frame: r15 r14 r13 r12 rbx rbp return).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void toy_switch(void **save_sp, void *to_sp);
void toy_entry(void);

struct toy_task {
	uint64_t id;
	char name[32];
	const char *wait;
	void *saved_sp;
};

struct toy_task toy_table[2];
int toy_count;
static void *main_sp;
static struct toy_task *current;

/* Every function of a task is out of line and no call is a tail call, so
 * a task's frames are the same at any optimisation level:
 * toy_wait <- take_lock <- transfer <- toy_entry. */
__attribute__((noinline)) static void toy_wait(const char *what)
{
	struct toy_task *self = current;
	self->wait = what;
	toy_switch(&self->saved_sp, main_sp);
	current = self;
}

__attribute__((noinline)) static int take_lock(const char *lock, int depth)
{
	volatile int held = depth * 10;
	toy_wait(lock);
	return held;
}

__attribute__((noinline)) static void *transfer(void *arg)
{
	struct toy_task *self = arg;
	volatile long amount = 100 + (long)self->id;
	volatile int result = take_lock(self->id == 12 ? "ledger" : "accounts", 2);
	return (void *)(amount + result);
}

static void start(struct toy_task *t)
{
	size_t size = 64 * 1024;
	char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
	                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED)
		exit(3);
	uintptr_t top = ((uintptr_t)stack + size - 16) & ~(uintptr_t)15;
	void **sp = (void **)top;
	*--sp = (void *)toy_entry;       /* return address */
	*--sp = NULL;                    /* rbp */
	*--sp = (void *)transfer;        /* rbx: function */
	*--sp = t;                       /* r12: argument */
	*--sp = NULL;                    /* r13 */
	*--sp = NULL;                    /* r14 */
	*--sp = NULL;                    /* r15 */
	current = t;
	toy_switch(&main_sp, sp);
	toy_count++;
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(void)
{
	pthread_t th;
	pthread_create(&th, NULL, sleeper, NULL);
	toy_table[0].id = 12;
	strcpy(toy_table[0].name, "transfer-a");
	toy_table[1].id = 13;
	strcpy(toy_table[1].name, "transfer-b");
	start(&toy_table[0]);
	start(&toy_table[1]);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
