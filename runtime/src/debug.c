/*
 * debug.c — the debug table's root, its layout, and the object registry.
 *
 * The root is the exported symbol tangle_debug_root in its own writable
 * section ".tangle_debug" (found by symbol, or by section in a stripped
 * binary). It starts with the frozen header, then the ROOT fields, then
 * the layout: one entry per record giving its size and one per field
 * giving offsetof/sizeof in the runtime's real structs, so readers never
 * compile against those structs (docs/debug-table.md).
 *
 * Lists (runtimes, objects) change under `registry_lock`, and SEQ is bumped
 * after every change; pointers are stored with release, counts relaxed.
 */
#include <stddef.h>
#include <unistd.h>

#include "scheduler.h"

/* Entries in the layout: one per record and one per field below
 * (checked at compile time). */
#define LAYOUT_N 132

struct tangle_debug_root_s {
	struct tangle_debug_header header;
	struct tangle_runtime *runtimes;
	uint32_t runtime_count;
	uint32_t object_count;
	struct tangle_object *objects;
	uint64_t start_mono;
	uint64_t start_real;
	uint64_t sync_mono;
	uint64_t sync_real;
	uint16_t arch;
	uint16_t ctx_slots;
	uint16_t ctx_regs[TANGLE_DEBUG_CTX_MAX];
	uint32_t pid;
	const void *resume_pc;
	const void *entry_pc;
	uint64_t seq;
	struct tangle_debug_layout layout[LAYOUT_N];
};

#define R(rec, type) {rec, TANGLE_DF_RECORD, 0, sizeof(type), 0}
#define F(rec, fid, type, member) \
	{rec, fid, offsetof(type, member), sizeof(((type *)0)->member), 0}

#define ROOT_T struct tangle_debug_root_s
#define ROOT_SIZE sizeof(ROOT_T) /* its fields and the layout: root_size */
#define RT_T struct tangle_runtime
#define W_T struct tangle_worker
#define SLAB_T struct tangle_slab
#define T_T struct tangle_task
#define WT_T struct tangle_waiter
#define H_T struct tangle_hold
#define O_T struct tangle_object
#define S_T tangle_site
#define L_T struct tangle_label
#define SP_T struct tangle_span

#define LAYOUT_ENTRIES                                                                 \
	{TANGLE_DR_ROOT, TANGLE_DF_RECORD, 0, ROOT_SIZE, 0},                                                     \
	F(TANGLE_DR_ROOT, TANGLE_DF_ROOT_RUNTIMES, ROOT_T, runtimes),                  \
	F(TANGLE_DR_ROOT, TANGLE_DF_ROOT_RUNTIME_COUNT, ROOT_T, runtime_count),        \
	F(TANGLE_DR_ROOT, TANGLE_DF_ROOT_OBJECTS, ROOT_T, objects),                    \
	F(TANGLE_DR_ROOT, TANGLE_DF_ROOT_OBJECT_COUNT, ROOT_T, object_count),          \
	F(TANGLE_DR_ROOT, TANGLE_DF_ROOT_START_MONO, ROOT_T, start_mono),              \
	F(TANGLE_DR_ROOT, TANGLE_DF_ROOT_START_REAL, ROOT_T, start_real),              \
	F(TANGLE_DR_ROOT, TANGLE_DF_ROOT_SYNC_MONO, ROOT_T, sync_mono),                \
	F(TANGLE_DR_ROOT, TANGLE_DF_ROOT_SYNC_REAL, ROOT_T, sync_real),                \
	F(TANGLE_DR_ROOT, TANGLE_DF_ROOT_ARCH, ROOT_T, arch),                          \
	F(TANGLE_DR_ROOT, TANGLE_DF_ROOT_CTX_SLOTS, ROOT_T, ctx_slots),                \
	F(TANGLE_DR_ROOT, TANGLE_DF_ROOT_CTX_REGS, ROOT_T, ctx_regs),                  \
	F(TANGLE_DR_ROOT, TANGLE_DF_ROOT_RESUME_PC, ROOT_T, resume_pc),                \
	F(TANGLE_DR_ROOT, TANGLE_DF_ROOT_ENTRY_PC, ROOT_T, entry_pc),                  \
	F(TANGLE_DR_ROOT, TANGLE_DF_ROOT_PID, ROOT_T, pid),                            \
	F(TANGLE_DR_ROOT, TANGLE_DF_ROOT_SEQ, ROOT_T, seq),                            \
                                                                                       \
	R(TANGLE_DR_RUNTIME, RT_T),                                                    \
	F(TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_NEXT, RT_T, next),                      \
	F(TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_ID, RT_T, id),                          \
	F(TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_NAME, RT_T, name),                      \
	F(TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_FLAVOR, RT_T, flavor),                  \
	F(TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKERS, RT_T, workers),                \
	F(TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKER_COUNT, RT_T, worker_count),      \
	F(TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_WORKER_STRIDE, RT_T, worker_stride),    \
	F(TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_SLABS, RT_T, slabs),                    \
	F(TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_SLAB_COUNT, RT_T, slab_count),          \
	F(TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_TASKS_LIVE, RT_T, tasks_live),          \
	F(TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_TASKS_SPAWNED, RT_T, tasks_spawned),    \
	F(TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_CREATED_AT, RT_T, created_at),          \
	F(TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_STACK_SIZE, RT_T, stack_size),          \
	F(TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_GLOBAL_QUEUE, RT_T, global_len),        \
	F(TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_BLOCKING_BUSY, RT_T, blocking_busy),    \
	F(TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_BLOCKING_QUEUED, RT_T, blocking_queued),\
                                                                                       \
	R(TANGLE_DR_WORKER, W_T),                                                      \
	F(TANGLE_DR_WORKER, TANGLE_DF_WORKER_INDEX, W_T, index),                       \
	F(TANGLE_DR_WORKER, TANGLE_DF_WORKER_TID, W_T, tid),                           \
	F(TANGLE_DR_WORKER, TANGLE_DF_WORKER_STATE, W_T, state),                       \
	F(TANGLE_DR_WORKER, TANGLE_DF_WORKER_CURRENT, W_T, current),                   \
	F(TANGLE_DR_WORKER, TANGLE_DF_WORKER_SWITCHES, W_T, switches),                 \
	F(TANGLE_DR_WORKER, TANGLE_DF_WORKER_IDLE_SINCE, W_T, idle_since),             \
	F(TANGLE_DR_WORKER, TANGLE_DF_WORKER_RUNQ_HEAD, W_T, q.head),                  \
	F(TANGLE_DR_WORKER, TANGLE_DF_WORKER_RUNQ_TAIL, W_T, q.tail),                  \
                                                                                       \
	R(TANGLE_DR_SLAB, SLAB_T),                                                     \
	F(TANGLE_DR_SLAB, TANGLE_DF_SLAB_NEXT, SLAB_T, next),                          \
	F(TANGLE_DR_SLAB, TANGLE_DF_SLAB_CAPACITY, SLAB_T, capacity),                  \
	F(TANGLE_DR_SLAB, TANGLE_DF_SLAB_STRIDE, SLAB_T, stride),                      \
	F(TANGLE_DR_SLAB, TANGLE_DF_SLAB_TASKS, SLAB_T, tasks),                        \
                                                                                       \
	R(TANGLE_DR_TASK, T_T),                                                        \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_ID, T_T, id),                                 \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_GENERATION, T_T, generation),                 \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_STATE, T_T, sched.state),                     \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_FLAGS, T_T, flags),                           \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_NAME, T_T, name),                             \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_PARENT_ID, T_T, parent_id),                   \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_SPAWN_SITE, T_T, spawn_site),                 \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_RUNTIME, T_T, rt),                            \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_WORKER, T_T, worker),                         \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_LABELS, T_T, labels),                         \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_LABEL_COUNT, T_T, label_count),               \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_SPANS, T_T, spans),                           \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_SPAN_DEPTH, T_T, span_depth),                 \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_SPAWNED_AT, T_T, spawned_at),                 \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_LAST_RAN_AT, T_T, last_ran_at),               \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_RUN_NS, T_T, run_ns),                         \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_RESUMES, T_T, resumes),                       \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_AT, T_T, woken_at),                     \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_BY, T_T, woken_by),                     \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_WAKES, T_T, wakes),                           \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_WAKERS, T_T, wakers),                         \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_WAIT, T_T, wait),                             \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_HOLDS, T_T, holds),                           \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_COUNT, T_T, hold_count),                 \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_OVERFLOW, T_T, hold_overflow),           \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_SAVED_SP, T_T, saved_sp),                     \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_STACK_LO, T_T, stack_lo),                     \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_STACK_HI, T_T, stack_hi),                     \
	F(TANGLE_DR_TASK, TANGLE_DF_TASK_FINISHED_AT, T_T, finished_at),               \
                                                                                       \
	R(TANGLE_DR_WAITER, WT_T),                                                     \
	F(TANGLE_DR_WAITER, TANGLE_DF_WAITER_NEXT, WT_T, next),                        \
	F(TANGLE_DR_WAITER, TANGLE_DF_WAITER_PREV, WT_T, prev),                        \
	F(TANGLE_DR_WAITER, TANGLE_DF_WAITER_TASK, WT_T, task),                        \
	F(TANGLE_DR_WAITER, TANGLE_DF_WAITER_STATE, WT_T, state),                      \
	F(TANGLE_DR_WAITER, TANGLE_DF_WAITER_KIND, WT_T, kind),                        \
	F(TANGLE_DR_WAITER, TANGLE_DF_WAITER_OP, WT_T, op),                            \
	F(TANGLE_DR_WAITER, TANGLE_DF_WAITER_COUNT, WT_T, count),                      \
	F(TANGLE_DR_WAITER, TANGLE_DF_WAITER_OBJECT, WT_T, object),                    \
	F(TANGLE_DR_WAITER, TANGLE_DF_WAITER_SINCE, WT_T, since),                      \
	F(TANGLE_DR_WAITER, TANGLE_DF_WAITER_DEADLINE, WT_T, deadline),                \
	F(TANGLE_DR_WAITER, TANGLE_DF_WAITER_GRANTED_AT, WT_T, granted_at),            \
	F(TANGLE_DR_WAITER, TANGLE_DF_WAITER_SITE, WT_T, site),                        \
	F(TANGLE_DR_WAITER, TANGLE_DF_WAITER_WHAT, WT_T, what),                        \
	F(TANGLE_DR_WAITER, TANGLE_DF_WAITER_SELECT, WT_T, select),                    \
	F(TANGLE_DR_WAITER, TANGLE_DF_WAITER_QUEUE, WT_T, queue),                      \
                                                                                       \
	R(TANGLE_DR_HOLD, H_T),                                                        \
	F(TANGLE_DR_HOLD, TANGLE_DF_HOLD_OBJECT, H_T, object),                         \
	F(TANGLE_DR_HOLD, TANGLE_DF_HOLD_MODE, H_T, mode),                             \
	F(TANGLE_DR_HOLD, TANGLE_DF_HOLD_COUNT, H_T, count),                           \
	F(TANGLE_DR_HOLD, TANGLE_DF_HOLD_SINCE, H_T, since),                           \
	F(TANGLE_DR_HOLD, TANGLE_DF_HOLD_SITE, H_T, site),                             \
                                                                                       \
	R(TANGLE_DR_OBJECT, O_T),                                                      \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_NEXT, O_T, next),                         \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_PREV, O_T, prev),                         \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_KIND, O_T, kind),                         \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_FLAGS, O_T, flags),                       \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_NAME, O_T, name),                         \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_CREATED_AT, O_T, created_at),             \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_OWNER_ID, O_T, owner_id),                 \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_OWNER_SINCE, O_T, owner_since),           \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_VALUE, O_T, value),                       \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_CAPACITY, O_T, capacity),                 \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITERS, O_T, waiters.head),              \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITERS2, O_T, waiters2.head),            \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_HANDED_TO, O_T, handed_to),               \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_HANDED_AT, O_T, handed_at),               \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_ACQUISITIONS, O_T, acquisitions),         \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_CONTENTIONS, O_T, contentions),           \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_LONGEST_HOLD, O_T, longest_hold),         \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_LAST_SENDER, O_T, last_sender),           \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_LAST_RECEIVER, O_T, last_receiver),       \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_ELEM_SIZE, O_T, elem_size),               \
	F(TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_HELD_SITE, O_T, held_site),               \
                                                                                       \
	R(TANGLE_DR_SITE, S_T),                                                        \
	F(TANGLE_DR_SITE, TANGLE_DF_SITE_FILE, S_T, file),                             \
	F(TANGLE_DR_SITE, TANGLE_DF_SITE_FUNCTION, S_T, function),                     \
	F(TANGLE_DR_SITE, TANGLE_DF_SITE_LINE, S_T, line),                             \
                                                                                       \
	R(TANGLE_DR_LABEL, L_T),                                                       \
	F(TANGLE_DR_LABEL, TANGLE_DF_LABEL_KEY, L_T, key),                             \
	F(TANGLE_DR_LABEL, TANGLE_DF_LABEL_VALUE, L_T, value),                         \
                                                                                       \
	R(TANGLE_DR_SPAN, SP_T),                                                       \
	F(TANGLE_DR_SPAN, TANGLE_DF_SPAN_NAME, SP_T, name),                            \
	F(TANGLE_DR_SPAN, TANGLE_DF_SPAN_SITE, SP_T, site),                            \
	F(TANGLE_DR_SPAN, TANGLE_DF_SPAN_ENTERED_AT, SP_T, entered_at)


/* Counted from the list itself (a compound literal only sizeof sees). */
#define LAYOUT_COUNT                                                           \
	(sizeof((struct tangle_debug_layout[]){LAYOUT_ENTRIES}) /              \
	 sizeof(struct tangle_debug_layout))
_Static_assert(LAYOUT_COUNT == LAYOUT_N, "LAYOUT_N must count the entries");

#if defined(__x86_64__)
#define ARCH 62 /* EM_X86_64 */
#define CTX_SLOTS 7
#define CTX_REGS {15, 14, 13, 12, 3, 6, TANGLE_DEBUG_CTX_PC}
#elif defined(__aarch64__)
#define ARCH 183 /* EM_AARCH64 */
#define CTX_SLOTS 20
#define CTX_REGS {19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, TANGLE_DEBUG_CTX_PC, \
                  72, 73, 74, 75, 76, 77, 78, 79}
#endif

__attribute__((visibility("default"), used, section(TANGLE_DEBUG_SECTION)))
struct tangle_debug_root_s tangle_debug_root = {
	.header = {
		.magic = TANGLE_DEBUG_MAGIC,
		.abi_major = TANGLE_DEBUG_ABI_MAJOR,
		.abi_minor = TANGLE_DEBUG_ABI_MINOR,
		.header_size = sizeof(struct tangle_debug_header),
		.root_size = sizeof(struct tangle_debug_root_s),
		.layout_offset = offsetof(struct tangle_debug_root_s, layout),
		.layout_count = LAYOUT_COUNT,
		.pointer_size = sizeof(void *),
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		.endian = TANGLE_DEBUG_LITTLE,
#else
		.endian = TANGLE_DEBUG_BIG,
#endif
	},
	.arch = ARCH,
	.ctx_slots = CTX_SLOTS,
	.ctx_regs = CTX_REGS,
	.resume_pc = tangle__ctx_resume,
	.entry_pc = tangle__ctx_entry,
	.layout = {LAYOUT_ENTRIES},
};

/* In a static link an object comes along only if referenced: this
 * reference (debug.c is always linked, as every runtime registers here)
 * brings gdb_scripts.c and its .debug_gdb_scripts entry with it. */
extern TANGLE_HIDDEN const char tangle__gdb_scripts_anchor;
__attribute__((used)) static const char *const gdb_scripts_ref =
	&tangle__gdb_scripts_anchor;

static tangle_spinlock registry_lock;

__attribute__((constructor)) static void debug_start(void)
{
	tangle_debug_root.pid = (uint32_t)getpid();
	tangle_debug_root.start_mono = tangle__clock_precise();
	tangle_debug_root.start_real = tangle__clock_real();
	tangle__clock_sync();
}

void tangle__clock_sync(void)
{
	DBG_STORE(tangle_debug_root.sync_mono, tangle__clock_precise());
	DBG_STORE(tangle_debug_root.sync_real, tangle__clock_real());
}

void tangle__debug_seq_bump(void)
{
	__atomic_fetch_add(&tangle_debug_root.seq, 1, __ATOMIC_RELEASE);
}

void tangle__runtime_register(struct tangle_runtime *rt)
{
	tangle__spin_lock(&registry_lock);
	rt->prev = NULL;
	rt->next = tangle_debug_root.runtimes;
	if (rt->next)
		rt->next->prev = rt;
	__atomic_store_n(&tangle_debug_root.runtimes, rt, __ATOMIC_RELEASE);
	DBG_STORE(tangle_debug_root.runtime_count, tangle_debug_root.runtime_count + 1);
	tangle__debug_seq_bump();
	tangle__spin_unlock(&registry_lock);
}

void tangle__runtime_unregister(struct tangle_runtime *rt)
{
	tangle__spin_lock(&registry_lock);
	if (rt->prev)
		__atomic_store_n(&rt->prev->next, rt->next, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&tangle_debug_root.runtimes, rt->next, __ATOMIC_RELEASE);
	if (rt->next)
		rt->next->prev = rt->prev;
	DBG_STORE(tangle_debug_root.runtime_count, tangle_debug_root.runtime_count - 1);
	tangle__debug_seq_bump();
	tangle__spin_unlock(&registry_lock);
}

void tangle__runtimes_each(void (*fn)(struct tangle_runtime *, void *), void *arg)
{
	tangle__spin_lock(&registry_lock);
	for (struct tangle_runtime *rt = tangle_debug_root.runtimes; rt; rt = rt->next)
		fn(rt, arg);
	tangle__spin_unlock(&registry_lock);
}

/* ---- Objects ------------------------------------------------------------------- */

void tangle__object_register(struct tangle_object *o, uint8_t kind,
                             const char *name, const tangle_site *site)
{
	o->kind = kind;
	atomic_store_explicit(&o->flags, 0, memory_order_relaxed);
	o->name = name;
	o->created_at = site;
	o->owner_id = 0;
	o->owner_since = 0;
	o->held_site = NULL;
	o->handed_to = 0;
	o->handed_at = 0;
	o->acquisitions = 0;
	o->contentions = 0;
	o->longest_hold = 0;
	o->last_sender = 0;
	o->last_receiver = 0;
	tangle__spin_lock(&registry_lock);
	o->prev = NULL;
	o->next = tangle_debug_root.objects;
	if (o->next)
		o->next->prev = o;
	__atomic_store_n(&tangle_debug_root.objects, o, __ATOMIC_RELEASE);
	DBG_STORE(tangle_debug_root.object_count, tangle_debug_root.object_count + 1);
	tangle__debug_seq_bump();
	tangle__spin_unlock(&registry_lock);
}

void tangle__object_unregister(struct tangle_object *o)
{
	tangle__spin_lock(&registry_lock);
	if (o->prev)
		__atomic_store_n(&o->prev->next, o->next, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&tangle_debug_root.objects, o->next, __ATOMIC_RELEASE);
	if (o->next)
		o->next->prev = o->prev;
	o->next = o->prev = NULL;
	DBG_STORE(tangle_debug_root.object_count, tangle_debug_root.object_count - 1);
	tangle__debug_seq_bump();
	tangle__spin_unlock(&registry_lock);
}

void tangle__object_owned(struct tangle_object *o, struct tangle_task *t)
{
	DBG_STORE(o->owner_id, t ? t->id : 0);
	TANGLE_DBG(DBG_STORE(o->owner_since, tangle__clock()));
}

void tangle__object_released(struct tangle_object *o)
{
	TANGLE_DBG({
		uint64_t since = o->owner_since;
		if (since) {
			uint64_t now = tangle__clock();
			if (now > since && now - since > o->longest_hold)
				DBG_STORE(o->longest_hold, now - since);
		}
		DBG_STORE(o->owner_since, 0);
	});
	DBG_STORE(o->owner_id, 0);
}
