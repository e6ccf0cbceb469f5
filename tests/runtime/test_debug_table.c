/*
 * test_debug_table.c — the debug table read in-process the way a reader
 * reads it: find the root (by symbol, and by its ELF section as in a
 * stripped binary), check the header, then decode everything through the
 * layout only (never the runtime's structs): runtimes, workers, slabs, and
 * a sleeping task's record (state, wait, site, name, labels, spans, holds,
 * saved context), the object registry, the main task's spawn site and run
 * time. The fields the runtime keeps up to date as it runs are in
 * test_debug_counters.c.
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

#include "debug_reader.h"
#include "../../runtime/src/internal.h" /* only to add a hold and an object */

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
		{TANGLE_DR_ROOT, 15},  {TANGLE_DR_RUNTIME, 16}, {TANGLE_DR_WORKER, 11},
		{TANGLE_DR_SLAB, 4},   {TANGLE_DR_TASK, 30},    {TANGLE_DR_WAITER, 15},
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
				continue; /* derived by readers since 2.0 */
			if ((want[i].rec == TANGLE_DR_TASK &&
			     f == TANGLE_DF_TASK_LIVE_WAKERS) ||
			    (want[i].rec == TANGLE_DR_WORKER &&
			     f == TANGLE_DF_WORKER_QUEUE_LEN) ||
			    (want[i].rec == TANGLE_DR_OBJECT &&
			     (f == TANGLE_DF_OBJECT_WAITER_COUNT ||
			      f == TANGLE_DF_OBJECT_WAITER2_COUNT))) {
				/* 2.1: derived by readers from fields kept
				 * anyway (WAKERS and QUEUE, RUNQ_HEAD/TAIL,
				 * the queue itself) */
				assert_null(entry(want[i].rec, f));
				continue;
			}
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
	/* its timer is its waker: shown by the deadline, not counted */
	assert_int_equal(rd(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_WAKERS), 0);
	assert_null(ptr(wait, TANGLE_DR_WAITER, TANGLE_DF_WAITER_QUEUE));

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_root_is_found_by_symbol_and_by_section),
		cmocka_unit_test(the_layout_describes_every_field),
		cmocka_unit_test(a_sleeping_tasks_record_reads_back),
		cmocka_unit_test(objects_are_listed_in_the_registry),
		cmocka_unit_test(the_main_tasks_spawn_site_is_the_run_call),
		cmocka_unit_test(run_time_counts_each_interval_once),
	};
	return cmocka_run_group_tests(tests, debug_reader_setup, NULL);
}
