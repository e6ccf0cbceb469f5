/*
 * test_debug_table.c — the debug table read in-process the way a reader
 * reads it: find the root (by symbol, and by its ELF section as in a
 * stripped binary), check the header, then decode everything through the
 * layout only (never the runtime's structs): runtimes, workers, slabs, and
 * a sleeping task's record (state, wait, site, name, labels, spans, holds,
 * saved context); then the fields the runtime keeps up to date as it runs
 * (the clock pair, a mutex's longest hold, hold overflow, generations,
 * wakes, queues, switches, idle workers, the blocking pool).
 */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rt_test.h"
#include "tangle_debug.h"
#include "../../runtime/src/internal.h" /* only to add a hold and an object */

extern char tangle_debug_root[];

/* ---- A tiny reader over the layout --------------------------------------- */

static const struct tangle_debug_layout *layout;
static uint32_t layout_count;

static const struct tangle_debug_layout *entry(uint16_t rec, uint16_t field)
{
	for (uint32_t i = 0; i < layout_count; i++)
		if (layout[i].record == rec && layout[i].field == field)
			return &layout[i];
	return NULL;
}

static uint64_t rd(const void *base, uint16_t rec, uint16_t field)
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

static const void *ptr(const void *base, uint16_t rec, uint16_t field)
{
	return (const void *)(uintptr_t)rd(base, rec, field);
}

/* A field another thread may be writing as we read (a worker's counters,
 * the blocking pool's): one relaxed atomic load of the field's width, as
 * the runtime's own stores are. */
static uint64_t rd_live(const void *base, uint16_t rec, uint16_t field)
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

static const char *str_at(const void *base, uint16_t rec, uint16_t field)
{
	return (const char *)base + entry(rec, field)->offset;
}

static uint32_t rec_size(uint16_t rec)
{
	return entry(rec, TANGLE_DF_RECORD)->size;
}

/* ---- Finding the root by section ------------------------------------------- */

static uintptr_t main_bias;

static int first_object(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size, (void)data;
	main_bias = info->dlpi_addr;
	return 1;
}

static uintptr_t root_by_section(void)
{
	int fd = open("/proc/self/exe", O_RDONLY);
	assert_true(fd >= 0);
	struct stat st;
	fstat(fd, &st);
	const unsigned char *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	const Elf64_Ehdr *eh = (const void *)m;
	const Elf64_Shdr *sh = (const void *)(m + eh->e_shoff);
	const char *names = (const char *)m + sh[eh->e_shstrndx].sh_offset;
	uintptr_t addr = 0;
	for (int i = 0; i < eh->e_shnum; i++)
		if (strcmp(names + sh[i].sh_name, TANGLE_DEBUG_SECTION) == 0)
			addr = sh[i].sh_addr;
	munmap((void *)m, (size_t)st.st_size);
	dl_iterate_phdr(first_object, NULL);
	return addr ? addr + main_bias : 0;
}

static void the_root_is_found_by_symbol_and_by_section(void **state)
{
	(void)state;
	assert_ptr_equal((void *)root_by_section(), tangle_debug_root);
	const struct tangle_debug_header *h = (const void *)tangle_debug_root;
	assert_memory_equal(h->magic, TANGLE_DEBUG_MAGIC, 8);
	assert_int_equal(h->abi_major, TANGLE_DEBUG_ABI_MAJOR);
	assert_int_equal(h->header_size, sizeof *h);
	assert_int_equal(h->pointer_size, sizeof(void *));
	assert_int_equal(h->endian, TANGLE_DEBUG_LITTLE);
	assert_true(h->layout_offset + h->layout_count * sizeof(struct tangle_debug_layout) <=
	            h->root_size);
}

/* Every record and field that tangle_debug.h names is in the layout. */
static void the_layout_describes_every_field(void **state)
{
	(void)state;
	static const struct { uint16_t rec, fields; } want[] = {
		{TANGLE_DR_ROOT, 15},  {TANGLE_DR_RUNTIME, 16}, {TANGLE_DR_WORKER, 9},
		{TANGLE_DR_SLAB, 4},   {TANGLE_DR_TASK, 29},    {TANGLE_DR_WAITER, 14},
		{TANGLE_DR_HOLD, 5},   {TANGLE_DR_OBJECT, 23},  {TANGLE_DR_SITE, 3},
		{TANGLE_DR_LABEL, 2},  {TANGLE_DR_SPAN, 3},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct tangle_debug_layout *r = entry(want[i].rec, TANGLE_DF_RECORD);
		assert_non_null(r);
		for (uint16_t f = 1; f <= want[i].fields; f++) {
			if (want[i].rec == TANGLE_DR_WORKER &&
			    (f == TANGLE_DF_WORKER_CURRENT_ID ||
			     f == TANGLE_DF_WORKER_RUNNING_SINCE))
				continue; /* derived by readers since minor 2 */
			const struct tangle_debug_layout *e = entry(want[i].rec, f);
			if (!e)
				fail_msg("record %u lacks field %u", want[i].rec, f);
			assert_true(e->size > 0);
			if (want[i].rec != TANGLE_DR_ROOT)
				assert_true(e->offset + e->size <= r->size);
		}
	}
	/* ROOT's record is the whole root, layout included. */
	const struct tangle_debug_header *h = (const void *)tangle_debug_root;
	assert_int_equal(rec_size(TANGLE_DR_ROOT), h->root_size);
	/* Arrays give their total size. */
	assert_int_equal(entry(TANGLE_DR_TASK, TANGLE_DF_TASK_LABELS)->size,
	                 TANGLE_LABELS_MAX * rec_size(TANGLE_DR_LABEL));
	assert_int_equal(entry(TANGLE_DR_TASK, TANGLE_DF_TASK_SPANS)->size,
	                 TANGLE_SPANS_MAX * rec_size(TANGLE_DR_SPAN));
	assert_int_equal(entry(TANGLE_DR_TASK, TANGLE_DF_TASK_WAIT)->size,
	                 rec_size(TANGLE_DR_WAITER));
	/* The saved context: the resume pc is one of the slots. */
	const char *root = tangle_debug_root;
	uint64_t slots = rd(root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_CTX_SLOTS);
	assert_true(slots > 0 && slots <= TANGLE_DEBUG_CTX_MAX);
	const uint16_t *regs = (const void *)str_at(root, TANGLE_DR_ROOT,
	                                              TANGLE_DF_ROOT_CTX_REGS);
	int pcs = 0;
	for (uint64_t i = 0; i < slots; i++)
		pcs += regs[i] == TANGLE_DEBUG_CTX_PC;
	assert_int_equal(pcs, 1);
	assert_non_null(ptr(root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_RESUME_PC));
	assert_non_null(ptr(root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_ENTRY_PC));
	assert_int_equal(rd(root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_PID), getpid());
	assert_true(rd(root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_START_MONO) > 0);
	assert_true(rd(root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_START_REAL) > 0);
}

/* ---- A sleeping task's record ------------------------------------------------- */

static const tangle_site hold_site = {"held.c", "holder", 7, 0};
static int toy_object;
static _Atomic int ready;
static int sleep_line_expected;

static void *sleeper(void *arg)
{
	(void)arg;
	tangle_task_set_label("request", "r-17");
	tangle_task_set_label("user", "ada");
	tangle_task_set_label("user", "grace"); /* replaces */
	tangle_span_enter("outer");
	tangle_span_enter("inner");
	tangle__hold_add(&toy_object, TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, &hold_site);
	atomic_store(&ready, 1);
	sleep_line_expected = __LINE__ + 1;
	tangle_sleep_ms(60000); /* the line the record must show */
	tangle__hold_remove(&toy_object, TANGLE_DEBUG_HOLD_EXCLUSIVE, 1);
	tangle_span_exit();
	tangle_span_exit();
	return NULL;
}

static const void *find_runtime(const char *name)
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

static const void *find_task(const void *rt, const char *name, int *slabs_seen)
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

static void *table_body(void *arg)
{
	(void)arg;
	int sleep_line = 0;
	tangle_task *t = tangle_spawn("sleeper", sleeper, NULL);
	while (!atomic_load(&ready))
		tangle_yield();
	tangle_yield();

	const void *rt = find_runtime("dbgtable");
	assert_non_null(rt);
	assert_int_equal(rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_FLAVOR),
	                 TANGLE_DEBUG_FLAVOR_CURRENT_THREAD);
	assert_true(rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_TASKS_LIVE) >= 2);
	assert_true(rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_TASKS_SPAWNED) >= 2);
	assert_int_equal(rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_STACK_SIZE), 256 * 1024);

	/* Workers: an array with a stride; ours runs this task. */
	uint64_t nw = rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKER_COUNT);
	uint64_t stride = rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKER_STRIDE);
	assert_int_equal(nw, 1);
	assert_true(stride >= rec_size(TANGLE_DR_WORKER));
	const char *w = ptr(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKERS);
	assert_int_equal(rd(w, TANGLE_DR_WORKER, TANGLE_DF_WORKER_TID), gettid());
	assert_int_equal(rd(w, TANGLE_DR_WORKER, TANGLE_DF_WORKER_STATE),
	                 TANGLE_DEBUG_WORKER_RUNNING);
	assert_ptr_equal(ptr(w, TANGLE_DR_WORKER, TANGLE_DF_WORKER_CURRENT),
	                 tangle_task_current());
	/* Since minor 2 the current task's id and run start are its own
	 * record's ID and LAST_RAN_AT, not stored again on the worker. */
	assert_null(entry(TANGLE_DR_WORKER, TANGLE_DF_WORKER_CURRENT_ID));
	assert_null(entry(TANGLE_DR_WORKER, TANGLE_DF_WORKER_RUNNING_SINCE));
	const void *cur = ptr(w, TANGLE_DR_WORKER, TANGLE_DF_WORKER_CURRENT);
	assert_int_equal(rd(cur, TANGLE_DR_TASK, TANGLE_DF_TASK_ID),
	                 tangle_task_id(tangle_task_current()));
	assert_true(rd(cur, TANGLE_DR_TASK, TANGLE_DF_TASK_LAST_RAN_AT) != 0);

	/* The sleeper's record, found by walking the slabs. */
	int slabs;
	const char *rec = find_task(rt, "sleeper", &slabs);
	assert_true(slabs >= 1);
	assert_int_equal(slabs, rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_SLAB_COUNT));
	assert_ptr_equal(rec, t);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_ID), tangle_task_id(t));
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_STATE),
	                 TANGLE_DEBUG_TASK_WAITING);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_PARENT_ID),
	                 tangle_task_id(tangle_task_current()));
	assert_ptr_equal(ptr(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_RUNTIME), rt);
	assert_true(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_RESUMES) >= 1);
	const void *spawn = ptr(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_SPAWN_SITE);
	assert_non_null(strstr(ptr(spawn, TANGLE_DR_SITE, TANGLE_DF_SITE_FILE),
	                       "test_debug_table.c"));
	assert_string_equal(ptr(spawn, TANGLE_DR_SITE, TANGLE_DF_SITE_FUNCTION),
	                    "table_body");

	/* What it waits for. */
	const char *wait = rec + entry(TANGLE_DR_TASK, TANGLE_DF_TASK_WAIT)->offset;
	assert_int_equal(rd(wait, TANGLE_DR_WAITER, TANGLE_DF_WAITER_KIND),
	                 TANGLE_DEBUG_WAIT_SLEEP);
	assert_int_equal(rd(wait, TANGLE_DR_WAITER, TANGLE_DF_WAITER_OP),
	                 TANGLE_DEBUG_OP_SLEEP);
	assert_int_equal(rd(wait, TANGLE_DR_WAITER, TANGLE_DF_WAITER_STATE),
	                 TANGLE_DEBUG_WAITER_WAITING);
	assert_ptr_equal(ptr(wait, TANGLE_DR_WAITER, TANGLE_DF_WAITER_TASK), rec);
	uint64_t since = rd(wait, TANGLE_DR_WAITER, TANGLE_DF_WAITER_SINCE);
	uint64_t deadline = rd(wait, TANGLE_DR_WAITER, TANGLE_DF_WAITER_DEADLINE);
	assert_true(since > 0 && deadline > since);
	assert_true(deadline - since > 59000000000u);
	const void *site = ptr(wait, TANGLE_DR_WAITER, TANGLE_DF_WAITER_SITE);
	assert_non_null(strstr(ptr(site, TANGLE_DR_SITE, TANGLE_DF_SITE_FILE),
	                       "test_debug_table.c"));
	assert_string_equal(ptr(site, TANGLE_DR_SITE, TANGLE_DF_SITE_FUNCTION), "sleeper");
	sleep_line = (int)rd(site, TANGLE_DR_SITE, TANGLE_DF_SITE_LINE);
	assert_int_equal(sleep_line, sleep_line_expected);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_LIVE_WAKERS), 1); /* timer */

	/* Labels, spans, holds. */
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_LABEL_COUNT), 2);
	const char *labels = rec + entry(TANGLE_DR_TASK, TANGLE_DF_TASK_LABELS)->offset;
	const char *l1 = labels + rec_size(TANGLE_DR_LABEL);
	assert_string_equal(str_at(labels, TANGLE_DR_LABEL, TANGLE_DF_LABEL_KEY), "request");
	assert_string_equal(str_at(labels, TANGLE_DR_LABEL, TANGLE_DF_LABEL_VALUE), "r-17");
	assert_string_equal(str_at(l1, TANGLE_DR_LABEL, TANGLE_DF_LABEL_KEY), "user");
	assert_string_equal(str_at(l1, TANGLE_DR_LABEL, TANGLE_DF_LABEL_VALUE), "grace");
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_SPAN_DEPTH), 2);
	const char *spans = rec + entry(TANGLE_DR_TASK, TANGLE_DF_TASK_SPANS)->offset;
	assert_string_equal(ptr(spans, TANGLE_DR_SPAN, TANGLE_DF_SPAN_NAME), "outer");
	assert_string_equal(ptr(spans + rec_size(TANGLE_DR_SPAN), TANGLE_DR_SPAN,
	                        TANGLE_DF_SPAN_NAME), "inner");
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_COUNT), 1);
	const char *hold = rec + entry(TANGLE_DR_TASK, TANGLE_DF_TASK_HOLDS)->offset;
	assert_ptr_equal(ptr(hold, TANGLE_DR_HOLD, TANGLE_DF_HOLD_OBJECT), &toy_object);
	assert_int_equal(rd(hold, TANGLE_DR_HOLD, TANGLE_DF_HOLD_MODE),
	                 TANGLE_DEBUG_HOLD_EXCLUSIVE);
	assert_ptr_equal(ptr(hold, TANGLE_DR_HOLD, TANGLE_DF_HOLD_SITE), &hold_site);

	/* The saved context: sp inside the stack, the pc slot a code address
	 * that returns into the runtime's switch-out path. */
	uintptr_t sp = (uintptr_t)ptr(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_SAVED_SP);
	uintptr_t lo = (uintptr_t)ptr(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_STACK_LO);
	uintptr_t hi = (uintptr_t)ptr(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_STACK_HI);
	assert_true(lo < sp && sp < hi);
	assert_int_equal(hi - lo, 256 * 1024);
	const char *root = tangle_debug_root;
	uint64_t slots = rd(root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_CTX_SLOTS);
	const uint16_t *regs = (const void *)str_at(root, TANGLE_DR_ROOT,
	                                              TANGLE_DF_ROOT_CTX_REGS);
	uintptr_t pc = 0;
	for (uint64_t i = 0; i < slots; i++)
		if (regs[i] == TANGLE_DEBUG_CTX_PC)
			pc = ((const uintptr_t *)sp)[i];
	assert_true(pc > 4096);
	assert_true(sp + slots * sizeof(void *) <= hi);

	tangle_cancel(t);
	tangle_join(t, NULL);
	return NULL;
}

static void a_sleeping_tasks_record_reads_back(void **state)
{
	(void)state;
	tangle_config cfg = {.current_thread = 1, .name = "dbgtable"};
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	uint64_t seq = rd(tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_SEQ);
	assert_int_equal(tangle_runtime_run(rt, table_body, NULL), TANGLE_OK);
	assert_true(rd(tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_SEQ) > seq);
	tangle_runtime_free(rt);
	assert_null(find_runtime("dbgtable"));
}

/* The main task's spawn site is where tangle_runtime_run was called, on
 * both flavours. */
static int run_line;

static void *main_site_body(void *arg)
{
	const char *rtname = arg;
	int slabs;
	const void *me = find_task(find_runtime(rtname), "main", &slabs);
	assert_non_null(me);
	const void *site = ptr(me, TANGLE_DR_TASK, TANGLE_DF_TASK_SPAWN_SITE);
	assert_non_null(site);
	const char *file = ptr(site, TANGLE_DR_SITE, TANGLE_DF_SITE_FILE);
	assert_non_null(strstr(file, "test_debug_table.c"));
	assert_string_equal(ptr(site, TANGLE_DR_SITE, TANGLE_DF_SITE_FUNCTION),
	                    "the_main_tasks_spawn_site_is_the_run_call");
	assert_int_equal(rd(site, TANGLE_DR_SITE, TANGLE_DF_SITE_LINE), run_line);
	return NULL;
}

static void the_main_tasks_spawn_site_is_the_run_call(void **state)
{
	(void)state;
	for (int flavour = 0; flavour < 2; flavour++) {
		tangle_config cfg = {.current_thread = flavour, .workers = 1,
		                     .name = "mainsite"};
		tangle_runtime *rt = tangle_runtime_new(&cfg);
		assert_non_null(rt);
		run_line = __LINE__ + 1;
		assert_int_equal(tangle_runtime_run(rt, main_site_body, "mainsite"), TANGLE_OK);
		tangle_runtime_free(rt);
	}
}

static void objects_are_listed_in_the_registry(void **state)
{
	(void)state;
	static const tangle_site site = {"obj.c", "make", 3, 0};
	struct tangle_object o;
	memset(&o, 0, sizeof o);
	uint64_t n0 = rd(tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_OBJECT_COUNT);
	tangle__object_register(&o, TANGLE_DEBUG_OBJ_MUTEX, "toy-lock", &site);
	assert_int_equal(rd(tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_OBJECT_COUNT),
	                 n0 + 1);
	const void *found = NULL;
	const void *p = ptr(tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_OBJECTS);
	for (; p; p = ptr(p, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_NEXT))
		if (strcmp(ptr(p, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_NAME), "toy-lock") == 0)
			found = p;
	assert_ptr_equal(found, &o);
	assert_int_equal(rd(found, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_KIND),
	                 TANGLE_DEBUG_OBJ_MUTEX);
	assert_ptr_equal(ptr(found, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_CREATED_AT), &site);
	tangle__object_unregister(&o);
	assert_int_equal(rd(tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_OBJECT_COUNT),
	                 n0);
}

static int setup(void **state)
{
	(void)state;
	const struct tangle_debug_header *h = (const void *)tangle_debug_root;
	layout = (const void *)(tangle_debug_root + h->layout_offset);
	layout_count = h->layout_count;
	return 0;
}

static void *lone_yielder(void *arg)
{
	(void)arg;
	/* Alone on its worker: every yield comes straight back. */
	uint64_t end = rt_test_now_ns() + 50000000u;
	while (rt_test_now_ns() < end)
		tangle_yield();
	return NULL;
}

static void *measure_run_time(void *arg)
{
	uint64_t *r = arg;
	uint64_t t0 = rt_test_now_ns();
	tangle_task *t = tangle_spawn("yielder", lone_yielder, NULL);
	struct tangle_task *rec = (struct tangle_task *)t;
	while (atomic_load(&rec->sched.done) != 1)
		tangle_sleep_ms(1);
	r[0] = __atomic_load_n(&rec->run_ns, __ATOMIC_RELAXED);
	r[1] = rt_test_now_ns() - t0;
	tangle_join(t, NULL);
	return NULL;
}

static void run_time_counts_each_interval_once(void **state)
{
	(void)state;
	/* Its run time cannot exceed the time it lived (a coarse clock: some
	 * slack), however often it yielded with nothing else to run. */
	for (unsigned workers = 0; workers <= 2; workers += 2) {
		uint64_t r[2];
		rt_test_run(workers, measure_run_time, r);
		assert_true(r[0] > 0);
		assert_true(r[0] <= r[1] + 20000000u);
	}
}

/* ---- Fields the runtime keeps up to date as it runs ------------------------ */

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

static void *inc_nothing(void *arg)
{
	return arg;
}

static uint64_t real_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t task_state(const void *t)
{
	return rd_live(t, TANGLE_DR_TASK, TANGLE_DF_TASK_STATE);
}

static const char *worker_at(const void *rt, uint64_t i)
{
	const char *ws = ptr(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKERS);
	return ws + i * rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKER_STRIDE);
}

static tangle_runtime *new_runtime(unsigned workers, const char *name)
{
	tangle_config cfg = {.current_thread = workers == 0, .workers = workers,
	                     .name = name};
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	assert_non_null(rt);
	return rt;
}

/* ROOT SYNC_MONO / SYNC_REAL: the pair a worker takes as it parks and
 * wakes, both clocks read at that moment. */
struct sync_pair {
	uint64_t m0, r0, mono, real, m1, r1;
};

static void *sync_body(void *arg)
{
	struct sync_pair *s = arg;
	s->m0 = rt_test_now_ns();
	s->r0 = real_now_ns();
	/* Nothing else to run: the worker parks until the timer is due and
	 * takes the pair as it wakes, before it resumes us. */
	tangle_sleep_ms(20);
	s->mono = rd(tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_SYNC_MONO);
	s->real = rd(tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_SYNC_REAL);
	s->m1 = rt_test_now_ns();
	s->r1 = real_now_ns();
	return NULL;
}

static void the_sync_clock_pair_is_taken_when_a_worker_wakes(void **state)
{
	(void)state;
	struct sync_pair s;
	rt_test_run(0, sync_body, &s);
	/* Monotonic: taken after the timer was due, before we read it. */
	assert_true(s.mono >= s.m0 + 20 * MS);
	assert_true(s.mono <= s.m1);
	/* Realtime: in the same window (the wall clock may be slewed, so
	 * no 20 ms lower bound on it). */
	assert_true(s.real >= s.r0);
	assert_true(s.real <= s.r1);
	/* A pair: the two clocks read together, so their difference is the
	 * machine's (within preemption between the two reads). */
	int64_t ours = (int64_t)(s.r0 - s.m0), table = (int64_t)(s.real - s.mono);
	assert_true(llabs(table - ours) < (long long)(1000 * MS));
}

/* OBJECT LONGEST_HOLD, ACQUISITIONS, CONTENTIONS, and ROOT SEQ for the
 * object's registration, on a real mutex. */
struct hold_report {
	uint64_t seq0, seq_init, seq_destroy;
	uint64_t longest_first, longest_after_short, longest_after_contended;
	uint64_t held_for;      /* the first hold, measured around it */
	uint64_t acq[3], cont[3];
	int contender_locked;
};

static tangle_mutex hold_mutex;

static void *contender(void *arg)
{
	struct hold_report *r = arg;
	if (tangle_mutex_lock(&hold_mutex) == TANGLE_OK) {
		r->contender_locked = 1;
		tangle_mutex_unlock(&hold_mutex);
	}
	return NULL;
}

static void *hold_body(void *arg)
{
	struct hold_report *r = arg;
	const void *m = &hold_mutex;
	r->seq0 = rd(tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_SEQ);
	assert_int_equal(tangle_mutex_init(&hold_mutex, "held-long"), TANGLE_OK);
	r->seq_init = rd(tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_SEQ);
	assert_int_equal(rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_LONGEST_HOLD), 0);

	/* Held ~50 ms across a sleep. */
	uint64_t t0 = rt_test_now_ns();
	assert_int_equal(tangle_mutex_lock(&hold_mutex), TANGLE_OK);
	tangle_sleep_ms(50);
	assert_int_equal(tangle_mutex_unlock(&hold_mutex), TANGLE_OK);
	r->held_for = rt_test_now_ns() - t0;
	r->longest_first = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_LONGEST_HOLD);
	r->acq[0] = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_ACQUISITIONS);
	r->cont[0] = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_CONTENTIONS);

	/* A short hold later does not lower it. */
	assert_int_equal(tangle_mutex_lock(&hold_mutex), TANGLE_OK);
	assert_int_equal(tangle_mutex_unlock(&hold_mutex), TANGLE_OK);
	r->longest_after_short = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_LONGEST_HOLD);
	r->acq[1] = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_ACQUISITIONS);
	r->cont[1] = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_CONTENTIONS);

	/* A contended acquisition: the contender waits for our unlock. */
	assert_int_equal(tangle_mutex_lock(&hold_mutex), TANGLE_OK);
	tangle_task *c = tangle_spawn("contender", contender, r);
	assert_true(EVENTUALLY(rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITER_COUNT) == 1));
	assert_int_equal(tangle_mutex_unlock(&hold_mutex), TANGLE_OK);
	assert_int_equal(tangle_join(c, NULL), TANGLE_OK);
	r->longest_after_contended = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_LONGEST_HOLD);
	r->acq[2] = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_ACQUISITIONS);
	r->cont[2] = rd(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_CONTENTIONS);

	assert_int_equal(tangle_mutex_destroy(&hold_mutex), TANGLE_OK);
	r->seq_destroy = rd(tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_SEQ);
	return NULL;
}

static void a_mutex_keeps_its_longest_hold_and_counts(void **state)
{
	(void)state;
	struct hold_report r = {0};
	rt_test_run(0, hold_body, &r);
	assert_true(r.seq_init > r.seq0);       /* registered */
	assert_true(r.seq_destroy > r.seq_init); /* unregistered */
	assert_true(r.longest_first >= 50 * MS);
	/* The cached clock may lag at the lock: generous slack above. */
	assert_true(r.longest_first <= r.held_for + 1000 * MS);
	assert_int_equal(r.longest_after_short, r.longest_first);
	assert_int_equal(r.acq[0], 1);
	assert_int_equal(r.cont[0], 0);
	assert_int_equal(r.acq[1], 2);
	assert_int_equal(r.cont[1], 0);
	assert_int_equal(r.contender_locked, 1);
	assert_int_equal(r.acq[2], 4); /* ours and the contender's */
	assert_int_equal(r.cont[2], 1);
	assert_true(r.longest_after_contended >= r.longest_first);
}

/* TASK HOLD_COUNT / HOLD_OVERFLOW: more rwlock and semaphore holds than
 * the inline array has room for. */
enum { EXTRA_HOLDS = 2 };

static void *overflow_holds_body(void *arg)
{
	(void)arg;
	const void *me = tangle_task_current();
	unsigned room = entry(TANGLE_DR_TASK, TANGLE_DF_TASK_HOLDS)->size /
	                rec_size(TANGLE_DR_HOLD);
	assert_int_equal(room, 4);
	enum { N = 4 + EXTRA_HOLDS };
	tangle_rwlock locks[N / 2];
	tangle_sem sems[N - N / 2];
	for (int i = 0; i < N / 2; i++)
		assert_int_equal(tangle_rwlock_init(&locks[i], "ovf-lock"), TANGLE_OK);
	for (int i = 0; i < N - N / 2; i++)
		assert_int_equal(tangle_sem_init(&sems[i], 2, "ovf-sem"), TANGLE_OK);

	/* Alternately a write lock and a semaphore's permit: each a hold;
	 * past the array's room only counted. */
	for (int i = 0; i < N; i++) {
		if (i % 2 == 0)
			assert_int_equal(tangle_rwlock_write(&locks[i / 2]), TANGLE_OK);
		else
			assert_int_equal(tangle_sem_acquire(&sems[i / 2], 1), TANGLE_OK);
		uint64_t count = rd(me, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_COUNT);
		uint64_t over = rd(me, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_OVERFLOW);
		assert_int_equal(count, (unsigned)(i + 1) < room ? (unsigned)(i + 1) : room);
		assert_int_equal(over, (unsigned)(i + 1) > room ? (unsigned)(i + 1) - room : 0);
	}
	/* The stored ones are the first four, in order. */
	const char *holds = (const char *)me + entry(TANGLE_DR_TASK, TANGLE_DF_TASK_HOLDS)->offset;
	for (unsigned i = 0; i < room; i++) {
		const char *h = holds + i * rec_size(TANGLE_DR_HOLD);
		const void *obj = i % 2 == 0 ? (const void *)&locks[i / 2]
		                             : (const void *)&sems[i / 2];
		assert_ptr_equal(ptr(h, TANGLE_DR_HOLD, TANGLE_DF_HOLD_OBJECT), obj);
		assert_int_equal(rd(h, TANGLE_DR_HOLD, TANGLE_DF_HOLD_MODE),
		                 i % 2 == 0 ? TANGLE_DEBUG_HOLD_EXCLUSIVE
		                            : TANGLE_DEBUG_HOLD_PERMITS);
	}
	/* Let go in reverse: the unstored ones first, then the rest. */
	for (int i = N - 1; i >= 0; i--) {
		if (i % 2 == 0)
			assert_int_equal(tangle_rwlock_unlock(&locks[i / 2]), TANGLE_OK);
		else
			assert_int_equal(tangle_sem_release(&sems[i / 2], 1), TANGLE_OK);
		uint64_t count = rd(me, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_COUNT);
		uint64_t over = rd(me, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_OVERFLOW);
		assert_int_equal(count, (unsigned)i < room ? (unsigned)i : room);
		assert_int_equal(over, (unsigned)i > room ? (unsigned)i - room : 0);
	}
	for (int i = 0; i < N / 2; i++)
		assert_int_equal(tangle_rwlock_destroy(&locks[i]), TANGLE_OK);
	for (int i = 0; i < N - N / 2; i++)
		assert_int_equal(tangle_sem_destroy(&sems[i]), TANGLE_OK);
	return NULL;
}

static void holds_beyond_the_array_are_counted_as_overflow(void **state)
{
	(void)state;
	rt_test_run(0, overflow_holds_body, NULL);
}

/* TASK GENERATION: a freed slot taken by a later task is a new generation
 * (and a new id). */
static void *generation_body(void *arg)
{
	(void)arg;
	tangle_task *first = tangle_spawn("gen-first", inc_nothing, NULL);
	const void *rec = first;
	uint64_t gen = rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_GENERATION);
	uint64_t id = rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_ID);
	assert_true(gen >= 1);
	assert_int_equal(tangle_join(first, NULL), TANGLE_OK);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_STATE), TANGLE_DEBUG_TASK_FREE);
	/* Freed slots are reused (most recent first); find the later task
	 * that took this one. */
	int reused = 0;
	for (int i = 0; i < 64 && !reused; i++) {
		tangle_task *t = tangle_spawn("gen-later", inc_nothing, NULL);
		if ((const void *)t == rec) {
			reused = 1;
			assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_GENERATION),
			                 gen + 1);
			assert_true(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_ID) > id);
			assert_string_equal(str_at(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_NAME),
			                    "gen-later");
		}
		assert_int_equal(tangle_join(t, NULL), TANGLE_OK);
	}
	assert_true(reused);
	return NULL;
}

static void a_reused_slot_has_a_new_generation(void **state)
{
	(void)state;
	rt_test_run(0, generation_body, NULL);
}

/* TASK SPAWNED_AT, WAKES, WOKEN_AT, WOKEN_BY, FINISHED_AT and FLAGS
 * (cancel requested), for tasks woken by a task, by a plain thread and by
 * a cancel. */
struct woken {
	tangle_notify first, second;
	_Atomic int stage;
	uint64_t thread_before, thread_after;
};

static void *woken_twice(void *arg)
{
	struct woken *k = arg;
	atomic_store(&k->stage, 1);
	tangle_notify_wait(&k->first);
	atomic_store(&k->stage, 2);
	tangle_notify_wait(&k->second);
	atomic_store(&k->stage, 3);
	return NULL;
}

static void *notify_from_thread(void *arg)
{
	struct woken *k = arg;
	k->thread_before = rt_test_now_ns();
	tangle_notify_one(&k->second);
	k->thread_after = rt_test_now_ns();
	return NULL;
}

static void *sleeps_long(void *arg)
{
	(void)arg;
	tangle_sleep_ms(60000);
	return NULL;
}

static void *wake_body(void *arg)
{
	(void)arg;
	struct woken k = {0};
	tangle_notify_init(&k.first, "first");
	tangle_notify_init(&k.second, "second");
	uint64_t my_id = tangle_task_id(tangle_task_current());

	/* The sleep ends with the worker refreshing its cached clock: stamps
	 * taken after it are no earlier than t0. */
	uint64_t t0 = rt_test_now_ns();
	tangle_sleep_ms(2);
	tangle_task *t = tangle_spawn("woken", woken_twice, &k);
	uint64_t t1 = rt_test_now_ns();
	const void *rec = t;
	uint64_t spawned = rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_SPAWNED_AT);
	assert_true(spawned >= t0 && spawned <= t1);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WAKES), 0);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_AT), 0);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_BY), 0);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FINISHED_AT), 0);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FLAGS), 0);

	/* Woken by this task. */
	assert_true(EVENTUALLY(atomic_load(&k.stage) == 1 &&
	                       task_state(rec) == TANGLE_DEBUG_TASK_WAITING));
	uint64_t t2 = rt_test_now_ns();
	tangle_sleep_ms(2);
	assert_int_equal(tangle_notify_one(&k.first), TANGLE_OK);
	uint64_t t3 = rt_test_now_ns();
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WAKES), 1);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_BY), my_id);
	uint64_t woken_at = rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_AT);
	assert_true(woken_at >= t2 && woken_at <= t3);

	/* Woken by a plain thread: no task did it. */
	assert_true(EVENTUALLY(atomic_load(&k.stage) == 2 &&
	                       task_state(rec) == TANGLE_DEBUG_TASK_WAITING));
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, notify_from_thread, &k), 0);
	pthread_join(th, NULL);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WAKES), 2);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_BY), 0);
	woken_at = rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_AT);
	assert_true(woken_at >= k.thread_before && woken_at <= k.thread_after);

	/* Finished, not yet joined: DONE with its finish time. */
	assert_true(EVENTUALLY(task_state(rec) == TANGLE_DEBUG_TASK_DONE));
	assert_int_equal(atomic_load(&k.stage), 3);
	uint64_t finished = rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FINISHED_AT);
	assert_true(finished >= spawned && finished <= rt_test_now_ns());
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FLAGS) &
	                 TANGLE_DEBUG_TASKF_CANCEL_REQUESTED, 0);
	assert_int_equal(tangle_join(t, NULL), TANGLE_OK);

	/* Cancelled: the flag is set by tangle_cancel itself, the wake is
	 * ours, and it stays after the task returns. */
	tangle_task *c = tangle_spawn("cancelled", sleeps_long, NULL);
	rec = c;
	assert_true(EVENTUALLY(task_state(rec) == TANGLE_DEBUG_TASK_WAITING));
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FLAGS) &
	                 TANGLE_DEBUG_TASKF_CANCEL_REQUESTED, 0);
	assert_int_equal(tangle_cancel(c), TANGLE_OK);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FLAGS) &
	                 TANGLE_DEBUG_TASKF_CANCEL_REQUESTED,
	                 TANGLE_DEBUG_TASKF_CANCEL_REQUESTED);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_BY), my_id);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FINISHED_AT), 0);
	assert_true(EVENTUALLY(task_state(rec) == TANGLE_DEBUG_TASK_CANCELLED));
	assert_true(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FINISHED_AT) != 0);
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_FLAGS) &
	                 TANGLE_DEBUG_TASKF_CANCEL_REQUESTED,
	                 TANGLE_DEBUG_TASKF_CANCEL_REQUESTED);
	assert_int_equal(tangle_join(c, NULL), TANGLE_OK);

	tangle_notify_destroy(&k.first);
	tangle_notify_destroy(&k.second);
	return NULL;
}

static void wakes_record_when_and_by_whom(void **state)
{
	(void)state;
	rt_test_run(0, wake_body, NULL);
}

/* WORKER QUEUE_LEN and RUNTIME GLOBAL_QUEUE: tasks spawned without
 * yielding wait in the worker's queue; past its capacity they spill to
 * the runtime's global queue. */
enum { SPAWNED_AT_ONCE = 5, SPAWNED_PAST_CAPACITY = 300 };

static void *queues_body(void *arg)
{
	(void)arg;
	const void *rt = find_runtime("queues");
	assert_non_null(rt);
	const char *w = worker_at(rt, 0);
	tangle_task **t = calloc(SPAWNED_PAST_CAPACITY, sizeof *t);
	assert_non_null(t);
	assert_int_equal(rd(w, TANGLE_DR_WORKER, TANGLE_DF_WORKER_QUEUE_LEN), 0);
	for (int i = 0; i < SPAWNED_AT_ONCE; i++)
		t[i] = tangle_spawn("queued", inc_nothing, NULL);
	assert_int_equal(rd(w, TANGLE_DR_WORKER, TANGLE_DF_WORKER_QUEUE_LEN),
	                 SPAWNED_AT_ONCE);
	assert_int_equal(rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_GLOBAL_QUEUE), 0);
	for (int i = SPAWNED_AT_ONCE; i < SPAWNED_PAST_CAPACITY; i++)
		t[i] = tangle_spawn("queued", inc_nothing, NULL);
	uint64_t local = rd(w, TANGLE_DR_WORKER, TANGLE_DF_WORKER_QUEUE_LEN);
	uint64_t global = rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_GLOBAL_QUEUE);
	assert_true(global > 0);
	assert_true(local > 0);
	assert_int_equal(local + global, SPAWNED_PAST_CAPACITY);
	for (int i = 0; i < SPAWNED_PAST_CAPACITY; i++)
		assert_int_equal(tangle_join(t[i], NULL), TANGLE_OK);
	free(t);
	assert_int_equal(rd(w, TANGLE_DR_WORKER, TANGLE_DF_WORKER_QUEUE_LEN), 0);
	assert_int_equal(rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_GLOBAL_QUEUE), 0);
	return NULL;
}

static void *joins_them(void *arg)
{
	tangle_task **t = arg;
	for (int i = 0; i < 3; i++)
		assert_int_equal(tangle_join(t[i], NULL), TANGLE_OK);
	const void *rt = find_runtime("queues");
	assert_int_equal(rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_GLOBAL_QUEUE), 0);
	return NULL;
}

static void run_queues_and_the_global_queue_count_tasks(void **state)
{
	(void)state;
	tangle_runtime *r = new_runtime(0, "queues");
	const void *rt = find_runtime("queues");
	assert_non_null(rt);
	/* Spawned from a plain thread while nobody runs the runtime: they
	 * wait in the global queue, stamped with the exact clock. */
	tangle_task *t[3];
	uint64_t t0 = rt_test_now_ns();
	for (int i = 0; i < 3; i++)
		t[i] = tangle_spawn_on(r, "outside", inc_nothing, NULL);
	uint64_t t1 = rt_test_now_ns();
	assert_int_equal(rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_GLOBAL_QUEUE), 3);
	for (int i = 0; i < 3; i++) {
		uint64_t at = rd(t[i], TANGLE_DR_TASK, TANGLE_DF_TASK_SPAWNED_AT);
		assert_true(at >= t0 && at <= t1);
		assert_int_equal(rd(t[i], TANGLE_DR_TASK, TANGLE_DF_TASK_STATE),
		                 TANGLE_DEBUG_TASK_RUNNABLE);
	}
	assert_int_equal(tangle_runtime_run(r, joins_them, t), TANGLE_OK);
	assert_int_equal(tangle_runtime_run(r, queues_body, NULL), TANGLE_OK);
	tangle_runtime_free(r);
}

/* WORKER SWITCHES: every resumed task counts, on both flavours. */
struct switches {
	uint64_t spawn_join_delta, yield_delta;
};

static uint64_t all_switches(const void *rt)
{
	uint64_t n = 0, count = rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKER_COUNT);
	for (uint64_t i = 0; i < count; i++)
		n += rd_live(worker_at(rt, i), TANGLE_DR_WORKER, TANGLE_DF_WORKER_SWITCHES);
	return n;
}

static void *yields_a_while(void *arg)
{
	(void)arg;
	for (int i = 0; i < 40; i++)
		tangle_yield();
	return NULL;
}

static void *switches_body(void *arg)
{
	struct switches *s = arg;
	const void *rt = find_runtime("switches");
	/* Each spawned task is resumed at least once to run. */
	uint64_t before = all_switches(rt);
	for (int i = 0; i < 10; i++)
		tangle_join(tangle_spawn("once", inc_nothing, NULL), NULL);
	s->spawn_join_delta = all_switches(rt) - before;
	/* On one worker, each of our yields resumes the yielder and its
	 * yield resumes us. */
	if (rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKER_COUNT) == 1) {
		tangle_task *y = tangle_spawn("yielder", yields_a_while, NULL);
		before = all_switches(rt);
		for (int i = 0; i < 10; i++)
			tangle_yield();
		s->yield_delta = all_switches(rt) - before;
		tangle_join(y, NULL);
	}
	return NULL;
}

static void workers_count_their_switches(void **state)
{
	(void)state;
	for (unsigned workers = 0; workers <= 2; workers += 2) {
		struct switches s = {0};
		tangle_runtime *rt = new_runtime(workers, "switches");
		assert_int_equal(tangle_runtime_run(rt, switches_body, &s), TANGLE_OK);
		tangle_runtime_free(rt);
		assert_true(s.spawn_join_delta >= 10);
		if (workers == 0)
			assert_true(s.yield_delta >= 20);
	}
}

/* WORKER INDEX and IDLE_SINCE on a multi-thread runtime; the main task's
 * TASK WORKER names the worker that runs it. */
enum { IDLE_WORKERS = 3 };

struct idle_report {
	uint64_t index[IDLE_WORKERS];
	int64_t my_worker;
	int current_is_me;
	int found_idle;
	uint64_t idle_since, created, now;
};

static void *idle_body(void *arg)
{
	struct idle_report *r = arg;
	const void *rt = find_runtime("idle");
	const void *me = tangle_task_current();
	r->created = rd(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_CREATED_AT);
	for (uint64_t i = 0; i < IDLE_WORKERS; i++)
		r->index[i] = rd(worker_at(rt, i), TANGLE_DR_WORKER, TANGLE_DF_WORKER_INDEX);
	/* Nothing else to do: some other worker parks and says since when. */
	uint64_t end = rt_test_now_ns() + PATIENCE_NS;
	while (!r->found_idle && rt_test_now_ns() < end) {
		/* The worker running us, by our record and by its own. */
		r->my_worker = (int32_t)rd_live(me, TANGLE_DR_TASK, TANGLE_DF_TASK_WORKER);
		if (r->my_worker < 0 || r->my_worker >= IDLE_WORKERS)
			break;
		r->current_is_me = (const void *)(uintptr_t)rd_live(
			worker_at(rt, (uint64_t)r->my_worker), TANGLE_DR_WORKER,
			TANGLE_DF_WORKER_CURRENT) == me;
		for (uint64_t i = 0; i < IDLE_WORKERS; i++) {
			const char *w = worker_at(rt, i);
			if ((int64_t)i == r->my_worker)
				continue;
			uint64_t st = rd_live(w, TANGLE_DR_WORKER, TANGLE_DF_WORKER_STATE);
			uint64_t since = rd_live(w, TANGLE_DR_WORKER, TANGLE_DF_WORKER_IDLE_SINCE);
			if ((st == TANGLE_DEBUG_WORKER_IDLE || st == TANGLE_DEBUG_WORKER_POLLING) &&
			    since) {
				r->found_idle = 1;
				r->idle_since = since;
				r->now = rt_test_now_ns();
				break;
			}
		}
		if (!r->found_idle)
			tangle_sleep_ms(1);
	}
	return NULL;
}

static void workers_have_an_index_and_say_since_when_they_idle(void **state)
{
	(void)state;
	struct idle_report r = {0};
	tangle_runtime *rt = new_runtime(IDLE_WORKERS, "idle");
	assert_int_equal(tangle_runtime_run(rt, idle_body, &r), TANGLE_OK);
	tangle_runtime_free(rt);
	for (uint64_t i = 0; i < IDLE_WORKERS; i++)
		assert_int_equal(r.index[i], i);
	assert_true(r.my_worker >= 0 && r.my_worker < IDLE_WORKERS);
	assert_true(r.current_is_me);
	assert_true(r.found_idle);
	assert_true(r.idle_since >= r.created);
	assert_true(r.idle_since <= r.now);
}

/* RUNTIME WORKER_COUNT: workers = 0 means one per online CPU. */
static void the_default_worker_count_is_the_cpu_count(void **state)
{
	(void)state;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	assert_true(cpus > 0);
	tangle_runtime *a = tangle_runtime_new(NULL);
	assert_non_null(a);
	const void *ra = find_runtime("tangle");
	assert_non_null(ra);
	assert_int_equal(rd(ra, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKER_COUNT), cpus);
	assert_int_equal(rd(ra, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_FLAVOR),
	                 TANGLE_DEBUG_FLAVOR_MULTI_THREAD);
	tangle_runtime_free(a);
	tangle_config cfg = {.workers = 0, .name = "cpus"};
	tangle_runtime *b = tangle_runtime_new(&cfg);
	assert_non_null(b);
	const void *rb = find_runtime("cpus");
	assert_non_null(rb);
	assert_int_equal(rd(rb, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKER_COUNT), cpus);
	for (long i = 0; i < cpus; i++)
		assert_int_equal(rd(worker_at(rb, (uint64_t)i), TANGLE_DR_WORKER,
		                    TANGLE_DF_WORKER_INDEX), i);
	tangle_runtime_free(b);
}

/* RUNTIME BLOCKING_BUSY / BLOCKING_QUEUED: with one pool thread, one call
 * runs and a second waits for it. */
static _Atomic int gate_open, gate_entered;

static void *gated(void *arg)
{
	(void)arg;
	atomic_store(&gate_entered, 1);
	uint64_t end = rt_test_now_ns() + PATIENCE_NS;
	while (!atomic_load(&gate_open) && rt_test_now_ns() < end) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	return (void *)1;
}

static void *calls_blocking(void *arg)
{
	(void)arg;
	void *r = NULL;
	tangle_blocking(gated, NULL, &r);
	return r;
}

static uint64_t rt_busy(const void *rt)
{
	return rd_live(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_BLOCKING_BUSY);
}

static uint64_t rt_queued(const void *rt)
{
	return rd_live(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_BLOCKING_QUEUED);
}

static void *blocking_body(void *arg)
{
	(void)arg;
	const void *rt = find_runtime("pool");
	assert_int_equal(rt_busy(rt), 0);
	assert_int_equal(rt_queued(rt), 0);
	tangle_task *a = tangle_spawn("call-a", calls_blocking, NULL);
	assert_true(EVENTUALLY(atomic_load(&gate_entered) == 1));
	assert_int_equal(rt_busy(rt), 1);
	assert_int_equal(rt_queued(rt), 0);
	/* The pool's only thread is taken: the second call queues. */
	tangle_task *b = tangle_spawn("call-b", calls_blocking, NULL);
	const void *brec = b;
	assert_true(EVENTUALLY(task_state(brec) == TANGLE_DEBUG_TASK_WAITING));
	assert_int_equal(rt_busy(rt), 1);
	assert_int_equal(rt_queued(rt), 1);
	atomic_store(&gate_open, 1);
	void *ra = NULL, *rb = NULL;
	assert_int_equal(tangle_join(a, &ra), TANGLE_OK);
	assert_int_equal(tangle_join(b, &rb), TANGLE_OK);
	assert_ptr_equal(ra, (void *)1);
	assert_ptr_equal(rb, (void *)1);
	/* The pool thread counts itself out just after waking the caller. */
	assert_true(EVENTUALLY(rt_busy(rt) == 0));
	assert_int_equal(rt_queued(rt), 0);
	return NULL;
}

static void blocking_calls_are_counted_busy_and_queued(void **state)
{
	(void)state;
	tangle_config cfg = {.current_thread = 1, .blocking_threads = 1, .name = "pool"};
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	assert_non_null(rt);
	assert_int_equal(tangle_runtime_run(rt, blocking_body, NULL), TANGLE_OK);
	tangle_runtime_free(rt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_root_is_found_by_symbol_and_by_section),
		cmocka_unit_test(the_layout_describes_every_field),
		cmocka_unit_test(a_sleeping_tasks_record_reads_back),
		cmocka_unit_test(objects_are_listed_in_the_registry),
		cmocka_unit_test(the_main_tasks_spawn_site_is_the_run_call),
		cmocka_unit_test(run_time_counts_each_interval_once),
		cmocka_unit_test(the_sync_clock_pair_is_taken_when_a_worker_wakes),
		cmocka_unit_test(a_mutex_keeps_its_longest_hold_and_counts),
		cmocka_unit_test(holds_beyond_the_array_are_counted_as_overflow),
		cmocka_unit_test(a_reused_slot_has_a_new_generation),
		cmocka_unit_test(wakes_record_when_and_by_whom),
		cmocka_unit_test(run_queues_and_the_global_queue_count_tasks),
		cmocka_unit_test(workers_count_their_switches),
		cmocka_unit_test(workers_have_an_index_and_say_since_when_they_idle),
		cmocka_unit_test(the_default_worker_count_is_the_cpu_count),
		cmocka_unit_test(blocking_calls_are_counted_busy_and_queued),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
