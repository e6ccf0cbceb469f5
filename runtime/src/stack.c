/*
 * stack.c — task slots in slabs, and their stacks.
 *
 * A stack is one mapping: a PROT_NONE guard page, then stack_size usable
 * bytes (stack_lo .. stack_hi). It stays with its slot when the task ends,
 * so a spawn usually takes slot and stack with one pop from a free list;
 * beyond TANGLE__STACKS_POOLED free stacks on the shared list, freed ones
 * are unmapped.
 *
 * Free slots: each worker keeps up to SLOT_CACHE_MAX in a LIFO cache that
 * only it touches (no lock: a slot freed on a worker is the next one that
 * worker spawns into, record and stack still hot); the rest are on the
 * runtime's shared FIFO list under alloc_lock, exchanged with the caches
 * in batches. Slots freed or taken off the workers use the shared list.
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
#define SLOT_CACHE_MAX 32u   /* free slots a worker keeps */
#define SLOT_BATCH 8u        /* taken from the shared list at once */

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
		t->rt = rt;
		t->wait.task = t;
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
#if TANGLE_ASAN
	/* The mapping may reuse addresses of an earlier stack unmapped with
	 * poisoned redzones (a task abandoned by tangle_runtime_free). */
	ASAN_UNPOISON_MEMORY_REGION(t->stack_lo, rt->stack_size);
#endif
	return 0;
}

static void stack_unmap(struct tangle_task *t)
{
#if TANGLE_ASAN
	ASAN_UNPOISON_MEMORY_REGION(t->stack_lo,
	                            (char *)t->stack_hi - (char *)t->stack_lo);
#endif
	munmap(t->sched.stack_map, t->sched.stack_map_size);
	t->sched.stack_map = NULL;
	t->sched.stack_map_size = 0;
	t->stack_lo = t->stack_hi = NULL;
}

/* ---- The free slots: per-worker caches over a shared list ------------------- */

/* Put a chain of n slots (first..last) on the shared list (alloc_lock). */
static void shared_put(struct tangle_runtime *rt, struct tangle_task *first,
                       struct tangle_task *last, uint32_t stacks)
{
	last->sched.next = NULL;
	tangle__spin_lock(&rt->alloc_lock);
	if (stacks)
		__atomic_store_n(&rt->free_stacks, rt->free_stacks + stacks,
		                 __ATOMIC_RELAXED);
	if (rt->free_tail)
		rt->free_tail->sched.next = first;
	else
		rt->free_head = first;
	rt->free_tail = last;
	tangle__spin_unlock(&rt->alloc_lock);
}

/* One slot from the shared list (adding a slab if it is empty), and up to
 * SLOT_BATCH more into w's cache when w is given. */
static struct tangle_task *shared_take(struct tangle_runtime *rt,
                                       struct tangle_worker *w)
{
	tangle__spin_lock(&rt->alloc_lock);
	if (!rt->free_head && slab_add(rt)) {
		tangle__spin_unlock(&rt->alloc_lock);
		return NULL;
	}
	uint32_t want = w ? SLOT_BATCH + 1 : 1, stacks = 0, n = 0;
	struct tangle_task *first = rt->free_head, *t = first, *last = NULL;
	for (; t && n < want; n++) {
		stacks += t->sched.stack_map != NULL;
		last = t;
		t = t->sched.next;
	}
	rt->free_head = t;
	if (!t)
		rt->free_tail = NULL;
	__atomic_store_n(&rt->free_stacks, rt->free_stacks - stacks, __ATOMIC_RELAXED);
	tangle__spin_unlock(&rt->alloc_lock);
	last->sched.next = NULL;
	if (first != last) {
		w->slot_cache = first->sched.next;
		w->slot_cached = n - 1;
	}
	return first;
}

struct tangle_task *tangle__slot_alloc(struct tangle_runtime *rt,
                                       struct tangle_worker *w)
{
	struct tangle_task *t = w ? w->slot_cache : NULL;
	if (likely(t)) {
		w->slot_cache = t->sched.next;
		w->slot_cached--;
	} else if (!(t = shared_take(rt, w))) {
		return NULL;
	}
	if (unlikely(!t->sched.stack_map) && stack_map(rt, t)) {
		shared_put(rt, t, t, 0);
		return NULL;
	}
	return t;
}

void tangle__slot_free(struct tangle_runtime *rt, struct tangle_task *t)
{
	atomic_store_explicit(&t->sched.state, TANGLE__S_NEW, memory_order_relaxed);
	atomic_store_explicit(&t->sched.handle, TANGLE__H_RELEASED,
	                      memory_order_relaxed);
	__atomic_fetch_sub(&rt->tasks_live, 1, __ATOMIC_RELAXED);
	struct tangle_worker *w = tangle__worker_self();
	if (w && w->rt == rt) {
		/* LIFO: the next spawn here takes this slot, its record and
		 * stack still in cache. */
		t->sched.next = w->slot_cache;
		w->slot_cache = t;
		if (++w->slot_cached <= SLOT_CACHE_MAX)
			return;
		/* Full: the older half goes to the shared list. */
		struct tangle_task *keep = t, *first, *last;
		for (uint32_t i = 1; i < SLOT_CACHE_MAX / 2; i++)
			keep = keep->sched.next;
		first = keep->sched.next;
		keep->sched.next = NULL;
		uint32_t n = w->slot_cached - SLOT_CACHE_MAX / 2, stacks = 0;
		w->slot_cached = SLOT_CACHE_MAX / 2;
		last = first;
		for (uint32_t i = 0;; i++) {
			stacks += last->sched.stack_map != NULL;
			if (i + 1 == n)
				break;
			last = last->sched.next;
		}
		shared_put(rt, first, last, stacks);
		return;
	}
	/* Racy count: the pool size is a soft limit. */
	if (t->sched.stack_map &&
	    __atomic_load_n(&rt->free_stacks, __ATOMIC_RELAXED) >= TANGLE__STACKS_POOLED)
		stack_unmap(t);
	shared_put(rt, t, t, t->sched.stack_map != NULL);
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
			    !tangle__sched_finished(atomic_load(&t->sched.state)))
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
