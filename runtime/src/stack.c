/*
 * stack.c — task slots in slabs, and their stacks.
 *
 * A stack is one mapping: a PROT_NONE guard page, then stack_size usable
 * bytes (stack_lo .. stack_hi). It stays with its slot when the task ends,
 * so a spawn usually takes slot and stack with one pop from the free list;
 * beyond TANGLE__STACKS_POOLED free stacks, freed ones are unmapped.
 *
 * Slabs (header + records) are never unmapped before their runtime is
 * freed, so a task pointer stays valid memory for the runtime's life.
 * Overflow reports are in overflow.c.
 */
#include <errno.h>
#include <sys/mman.h>

#include "scheduler.h"

#define SLAB_MIN 64u
#define SLAB_MAX 1024u

static size_t slab_header_size(void)
{
	return (sizeof(struct tangle_slab) + 63) & ~(size_t)63;
}

/* Add a slab and put its records on the free list (alloc_lock held). */
static int slab_add(struct tangle_runtime *rt)
{
	uint32_t cap = rt->next_slab_capacity ? rt->next_slab_capacity : SLAB_MIN;
	size_t size = slab_header_size() + (size_t)cap * sizeof(struct tangle_task);
	size = (size + rt->page_size - 1) & ~(rt->page_size - 1);
	struct tangle_slab *s = mmap(NULL, size, PROT_READ | PROT_WRITE,
	                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		return -1;
	s->capacity = cap;
	s->stride = sizeof(struct tangle_task);
	s->tasks = (struct tangle_task *)((char *)s + slab_header_size());
	s->map_size = size;
	for (uint32_t i = 0; i < cap; i++) {
		struct tangle_task *t = &s->tasks[i];
		t->sched.handle = TANGLE__H_RELEASED;
		t->sched.timer_index = -1;
		t->sched.next = NULL;
		if (rt->free_tail)
			rt->free_tail->sched.next = t;
		else
			rt->free_head = t;
		rt->free_tail = t;
	}
	s->next = rt->slabs;
	__atomic_store_n(&rt->slabs, s, __ATOMIC_RELEASE);
	__atomic_store_n(&rt->slab_count, rt->slab_count + 1, __ATOMIC_RELAXED);
	rt->next_slab_capacity = cap < SLAB_MAX ? cap * 2 : SLAB_MAX;
	tangle__debug_seq_bump();
	return 0;
}

static int stack_map(struct tangle_runtime *rt, struct tangle_task *t)
{
	size_t guard = rt->page_size, size = rt->stack_size + guard;
	char *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
	               -1, 0);
	if (m == MAP_FAILED)
		return -1;
	if (mprotect(m, guard, PROT_NONE)) {
		munmap(m, size);
		return -1;
	}
	t->sched.stack_map = m;
	t->sched.stack_map_size = size;
	t->stack_lo = m + guard;
	t->stack_hi = m + size;
	return 0;
}

static void stack_unmap(struct tangle_task *t)
{
	munmap(t->sched.stack_map, t->sched.stack_map_size);
	t->sched.stack_map = NULL;
	t->sched.stack_map_size = 0;
	t->stack_lo = t->stack_hi = NULL;
}

/* Put a slot (with or without its stack) back on the free list. FIFO: a
 * freed slot is reused last, which keeps a stale handle (a double join)
 * detectable for as long as possible. */
static void free_list_push(struct tangle_runtime *rt, struct tangle_task *t)
{
	t->sched.next = NULL;
	tangle__spin_lock(&rt->alloc_lock);
	if (t->sched.stack_map)
		__atomic_store_n(&rt->free_stacks, rt->free_stacks + 1,
		                 __ATOMIC_RELAXED);
	if (rt->free_tail)
		rt->free_tail->sched.next = t;
	else
		rt->free_head = t;
	rt->free_tail = t;
	tangle__spin_unlock(&rt->alloc_lock);
}

struct tangle_task *tangle__slot_alloc(struct tangle_runtime *rt)
{
	tangle__spin_lock(&rt->alloc_lock);
	if (!rt->free_head && slab_add(rt)) {
		tangle__spin_unlock(&rt->alloc_lock);
		return NULL;
	}
	struct tangle_task *t = rt->free_head;
	rt->free_head = t->sched.next;
	if (!rt->free_head)
		rt->free_tail = NULL;
	if (t->sched.stack_map)
		__atomic_store_n(&rt->free_stacks, rt->free_stacks - 1,
		                 __ATOMIC_RELAXED);
	tangle__spin_unlock(&rt->alloc_lock);
	t->sched.next = NULL;
	if (!t->sched.stack_map && stack_map(rt, t)) {
		free_list_push(rt, t);
		return NULL;
	}
	return t;
}

void tangle__slot_free(struct tangle_runtime *rt, struct tangle_task *t)
{
	atomic_store_explicit(&t->state, TANGLE_DEBUG_TASK_FREE, memory_order_relaxed);
	atomic_store_explicit(&t->sched.state, TANGLE__S_NEW, memory_order_relaxed);
	atomic_store_explicit(&t->sched.handle, TANGLE__H_RELEASED,
	                      memory_order_relaxed);
	__atomic_fetch_sub(&rt->tasks_live, 1, __ATOMIC_RELAXED);
	/* Racy count: the pool size is a soft limit. */
	if (t->sched.stack_map &&
	    __atomic_load_n(&rt->free_stacks, __ATOMIC_RELAXED) >= TANGLE__STACKS_POOLED)
		stack_unmap(t);
	free_list_push(rt, t);
}

void tangle__slabs_free(struct tangle_runtime *rt)
{
	struct tangle_slab *s = rt->slabs, *next;
	for (; s; s = next) {
		next = s->next;
		for (uint32_t i = 0; i < s->capacity; i++) {
			struct tangle_task *t = &s->tasks[i];
#if TANGLE_TSAN
			if (t->sched.tsan_fiber &&
			    atomic_load(&t->sched.state) != TANGLE__S_DONE)
				__tsan_destroy_fiber(t->sched.tsan_fiber);
#endif
			if (t->sched.stack_map)
				stack_unmap(t);
		}
		munmap(s, s->map_size);
	}
	rt->slabs = NULL;
	rt->slab_count = 0;
	tangle__debug_seq_bump();
}
