/*
 * debug_reader.h — a tiny in-process reader of the debug table for the
 * runtime's tests: fields found through the layout the table carries
 * (record and field ids -> offset and size), never the runtime's structs.
 * Call debug_reader_setup first (a cmocka group setup).
 */
#ifndef TANGLE_TEST_DEBUG_READER_H
#define TANGLE_TEST_DEBUG_READER_H

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "rt_test.h"
#include "tangle_debug.h"

extern char tangle_debug_root[];

/* ---- A tiny reader over the layout --------------------------------------- */

static const struct tangle_debug_layout *layout;
static uint32_t layout_count;

static inline const struct tangle_debug_layout *entry(uint16_t rec, uint16_t field)
{
	for (uint32_t i = 0; i < layout_count; i++)
		if (layout[i].record == rec && layout[i].field == field)
			return &layout[i];
	return NULL;
}

static inline uint64_t rd(const void *base, uint16_t rec, uint16_t field)
{
	const struct tangle_debug_layout *e = entry(rec, field);
	assert_non_null(e);
	const unsigned char *p = (const unsigned char *)base + e->offset;
	switch (e->size) {
	case 1: return *p;
	case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
	case 8: { uint64_t v; memcpy(&v, p, 8); return v; }
	}
	fail_msg("field %u.%u has size %u", rec, field, e->size);
	return 0;
}

static inline const void *ptr(const void *base, uint16_t rec, uint16_t field)
{
	return (const void *)(uintptr_t)rd(base, rec, field);
}

/* A field another thread may be writing as we read (a worker's counters,
 * the blocking pool's): one relaxed atomic load of the field's width, as
 * the runtime's own stores are. */
static inline uint64_t rd_live(const void *base, uint16_t rec, uint16_t field)
{
	const struct tangle_debug_layout *e = entry(rec, field);
	assert_non_null(e);
	const void *p = (const unsigned char *)base + e->offset;
	switch (e->size) {
	case 1: return __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED);
	case 2: return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
	case 4: return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
	case 8: return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
	}
	fail_msg("field %u.%u has size %u", rec, field, e->size);
	return 0;
}

static inline const char *str_at(const void *base, uint16_t rec, uint16_t field)
{
	return (const char *)base + entry(rec, field)->offset;
}

static inline uint32_t rec_size(uint16_t rec)
{
	return entry(rec, TANGLE_DF_RECORD)->size;
}

/* ---- Runtimes and tasks by name -------------------------------------------- */

static inline const void *find_runtime(const char *name)
{
	const char *root = tangle_debug_root;
	const void *rt = ptr(root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_RUNTIMES);
	for (int guard = 0; rt && guard < 1000; guard++) {
		if (strcmp(str_at(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_NAME), name) == 0)
			return rt;
		rt = ptr(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_NEXT);
	}
	return NULL;
}

static inline const void *find_task(const void *rt, const char *name, int *slabs_seen)
{
	const void *slab = ptr(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_SLABS);
	const void *found = NULL;
	*slabs_seen = 0;
	for (; slab; slab = ptr(slab, TANGLE_DR_SLAB, TANGLE_DF_SLAB_NEXT)) {
		(*slabs_seen)++;
		uint64_t cap = rd(slab, TANGLE_DR_SLAB, TANGLE_DF_SLAB_CAPACITY);
		uint64_t stride = rd(slab, TANGLE_DR_SLAB, TANGLE_DF_SLAB_STRIDE);
		assert_int_equal(stride, rec_size(TANGLE_DR_TASK));
		const char *tasks = ptr(slab, TANGLE_DR_SLAB, TANGLE_DF_SLAB_TASKS);
		for (uint64_t i = 0; i < cap; i++) {
			const char *t = tasks + i * stride;
			if (rd(t, TANGLE_DR_TASK, TANGLE_DF_TASK_STATE) != TANGLE_DEBUG_TASK_FREE &&
			    strcmp(str_at(t, TANGLE_DR_TASK, TANGLE_DF_TASK_NAME), name) == 0)
				found = t;
		}
	}
	return found;
}

static inline int debug_reader_setup(void **state)
{
	(void)state;
	const struct tangle_debug_header *h = (const void *)tangle_debug_root;
	layout = (const void *)(tangle_debug_root + h->layout_offset);
	layout_count = h->layout_count;
	return 0;
}

/* ---- For tests that watch fields change ------------------------------------ */

#define MS 1000000ull
/* The bound for anything that waits on another task or thread: generous,
 * the machine may be busy. */
#define PATIENCE_NS (20000ull * MS)

/* Sleep in 1 ms steps until cond holds or PATIENCE_NS pass; whether it holds. */
#define EVENTUALLY(cond)                                                      \
	__extension__({                                                       \
		uint64_t end_ = rt_test_now_ns() + PATIENCE_NS;               \
		while (!(cond) && rt_test_now_ns() < end_)                    \
			tangle_sleep_ms(1);                                   \
		(cond);                                                       \
	})

static inline void *inc_nothing(void *arg)
{
	return arg;
}

static inline uint64_t real_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t task_state(const void *t)
{
	return rd_live(t, TANGLE_DR_TASK, TANGLE_DF_TASK_STATE);
}

static inline const char *worker_at(const void *rt, uint64_t i)
{
	const char *ws = ptr(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKERS);
	return ws + i * rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKER_STRIDE);
}

static inline tangle_runtime *new_runtime(unsigned workers, const char *name)
{
	tangle_config cfg = {.current_thread = workers == 0, .workers = workers,
	                     .name = name};
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	assert_non_null(rt);
	return rt;
}

#endif
