/*
 * tangle_debug.h — the debug table ABI: what a reader compiles against.
 *
 * libtangle keeps, always on, a table of its runtimes, workers, tasks,
 * waiters and lock-like objects. Its root is the exported symbol
 * TANGLE_DEBUG_SYMBOL, placed in its own ELF section TANGLE_DEBUG_SECTION so
 * that a reader finds it in a stripped binary too.
 *
 * The table describes itself. The root starts with a fixed header (below,
 * frozen forever) followed by a layout: one entry per record type giving its
 * size, and one per field giving its offset and size. Readers never use the
 * runtime's C structs; they look fields up by (record id, field id) at run
 * time, so a runtime struct can change without breaking a reader.
 *
 * Versioning rules (docs/debug-table.md has the details):
 *  - abi_major changes only when the meaning of an existing field or the
 *    header changes; a reader refuses a major it does not know, naming both.
 *    2.0: a mutex's hold moved from its owner's TASK.HOLDS to the mutex
 *    (OBJECT.HELD_SITE), and WORKER.CURRENT_ID and RUNNING_SINCE are no
 *    longer stored (readers derive them from CURRENT).
 *  - abi_minor grows when records or fields are added. Readers ignore ids
 *    they do not know and treat fields missing from the layout as absent.
 *  - Ids are never reused. A field may grow (its size says how wide it is;
 *    integers are little- or big-endian as the header says, unsigned unless
 *    noted). Pointers are pointer_size bytes.
 *  - Times are nanoseconds of CLOCK_MONOTONIC, 0 = never; durations are ns.
 *  - Task ids are unique in a process and never reused; 0 means none.
 */
#ifndef TANGLE_DEBUG_H
#define TANGLE_DEBUG_H

#include <stdint.h>

#define TANGLE_DEBUG_SYMBOL "tangle_debug_root"
#define TANGLE_DEBUG_SECTION ".tangle_debug"
#define TANGLE_DEBUG_MAGIC "TNGLDBG" /* 8 bytes with the NUL */
#define TANGLE_DEBUG_ABI_MAJOR 3
#define TANGLE_DEBUG_ABI_MINOR 0

/* The frozen header at the start of the root. */
struct tangle_debug_header {
	char magic[8];          /* TANGLE_DEBUG_MAGIC */
	uint16_t abi_major;
	uint16_t abi_minor;
	uint32_t header_size;   /* sizeof(struct tangle_debug_header) */
	uint32_t root_size;     /* bytes of the whole root, layout included */
	uint32_t layout_offset; /* of the layout entries, from the root's start */
	uint32_t layout_count;  /* number of layout entries */
	uint8_t pointer_size;   /* 8 on 64-bit targets */
	uint8_t endian;         /* TANGLE_DEBUG_LITTLE or TANGLE_DEBUG_BIG */
	uint16_t reserved;
};

#define TANGLE_DEBUG_LITTLE 1
#define TANGLE_DEBUG_BIG 2

/* One layout entry. field == TANGLE_DF_RECORD gives the record's size (its
 * stride in arrays) in `size`; any other field gives its offset from the
 * start of the record and its size in bytes. An array field's element count
 * is its size divided by the element record's size. */
struct tangle_debug_layout {
	uint16_t record; /* TANGLE_DR_* */
	uint16_t field;  /* TANGLE_DF_* of that record, or TANGLE_DF_RECORD */
	uint32_t offset;
	uint32_t size;
	uint32_t reserved;
};

#define TANGLE_DF_RECORD 0

/* ---- Record types ------------------------------------------------------ */
enum tangle_debug_record {
	TANGLE_DR_ROOT = 1,
	TANGLE_DR_RUNTIME = 2,
	TANGLE_DR_WORKER = 3,
	TANGLE_DR_SLAB = 4,
	TANGLE_DR_TASK = 5,
	TANGLE_DR_WAITER = 6,
	TANGLE_DR_HOLD = 7,
	TANGLE_DR_OBJECT = 8,
	TANGLE_DR_SITE = 9,
	TANGLE_DR_LABEL = 10,
	TANGLE_DR_SPAN = 11,
};

/* ROOT: offsets from the root's start (the header included). */
enum tangle_debug_root_field {
	TANGLE_DF_ROOT_RUNTIMES = 1,     /* ptr: first RUNTIME (list by NEXT) */
	TANGLE_DF_ROOT_RUNTIME_COUNT = 2,
	TANGLE_DF_ROOT_OBJECTS = 3,      /* ptr: first OBJECT (registry list) */
	TANGLE_DF_ROOT_OBJECT_COUNT = 4,
	TANGLE_DF_ROOT_START_MONO = 5,   /* clock pair taken at start-up: */
	TANGLE_DF_ROOT_START_REAL = 6,   /*   CLOCK_MONOTONIC and CLOCK_REALTIME */
	TANGLE_DF_ROOT_SYNC_MONO = 7,    /* latest pair (refreshed by workers */
	TANGLE_DF_ROOT_SYNC_REAL = 8,    /*   when they park and wake) */
	TANGLE_DF_ROOT_ARCH = 9,         /* u16: ELF e_machine of the runtime */
	TANGLE_DF_ROOT_CTX_SLOTS = 10,   /* u16: words in a saved context */
	TANGLE_DF_ROOT_CTX_REGS = 11,    /* u16[]: DWARF register of each word
	                                    from the saved sp upwards;
	                                    TANGLE_DEBUG_CTX_PC = resume address */
	TANGLE_DF_ROOT_RESUME_PC = 12,   /* ptr: the resume label in the switch */
	TANGLE_DF_ROOT_ENTRY_PC = 13,    /* ptr: the task entry trampoline */
	TANGLE_DF_ROOT_PID = 14,         /* u32: process id at start-up */
	TANGLE_DF_ROOT_SEQ = 15,         /* u64: bumped when a runtime, slab or
	                                    object is added or removed */
};

/* Saved context, described by ROOT CTX_SLOTS/CTX_REGS: word i at
 * saved_sp + i * pointer_size holds DWARF register CTX_REGS[i]; the
 * TANGLE_DEBUG_CTX_PC word is the address the task resumes at, and the
 * task's stack pointer in its caller frame is saved_sp + CTX_SLOTS words. */
#define TANGLE_DEBUG_CTX_PC 0xffff
#define TANGLE_DEBUG_CTX_MAX 32

/* RUNTIME: one per tangle_runtime_new(), in a list from ROOT RUNTIMES. */
enum tangle_debug_runtime_field {
	TANGLE_DF_RUNTIME_NEXT = 1,         /* ptr: next RUNTIME */
	TANGLE_DF_RUNTIME_ID = 2,           /* u64 */
	TANGLE_DF_RUNTIME_NAME = 3,         /* char[]: NUL-terminated, inline */
	TANGLE_DF_RUNTIME_FLAVOR = 4,       /* u8: TANGLE_DEBUG_FLAVOR_* */
	TANGLE_DF_RUNTIME_WORKERS = 5,      /* ptr: array of WORKER records */
	TANGLE_DF_RUNTIME_WORKER_COUNT = 6, /* u32 */
	TANGLE_DF_RUNTIME_WORKER_STRIDE = 7,/* u32: bytes between workers */
	TANGLE_DF_RUNTIME_SLABS = 8,        /* ptr: first SLAB */
	TANGLE_DF_RUNTIME_SLAB_COUNT = 9,   /* u32 */
	TANGLE_DF_RUNTIME_TASKS_LIVE = 10,  /* u64: tasks not yet freed */
	TANGLE_DF_RUNTIME_TASKS_SPAWNED = 11,/* u64: ever */
	TANGLE_DF_RUNTIME_CREATED_AT = 12,  /* time */
	TANGLE_DF_RUNTIME_STACK_SIZE = 13,  /* u64 */
	TANGLE_DF_RUNTIME_GLOBAL_QUEUE = 14,/* u64: tasks in the global queue */
	TANGLE_DF_RUNTIME_BLOCKING_BUSY = 15,/* u32: pool threads in a call */
	TANGLE_DF_RUNTIME_BLOCKING_QUEUED = 16,/* u32: calls not yet started */
};

enum tangle_debug_flavor {
	TANGLE_DEBUG_FLAVOR_MULTI_THREAD = 0,
	TANGLE_DEBUG_FLAVOR_CURRENT_THREAD = 1,
};

/* WORKER: one per worker thread. */
enum tangle_debug_worker_field {
	TANGLE_DF_WORKER_INDEX = 1,         /* u32 */
	TANGLE_DF_WORKER_TID = 2,           /* u32: kernel thread id */
	TANGLE_DF_WORKER_STATE = 3,         /* u8: TANGLE_DEBUG_WORKER_* */
	TANGLE_DF_WORKER_CURRENT = 4,       /* ptr: TASK running, or 0 */
	TANGLE_DF_WORKER_CURRENT_ID = 5,    /* u64: its id (1.x only; since 2.0
	                                       readers take CURRENT's ID) */
	TANGLE_DF_WORKER_RUNNING_SINCE = 6, /* time the current run started
	                                       (1.x only; since 2.0 CURRENT's
	                                       LAST_RAN_AT) */
	TANGLE_DF_WORKER_QUEUE_LEN = 7,     /* u32: tasks in its local queue
	                                       (up to 2.0; since 2.1 RUNQ_TAIL
	                                       - RUNQ_HEAD) */
	TANGLE_DF_WORKER_SWITCHES = 8,      /* u64: tasks resumed */
	TANGLE_DF_WORKER_IDLE_SINCE = 9,    /* time it last went idle */
	TANGLE_DF_WORKER_RUNQ_HEAD = 10,    /* u64 (2.1): its local queue's
	                                       head; the low 32 bits count the
	                                       tasks taken from it */
	TANGLE_DF_WORKER_RUNQ_TAIL = 11,    /* u32 (2.1): tasks put on it;
	                                       queued = TAIL - (u32)HEAD */
};

enum tangle_debug_worker_state {
	TANGLE_DEBUG_WORKER_STARTING = 0,
	TANGLE_DEBUG_WORKER_RUNNING = 1, /* running a task */
	TANGLE_DEBUG_WORKER_SEARCHING = 2, /* looking for work */
	TANGLE_DEBUG_WORKER_IDLE = 3,    /* parked */
	TANGLE_DEBUG_WORKER_POLLING = 4, /* parked in the I/O and timer driver */
	TANGLE_DEBUG_WORKER_STOPPED = 5,
};

/* SLAB: a block of task records, fetched with one read. */
enum tangle_debug_slab_field {
	TANGLE_DF_SLAB_NEXT = 1,     /* ptr: next SLAB */
	TANGLE_DF_SLAB_CAPACITY = 2, /* u32: records in the slab */
	TANGLE_DF_SLAB_STRIDE = 3,   /* u32: bytes between records */
	TANGLE_DF_SLAB_TASKS = 4,    /* ptr: first TASK record */
};

/* TASK: one record per task slot; FREE slots are unused. */
enum tangle_debug_task_field {
	TANGLE_DF_TASK_ID = 1,            /* u64 */
	TANGLE_DF_TASK_GENERATION = 2,    /* u32: bumped each time the slot is reused */
	TANGLE_DF_TASK_STATE = 3,         /* TANGLE_DEBUG_TASK_*: u32 since 3.0
	                                     (the scheduler's own word), u8 before */
	TANGLE_DF_TASK_FLAGS = 4,         /* u8: TANGLE_DEBUG_TASKF_* */
	TANGLE_DF_TASK_NAME = 5,          /* char[]: inline */
	TANGLE_DF_TASK_PARENT_ID = 6,     /* u64: spawning task, 0 if none */
	TANGLE_DF_TASK_SPAWN_SITE = 7,    /* ptr: SITE */
	TANGLE_DF_TASK_RUNTIME = 8,       /* ptr: RUNTIME */
	TANGLE_DF_TASK_WORKER = 9,        /* i32: worker it last ran on, -1 */
	TANGLE_DF_TASK_LABELS = 10,       /* LABEL[] */
	TANGLE_DF_TASK_LABEL_COUNT = 11,  /* u8 */
	TANGLE_DF_TASK_SPANS = 12,        /* SPAN[]: outermost first */
	TANGLE_DF_TASK_SPAN_DEPTH = 13,   /* u8: may exceed the array */
	TANGLE_DF_TASK_SPAWNED_AT = 14,   /* time */
	TANGLE_DF_TASK_LAST_RAN_AT = 15,  /* time its latest run started */
	TANGLE_DF_TASK_RUN_NS = 16,       /* u64: total time running */
	TANGLE_DF_TASK_RESUMES = 17,      /* u64: times resumed */
	TANGLE_DF_TASK_WOKEN_AT = 18,     /* time of its latest wake-up */
	TANGLE_DF_TASK_WOKEN_BY = 19,     /* u64: task id that woke it, 0 = a
	                                     thread, timer or I/O */
	TANGLE_DF_TASK_WAKES = 20,        /* u64: wake-ups received */
	TANGLE_DF_TASK_LIVE_WAKERS = 21,  /* u32, up to 2.0: handles that can
	                                     wake it (user wakers, queued
	                                     waiters, timers, I/O registrations,
	                                     pool jobs); since 2.1 see WAKERS */
	TANGLE_DF_TASK_WAIT = 22,         /* WAITER: inline, what it waits for */
	TANGLE_DF_TASK_HOLDS = 23,        /* HOLD[]: what it holds */
	TANGLE_DF_TASK_HOLD_COUNT = 24,   /* u8: used entries of HOLDS */
	TANGLE_DF_TASK_HOLD_OVERFLOW = 25,/* u32: holds not stored (array full) */
	TANGLE_DF_TASK_SAVED_SP = 26,     /* ptr: saved context when suspended */
	TANGLE_DF_TASK_STACK_LO = 27,     /* ptr: lowest usable stack address */
	TANGLE_DF_TASK_STACK_HI = 28,     /* ptr: one past the highest */
	TANGLE_DF_TASK_FINISHED_AT = 29,  /* time it returned, 0 if running */
	TANGLE_DF_TASK_WAKERS = 30,       /* u32 (2.1): user wakers and pool
	                                     jobs; a queued waiter (WAITER.QUEUE),
	                                     a deadline and a join of a live task
	                                     can wake it too, and are not counted */
};

enum tangle_debug_task_state {
	TANGLE_DEBUG_TASK_FREE = 0,      /* unused slot */
	TANGLE_DEBUG_TASK_RUNNABLE = 1,  /* in a run queue */
	TANGLE_DEBUG_TASK_RUNNING = 2,   /* on a worker now */
	TANGLE_DEBUG_TASK_WAITING = 3,   /* suspended; WAIT says on what */
	TANGLE_DEBUG_TASK_DONE = 4,      /* returned, not yet joined */
	TANGLE_DEBUG_TASK_CANCELLED = 5, /* returned after being cancelled */
	TANGLE_DEBUG_TASK_NOTIFIED = 6,  /* 3.0: running, and woken meanwhile
	                                    (its next wait returns at once);
	                                    readers show it as RUNNING */
};

enum tangle_debug_task_flag {
	TANGLE_DEBUG_TASKF_DETACHED = 1,
	TANGLE_DEBUG_TASKF_CANCEL_REQUESTED = 2,
	TANGLE_DEBUG_TASKF_MAIN = 4,     /* the task of tangle_runtime_run() */
	TANGLE_DEBUG_TASKF_OVERFLOWED = 8, /* it hit its stack's guard page */
};

/* LABEL: key=value, both inline NUL-terminated. */
enum tangle_debug_label_field {
	TANGLE_DF_LABEL_KEY = 1,   /* char[] */
	TANGLE_DF_LABEL_VALUE = 2, /* char[] */
};

/* SPAN: a named region the task is inside. */
enum tangle_debug_span_field {
	TANGLE_DF_SPAN_NAME = 1,       /* ptr: string */
	TANGLE_DF_SPAN_SITE = 2,       /* ptr: SITE */
	TANGLE_DF_SPAN_ENTERED_AT = 3, /* time */
};

/* WAITER: one wait of one task. Each task record has one inline (TASK
 * WAIT); a select adds one per channel on the task's stack. Waiters queue
 * on an object in arrival order, linked by NEXT. */
enum tangle_debug_waiter_field {
	TANGLE_DF_WAITER_NEXT = 1,       /* ptr: next WAITER in the queue */
	TANGLE_DF_WAITER_PREV = 2,       /* ptr */
	TANGLE_DF_WAITER_TASK = 3,       /* ptr: the waiting TASK */
	TANGLE_DF_WAITER_STATE = 4,      /* u8: TANGLE_DEBUG_WAITER_* */
	TANGLE_DF_WAITER_KIND = 5,       /* u8: TANGLE_DEBUG_WAIT_* */
	TANGLE_DF_WAITER_OP = 6,         /* u8: TANGLE_DEBUG_OP_* */
	TANGLE_DF_WAITER_COUNT = 7,      /* u32: permits asked; fd for I/O */
	TANGLE_DF_WAITER_OBJECT = 8,     /* ptr: OBJECT, or TASK for a join */
	TANGLE_DF_WAITER_SINCE = 9,      /* time the wait began */
	TANGLE_DF_WAITER_DEADLINE = 10,  /* time, 0 = none */
	TANGLE_DF_WAITER_GRANTED_AT = 11,/* time the object was handed to it */
	TANGLE_DF_WAITER_SITE = 12,      /* ptr: SITE of the waiting call */
	TANGLE_DF_WAITER_WHAT = 13,      /* ptr: string (park), 0 otherwise */
	TANGLE_DF_WAITER_SELECT = 14,    /* ptr: shared by one select's waiters */
	TANGLE_DF_WAITER_QUEUE = 15,     /* ptr (2.1): the queue it sits in,
	                                    0 when in none */
};

enum tangle_debug_waiter_state {
	TANGLE_DEBUG_WAITER_NONE = 0,      /* not waiting */
	TANGLE_DEBUG_WAITER_WAITING = 1,   /* queued, nothing granted */
	TANGLE_DEBUG_WAITER_GRANTED = 2,   /* object handed to it; the task has
	                                      not run since GRANTED_AT if its
	                                      LAST_RAN_AT is older */
	TANGLE_DEBUG_WAITER_TIMEDOUT = 3,
	TANGLE_DEBUG_WAITER_CANCELLED = 4,
	TANGLE_DEBUG_WAITER_CLOSED = 5,    /* the channel was closed */
	TANGLE_DEBUG_WAITER_WOKEN = 6,     /* woken (notify, park, sleep...) */
};

enum tangle_debug_wait_kind {
	TANGLE_DEBUG_WAIT_NONE = 0,
	TANGLE_DEBUG_WAIT_MUTEX = 1,
	TANGLE_DEBUG_WAIT_RWLOCK = 2,
	TANGLE_DEBUG_WAIT_SEM = 3,
	TANGLE_DEBUG_WAIT_CHAN = 4,
	TANGLE_DEBUG_WAIT_NOTIFY = 5,
	TANGLE_DEBUG_WAIT_JOIN = 6,      /* OBJECT is the joined TASK */
	TANGLE_DEBUG_WAIT_SLEEP = 7,
	TANGLE_DEBUG_WAIT_IO = 8,        /* COUNT is the fd */
	TANGLE_DEBUG_WAIT_BLOCKING = 9,  /* a tangle_blocking() call */
	TANGLE_DEBUG_WAIT_PARK = 10,     /* tangle_park(); WHAT says on what */
	TANGLE_DEBUG_WAIT_SELECT = 11,   /* several channels; see their queues */
	TANGLE_DEBUG_WAIT_YIELD = 12,    /* runnable again at once */
};

enum tangle_debug_op {
	TANGLE_DEBUG_OP_NONE = 0,
	TANGLE_DEBUG_OP_LOCK = 1,     /* mutex */
	TANGLE_DEBUG_OP_READ = 2,     /* rwlock shared */
	TANGLE_DEBUG_OP_WRITE = 3,    /* rwlock exclusive */
	TANGLE_DEBUG_OP_ACQUIRE = 4,  /* semaphore, COUNT permits */
	TANGLE_DEBUG_OP_SEND = 5,
	TANGLE_DEBUG_OP_RECV = 6,
	TANGLE_DEBUG_OP_WAIT = 7,     /* notify */
	TANGLE_DEBUG_OP_JOIN = 8,
	TANGLE_DEBUG_OP_SLEEP = 9,
	TANGLE_DEBUG_OP_IO_READ = 10,
	TANGLE_DEBUG_OP_IO_WRITE = 11,
	TANGLE_DEBUG_OP_IO_RW = 12,
	TANGLE_DEBUG_OP_CALL = 13,    /* blocking pool */
	TANGLE_DEBUG_OP_PARK = 14,
	TANGLE_DEBUG_OP_SELECT = 15,
	TANGLE_DEBUG_OP_YIELD = 16,
};

/* HOLD: a lock, read lock or permits a task holds. */
enum tangle_debug_hold_field {
	TANGLE_DF_HOLD_OBJECT = 1, /* ptr: OBJECT */
	TANGLE_DF_HOLD_MODE = 2,   /* u8: TANGLE_DEBUG_HOLD_* */
	TANGLE_DF_HOLD_COUNT = 3,  /* u32: permits (1 for locks) */
	TANGLE_DF_HOLD_SINCE = 4,  /* time acquired */
	TANGLE_DF_HOLD_SITE = 5,   /* ptr: SITE of the acquiring call */
};

enum tangle_debug_hold_mode {
	TANGLE_DEBUG_HOLD_NONE = 0,
	TANGLE_DEBUG_HOLD_EXCLUSIVE = 1, /* mutex, rwlock writer */
	TANGLE_DEBUG_HOLD_SHARED = 2,    /* rwlock reader */
	TANGLE_DEBUG_HOLD_PERMITS = 3,   /* semaphore */
};

/* OBJECT: the record at the start of every lock-like object, listed in the
 * registry from ROOT OBJECTS (by NEXT) from init to destroy. */
enum tangle_debug_object_field {
	TANGLE_DF_OBJECT_NEXT = 1,        /* ptr: next OBJECT in the registry */
	TANGLE_DF_OBJECT_PREV = 2,        /* ptr */
	TANGLE_DF_OBJECT_KIND = 3,        /* u8: TANGLE_DEBUG_OBJ_* */
	TANGLE_DF_OBJECT_FLAGS = 4,       /* u8: TANGLE_DEBUG_OBJF_* */
	TANGLE_DF_OBJECT_NAME = 5,        /* ptr: string */
	TANGLE_DF_OBJECT_CREATED_AT = 6,  /* ptr: SITE of init */
	TANGLE_DF_OBJECT_OWNER_ID = 7,    /* u64: mutex owner, rwlock writer */
	TANGLE_DF_OBJECT_OWNER_SINCE = 8, /* time */
	TANGLE_DF_OBJECT_VALUE = 9,       /* i64: rwlock readers, semaphore
	                                     permits free, channel values
	                                     buffered, notify stored permit */
	TANGLE_DF_OBJECT_CAPACITY = 10,   /* i64: semaphore permits in all,
	                                     channel capacity (0 = unbounded) */
	TANGLE_DF_OBJECT_WAITERS = 11,    /* ptr: first WAITER (channel:
	                                     senders) */
	TANGLE_DF_OBJECT_WAITER_COUNT = 12, /* u32 (up to 2.0; since 2.1 count
	                                       the queue) */
	TANGLE_DF_OBJECT_WAITERS2 = 13,   /* ptr: channel receivers */
	TANGLE_DF_OBJECT_WAITER2_COUNT = 14, /* u32 (up to 2.0) */
	TANGLE_DF_OBJECT_HANDED_TO = 15,  /* u64: task id of the latest hand-off
	                                     not yet claimed, 0 if none */
	TANGLE_DF_OBJECT_HANDED_AT = 16,  /* time of that hand-off */
	TANGLE_DF_OBJECT_ACQUISITIONS = 17, /* u64 */
	TANGLE_DF_OBJECT_CONTENTIONS = 18,  /* u64: acquisitions that waited */
	TANGLE_DF_OBJECT_LONGEST_HOLD = 19, /* u64: ns */
	TANGLE_DF_OBJECT_LAST_SENDER = 20,  /* u64: task id (channel) */
	TANGLE_DF_OBJECT_LAST_RECEIVER = 21,/* u64: task id (channel) */
	TANGLE_DF_OBJECT_ELEM_SIZE = 22,    /* u64: channel value size */
	TANGLE_DF_OBJECT_HELD_SITE = 23,    /* ptr: SITE of the owner's lock call
	                                     (mutex; since 2.0). With this
	                                     field a mutex's hold is on the
	                                     mutex (OWNER_ID, OWNER_SINCE,
	                                     HELD_SITE), not in the owner's
	                                     TASK.HOLDS */
};

enum tangle_debug_object_kind {
	TANGLE_DEBUG_OBJ_NONE = 0,
	TANGLE_DEBUG_OBJ_MUTEX = 1,
	TANGLE_DEBUG_OBJ_RWLOCK = 2,
	TANGLE_DEBUG_OBJ_SEM = 3,
	TANGLE_DEBUG_OBJ_CHAN = 4,
	TANGLE_DEBUG_OBJ_NOTIFY = 5,
	TANGLE_DEBUG_OBJ_TASK = 6, /* a join target: the TASK record itself */
};

enum tangle_debug_object_flag {
	TANGLE_DEBUG_OBJF_CLOSED = 1,    /* channel closed */
	TANGLE_DEBUG_OBJF_UNBOUNDED = 2, /* channel without a capacity */
};

/* SITE: a source location (tangle_site in tangle.h). */
enum tangle_debug_site_field {
	TANGLE_DF_SITE_FILE = 1,     /* ptr: string */
	TANGLE_DF_SITE_FUNCTION = 2, /* ptr: string */
	TANGLE_DF_SITE_LINE = 3,     /* u32 */
};

#endif /* TANGLE_DEBUG_H */
