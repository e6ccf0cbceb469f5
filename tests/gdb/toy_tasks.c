/*
 * toy_tasks.c — two "tasks" on their own stacks, each suspended three calls
 * deep with a hand-made switch (toy_context.S), then the main thread stops
 * in toy_ready(). The gdb tests point the tangle unwinder at a toy task's
 * saved context and check that gdb's bt, frame, up, down, info locals and
 * print show the task's own frames, on a live process and on a core.
 *
 * Usage: toy_tasks [abort]   (abort: dump core at the stop instead of
 * waiting)
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct toy_task {
	void *saved_sp;   /* r15 r14 r13 r12 rbx rbp ret, from here up */
	int id;
	const char *name;
};

void toy_switch(void **save, void *load);
void toy_entry(void);

struct toy_task toy_tasks[2];
static void *toy_main_sp;
volatile int toy_keep_waiting = 1;

/* For the pretty-printer and $tangle_task tests: a pointer of the type the
 * printers know, at a record the fake engine describes. */
typedef struct tangle_task tangle_task;
tangle_task *toy_task_ptr;
/* For the reader tests: 100 readable bytes, then an unmapped page. */
char *toy_edge;

static __attribute__((noinline)) void toy_suspend(struct toy_task *t)
{
	toy_switch(&t->saved_sp, toy_main_sp);
}

static __attribute__((noinline)) void toy_leaf(struct toy_task *t, int depth)
{
	volatile int leaf_marker = 1000 + t->id;
	volatile long leaf_depth = depth;
	toy_suspend(t);
	printf("%d %ld\n", leaf_marker, leaf_depth);
}

static __attribute__((noinline)) void toy_middle(struct toy_task *t)
{
	volatile int middle_var = 7 * t->id;
	toy_leaf(t, middle_var + 1);
	printf("%d\n", middle_var);
}

static __attribute__((noinline)) void toy_body(void *arg)
{
	struct toy_task *t = arg;
	volatile const char *body_name = t->name;
	toy_middle(t);
	printf("%s\n", body_name);
}

static void toy_start(struct toy_task *t)
{
	size_t size = 64 * 1024;
	char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
	                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	/* The first switch pops six registers and returns into toy_entry;
	 * toy_entry then calls r12(r13) with a 16-byte aligned stack. */
	uintptr_t *sp = (uintptr_t *)(stack + size) - 8;
	sp[0] = 0;                        /* r15 */
	sp[1] = 0;                        /* r14 */
	sp[2] = (uintptr_t)t;             /* r13: arg */
	sp[3] = (uintptr_t)toy_body;      /* r12: fn */
	sp[4] = 0;                        /* rbx */
	sp[5] = 0;                        /* rbp */
	sp[6] = (uintptr_t)toy_entry;     /* return address */
	t->saved_sp = sp;
	void *into = t->saved_sp;
	toy_switch(&toy_main_sp, into);
}

__attribute__((noinline)) void toy_ready(void)
{
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	toy_tasks[0] = (struct toy_task){.id = 1, .name = "toy-one"};
	toy_tasks[1] = (struct toy_task){.id = 2, .name = "toy-two"};
	toy_start(&toy_tasks[0]);
	toy_start(&toy_tasks[1]);
	toy_task_ptr = (tangle_task *)&toy_tasks[1];
	char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
	                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (two == MAP_FAILED || munmap(two + 4096, 4096) != 0) {
		perror("mmap");
		return 1;
	}
	memset(two, 'x', 4096);
	toy_edge = two + 4096 - 100;
	printf("toy ready\n");
	fflush(stdout);
	toy_ready();
	if (argc > 1 && strcmp(argv[1], "abort") == 0)
		abort();
	while (toy_keep_waiting)
		pause();
	return 0;
}
