/*
 * ti.h — libtangle-inspect internals shared by the engine's files.
 *
 * Pipeline: reader -> decode (layout.c, decode*.c) -> snapshot (the ti_*
 * arrays in struct tangle_session) -> graph.c (wait-for edges) -> find_*.c
 * (findings) -> render_*.c (text, JSON, DOT) -> cmd*.c (commands).
 *
 * Invariants
 *  - Everything decoded lives in the session's arena and is freed with it.
 *  - Target memory is hostile: every count read from it is capped (TI_MAX_*),
 *    every list walk uses a visited set, every read is bounded. A record
 *    that cannot be read becomes a ti_problem; decoding goes on.
 *  - Indices (uint32_t) link records; TI_NONE means "none". Addresses are
 *    kept only for display and lookups, never followed twice.
 *  - Analysis never depends on addresses or ids for decisions that reach a
 *    signature (see findings.c).
 */
#ifndef TI_H
#define TI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tangle_debug.h"
#include "tangle_inspect.h"

#define TI_NONE UINT32_MAX

/* Caps on what the target may make us do. */
#define TI_MAX_ROOT (1u << 20)       /* bytes of the root */
#define TI_MAX_LAYOUT 4096           /* layout entries */
#define TI_MAX_RECORD 65536          /* bytes of one record */
#define TI_MAX_RUNTIMES 256
#define TI_MAX_WORKERS 4096          /* per runtime */
#define TI_MAX_SLABS 65536           /* in all */
#define TI_MAX_SLAB_BYTES (64u << 20)
#define TI_MAX_TASKS 4000000u
#define TI_MAX_OBJECTS 4000000u
#define TI_MAX_QUEUE 1000000u        /* waiters in one queue */
#define TI_MAX_RUNQ (1u << 20)       /* tasks in a worker's local queue */
#define TI_MAX_QUEUED 4000000u       /* waiters walked in all queues */
#define TI_MAX_SLOTS 16000000u       /* task slots scanned in all slabs */
#define TI_MAX_EXTRA_WAITERS 1000000u /* select waiters in all */
#define TI_MAX_STRING 256            /* bytes of a string read by pointer */
#define TI_MAX_PROBLEMS 1000         /* kept; more are counted */
#define TI_MAX_CHAIN 64              /* steps of a wait chain */
#define TI_MAX_ARMS 64               /* ops of one select (runtime: 16) */
#define TI_FINDING_TASKS 1000        /* tasks listed in one finding */

/* Known ids (the header's enums end below these). */
#define TI_NREC 12
#define TI_NFIELD 32

/* ---- arena.c: allocation, strings, hash maps ----------------------------- */

typedef struct ti_arena {
	struct ti_chunk *head;
	int failed; /* an allocation failed */
} ti_arena;

void *ti_alloc(ti_arena *a, size_t size);          /* zeroed, 16-aligned */
char *ti_strndup(ti_arena *a, const char *s, size_t n);
char *ti_printf(ti_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ti_arena_free(ti_arena *a);

/* Open-addressing map of nonzero uint64 keys to uint64 values. */
typedef struct ti_map {
	uint64_t *keys;
	uint64_t *vals;
	size_t cap;   /* power of two, or 0 */
	size_t count;
} ti_map;

int ti_map_put(ti_map *m, uint64_t key, uint64_t val); /* 0, or -1 on ENOMEM */
/* 1 and *val when found, else 0. */
int ti_map_get(const ti_map *m, uint64_t key, uint64_t *val);
void ti_map_free(ti_map *m);

/* Growable array of bytes used as an output buffer and for vectors. */
typedef struct ti_vec {
	void *data;
	size_t len, cap; /* in elements */
} ti_vec;
void *ti_vec_push(ti_vec *v, size_t elem); /* zeroed slot or NULL */
void ti_vec_free(ti_vec *v);

uint64_t ti_hash(uint64_t h, const void *data, size_t len); /* FNV-1a 64 */
#define TI_HASH_INIT 0xcbf29ce484222325ull

/* ---- layout.c: the table's self-description ------------------------------- */

typedef struct ti_field {
	uint32_t off, size; /* size 0: absent */
} ti_field;

typedef struct ti_layout {
	uint32_t rec_size[TI_NREC];
	ti_field f[TI_NREC][TI_NFIELD];
	int big_endian;
	unsigned ptr_size;
} ti_layout;

static inline bool ti_has(const ti_layout *L, int rec, int field)
{
	return L->f[rec][field].size != 0;
}
uint64_t ti_get(const ti_layout *L, const uint8_t *rec, int r, int f);
int64_t ti_get_signed(const ti_layout *L, const uint8_t *rec, int r, int f);
uint64_t ti_uint(const ti_layout *L, const uint8_t *p, size_t size);
/* An inline char[] field into dst (NUL-terminated, at most dstlen-1);
 * returns 1 if the field had no NUL. */
int ti_get_chars(const ti_layout *L, const uint8_t *rec, int r, int f,
                 char *dst, size_t dstlen);

/* ---- the snapshot ----------------------------------------------------------- */

typedef struct ti_site {
	uint64_t addr;
	const char *file;     /* "" unknown */
	const char *function; /* "" unknown */
	uint32_t line;
} ti_site;

typedef struct ti_wait {
	uint64_t addr;      /* of the WAITER record */
	uint64_t next;      /* NEXT in its queue */
	uint64_t task_addr;
	uint64_t object;
	uint64_t since, deadline, granted_at, select;
	uint64_t queue;     /* QUEUE (2.1): the queue it sits in, 0 none */
	const ti_site *site;
	const char *what;
	uint32_t count;
	uint32_t task;      /* index of the waiting task, or TI_NONE */
	uint32_t obj;       /* index of the object, or TI_NONE */
	uint32_t target;    /* join: index of the joined task, or TI_NONE */
	uint32_t ahead;     /* graph.c: conflicting waiter queued ahead */
	uint8_t state, kind, op;
	uint8_t queued;     /* found in an object's queue */
} ti_wait;

typedef struct ti_hold {
	uint64_t object;
	uint64_t since;
	const ti_site *site;
	uint32_t count;
	uint32_t obj;       /* index, or TI_NONE */
	uint8_t mode;
} ti_hold;

typedef struct ti_label {
	const char *key, *value;
} ti_label;

typedef struct ti_span {
	const char *name;
	const ti_site *site;
	uint64_t entered_at;
} ti_span;

typedef struct ti_task {
	uint64_t addr, id, parent_id, runtime;
	uint64_t spawned_at, last_ran_at, run_ns, resumes, woken_at, woken_by;
	uint64_t wakes, saved_sp, stack_lo, stack_hi, finished_at;
	const char *name;
	const ti_site *spawn_site;
	ti_label *labels;
	ti_span *spans;
	ti_hold *holds;
	ti_wait wait;
	uint32_t generation, live_wakers, hold_overflow;
	uint32_t rt;        /* runtime index */
	int32_t worker;
	uint8_t state, flags, nlabels, nspans, span_depth, nholds;
	uint8_t has_live_wakers;
} ti_task;

typedef struct ti_object {
	uint64_t addr;
	uint64_t owner_id, owner_since, handed_to, handed_at;
	uint64_t held_site; /* HELD_SITE: the owner's hold is on the object */
	uint64_t acquisitions, contentions, longest_hold;
	uint64_t last_sender, last_receiver, elem_size;
	int64_t value, capacity;
	const char *name;   /* "" unnamed */
	const ti_site *created;
	ti_wait **q1, **q2; /* waiters (channel: senders), receivers */
	uint32_t nq1, nq2;
	uint32_t claimed1, claimed2; /* counts the object claimed */
	uint32_t *holders;  /* tasks holding it (holds, owner, grants) */
	uint32_t nholders;
	uint32_t owner;     /* task index of owner_id, or TI_NONE */
	uint32_t handed;    /* task index of handed_to, or TI_NONE */
	uint8_t kind, flags, in_registry, truncated; /* truncated: a queue was cut */
} ti_object;

typedef struct ti_worker {
	uint64_t current, current_id, running_since, switches, idle_since;
	uint32_t rt, index, tid, queue_len;
	uint32_t task;      /* index of the current task, or TI_NONE */
	uint8_t state;
} ti_worker;

typedef struct ti_runtime {
	uint64_t addr, id, tasks_live, tasks_spawned, created_at, stack_size;
	uint64_t global_queue;
	const char *name;
	uint32_t worker_count, slab_count, blocking_busy, blocking_queued;
	uint32_t first_worker; /* index into workers */
	uint32_t nworkers;     /* decoded */
	uint8_t flavor;
} ti_runtime;

typedef struct ti_problem {
	uint64_t addr;
	const char *what;
} ti_problem;

/* ---- graph.c: wait-for edges ---------------------------------------------- */

enum ti_edge_kind {
	TI_E_OWNER = 1,   /* holds the lock / permits the task waits for */
	TI_E_GRANTED,     /* was handed it and has not claimed it */
	TI_E_AHEAD,       /* queued ahead with a conflicting request (fairness) */
	TI_E_RECEIVER,    /* must receive from the full channel */
	TI_E_SENDER,      /* must send to the empty channel */
	TI_E_JOINED,      /* the task being joined */
	TI_E_WORKER,      /* runnable: the task its worker is running */
};

typedef struct ti_edge {
	uint32_t to;      /* task index */
	uint32_t obj;     /* object index, or TI_NONE */
	uint8_t kind;     /* enum ti_edge_kind */
	uint8_t hard;     /* can never resolve by itself (no deadline) */
	uint8_t arm;      /* select: 1 + the op's arm (an OR-wait); else 0 */
} ti_edge;

/* ---- findings -------------------------------------------------------------- */

enum ti_kind {
	TI_F_DEADLOCK = 0,
	TI_F_HELD_ACROSS_AWAIT,
	TI_F_BLOCKED_EXECUTOR,
	TI_F_GRANTED_NOT_CLAIMED,
	TI_F_ORPHANED_LOCK,
	TI_F_LOST_WAKER,
	TI_F_STUCK,
	TI_F_NKINDS
};

enum ti_shape {
	TI_S_NONE = 0,
	TI_S_SELF,
	TI_S_LOCK_ORDER,
	TI_S_CHANNEL,
	TI_S_PERMITS,
	TI_S_JOIN,
	TI_S_MIXED,
};

/* One step of a wait chain: task waits (for obj) on the tasks `to`. */
typedef struct ti_step {
	uint32_t task;
	uint32_t obj;       /* TI_NONE for join/worker steps */
	uint8_t edge;       /* enum ti_edge_kind of the edges below */
	uint32_t nto;
	uint32_t *to;
} ti_step;

typedef struct ti_finding {
	int kind, shape;
	char sig[17];
	const char *title;       /* "lock-order cycle between 2 tasks" */
	const char *explanation;
	const char *fix;
	uint32_t *tasks, ntasks;
	uint32_t *objs, nobjs;
	ti_step *chain;
	uint32_t nchain;
	int cycle;               /* the chain closes on its first task */
	uint32_t worker;         /* blocked-executor: worker index */
	uint32_t behind;         /* tasks queued behind, not in the chain */
	uint32_t more_tasks;     /* involved beyond TI_FINDING_TASKS */
	uint64_t duration;       /* ns the condition has lasted, 0 unknown */
} ti_finding;

typedef struct ti_thresholds {
	uint64_t blocked_ns, held_ns, granted_ns, stuck_ns;
} ti_thresholds;

/* ---- the session --------------------------------------------------------- */

struct tangle_session {
	const tangle_reader *r;
	const tangle_unwinder *uw;
	tangle_session_options opt;
	char *target;
	ti_arena A;
	ti_layout L;
	uint64_t root;
	uint16_t major, minor;
	uint64_t start_mono, start_real, sync_mono, sync_real;
	uint64_t resume_pc, entry_pc, seq;
	uint64_t rt_head, obj_head, obj_count; /* list heads from the root */
	uint32_t pid;
	uint16_t arch, ctx_slots, ctx_regs[TANGLE_DEBUG_CTX_MAX];
	uint64_t now;
	const char *now_source;  /* "mono", "real", "table" */

	ti_runtime *rts; uint32_t nrts;
	ti_worker *workers; uint32_t nworkers;
	ti_task *tasks; uint32_t ntasks;     /* sorted by id */
	ti_object *objs; uint32_t nobjs;
	ti_problem *problems; uint32_t nproblems, problems_dropped;
	uint32_t nslabs;
	uint64_t slots_scanned, queued_walked; /* budgets: TI_MAX_SLOTS, _QUEUED */

	ti_map task_by_id, task_by_addr, obj_by_addr, strings, sites;
	ti_map visited;          /* address -> generation */
	uint64_t visit_gen;

	ti_vec extra_waits;      /* ti_wait * of select waiters (malloc'd) */
	uint32_t *in_finding;    /* per task: 1 + last finding it is part of */

	/* graph.c */
	uint32_t *edge_start;    /* ntasks + 1 */
	ti_edge *edges;
	/* findings (for the thresholds in `th`) */
	ti_thresholds th;
	ti_finding *findings; uint32_t nfindings;
	ti_arena FA;             /* findings' arena, reset per analysis */
	int analyzed;
};

/* decode*.c */
struct ti_slab_buf {
	uint8_t *data;
	size_t cap;
};
tangle_error *ti_decode(tangle_session *s);
void ti_decode_runtime(tangle_session *s, ti_runtime *rt, const uint8_t *rec,
                       ti_vec *workers);
void ti_decode_slab(tangle_session *s, ti_runtime *rt, uint64_t slab,
                    const uint8_t *srec, ti_vec *tasks, struct ti_slab_buf *sb);
void ti_problem_add(tangle_session *s, uint64_t addr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *ti_read_string(tangle_session *s, uint64_t addr);
const ti_site *ti_read_site(tangle_session *s, uint64_t addr);
size_t ti_read(tangle_session *s, uint64_t addr, void *buf, size_t len);
int ti_visit_begin(tangle_session *s);          /* new visited set */
int ti_visit(tangle_session *s, uint64_t addr); /* 1 if seen already */
void ti_decode_wait(tangle_session *s, const uint8_t *rec, uint64_t addr,
                    ti_wait *w);
tangle_error *ti_decode_objects(tangle_session *s);
void ti_clock(tangle_session *s);

/* graph.c */
tangle_error *ti_graph(tangle_session *s);
static inline uint32_t ti_nedges(const tangle_session *s, uint32_t t)
{
	return s->edge_start[t + 1] - s->edge_start[t];
}
static inline const ti_edge *ti_edges(const tangle_session *s, uint32_t t)
{
	return s->edges + s->edge_start[t];
}
/* True when the task's own wait is active (waiting, not yet granted). */
bool ti_waiting(const ti_task *t);
/* The arms a task in select waits on (each of its ops), 0 otherwise. */
static inline uint32_t ti_select_arms(const ti_task *t)
{
	if (t->wait.kind != TANGLE_DEBUG_WAIT_SELECT || t->wait.count > TI_MAX_ARMS)
		return 0; /* a count past any runtime's: no arm is trusted */
	return t->wait.count;
}
/* The chain from task t: follows edges until an end or a repeat. */
uint32_t ti_chain(tangle_session *s, ti_arena *a, uint32_t t, ti_step **out,
                  int *cycle);
uint32_t ti_task_index(const tangle_session *s, uint64_t id);
/* The worker a task is on or queued to (-1: unknown). */
int32_t ti_task_worker(const tangle_session *s, const ti_task *t);
const ti_hold *ti_hold_of(const tangle_session *s, uint32_t task, uint32_t obj);

/* findings.c and find_*.c */
tangle_error *ti_analyze(tangle_session *s, const ti_thresholds *th);
void ti_thresholds_default(ti_thresholds *th);
ti_finding *ti_finding_new(tangle_session *s, int kind);
void ti_finding_tasks(tangle_session *s, ti_finding *f, const uint32_t *t,
                      uint32_t n);
void ti_finding_objs(tangle_session *s, ti_finding *f, const uint32_t *o,
                     uint32_t n);
/* Adds the tasks still waiting in obj's queue to f (counted in behind);
 * returns the first of them, or TI_NONE. */
uint32_t ti_finding_queue(tangle_session *s, ti_finding *f, uint32_t obj);
void ti_finding_sign_keys(ti_finding *f, const char *const *keys, uint32_t n);
void ti_sort_keys(const char **keys, uint32_t n);
const char *ti_task_fn(const tangle_session *s, uint32_t t);
const char *ti_wait_key(tangle_session *s, uint32_t t, uint32_t obj);
const char *ti_name_key(tangle_session *s, const char *name);
ti_step *ti_step_alloc(tangle_session *s, ti_finding *f, uint32_t n);
bool ti_task_in_findings(const tangle_session *s, uint32_t t);
void ti_find_deadlocks(tangle_session *s);
void ti_find_quiescence(tangle_session *s);
void ti_find_held(tangle_session *s);
void ti_find_blocked(tangle_session *s);
void ti_find_granted(tangle_session *s);
void ti_find_orphaned(tangle_session *s);
void ti_find_lost_waker(tangle_session *s);
void ti_find_stuck(tangle_session *s);
const char *ti_kind_name(int kind);
const char *ti_shape_name(int shape);

/* names.c: spelling of enum values */
const char *ti_task_state_name(int state);
const char *ti_wait_kind_name(int kind);
const char *ti_obj_kind_name(int kind);
const char *ti_op_name(int op);
const char *ti_waiter_state_name(int state);
const char *ti_worker_state_name(int state);
const char *ti_hold_mode_name(int mode);
const char *ti_edge_name(int edge);
void ti_fmt_dur(char *buf, size_t len, uint64_t ns);
uint64_t ti_age(const tangle_session *s, uint64_t t); /* now - t, 0 if unknown */
/* "bank.c:88 transfer" into buf ("" if no site). */
void ti_fmt_site(char *buf, size_t len, const ti_site *site);
/* "mutex "ledger"" */
void ti_fmt_obj(char *buf, size_t len, const tangle_session *s, uint32_t obj);
/* one line: what the task waits for ("" nothing) */
void ti_fmt_wait(char *buf, size_t len, const tangle_session *s,
                 const ti_task *t);
const char *ti_basename(const char *path);
/* src cut to a table column of `width` bytes: a cut one ends in '~'. */
const char *ti_fit(char *buf, size_t len, const char *src, int width);
void ti_fmt_target(char *buf, size_t len, const char *target);
/* "held by task 13 "b"", "2/4 buffered"... (session.c) */
void ti_fmt_obj_state(char *buf, size_t len, const tangle_session *s, uint32_t obj);
uint32_t ti_obj_waiting(const ti_object *o);

/* render_*.c */
typedef struct ti_render_opts {
	int all_frames;      /* bt --all: keep the runtime's own frames */
	int bt_all_tasks;    /* triage: backtraces of involved tasks only */
} ti_render_opts;
void ti_text_finding(tangle_session *s, FILE *out, const ti_finding *f);
void ti_text_step(tangle_session *s, FILE *out, const ti_step *st, int first);
void ti_text_triage(tangle_session *s, FILE *out, const ti_render_opts *o);
void ti_text_bt(tangle_session *s, FILE *out, uint32_t task,
                const ti_render_opts *o);
void ti_text_summary(tangle_session *s, FILE *out);
/* A worker thread's native stack (blocked-executor with no known task). */
void ti_text_worker(tangle_session *s, FILE *out, uint32_t worker,
                    const ti_render_opts *o);
void ti_json_report(tangle_session *s, FILE *out, int what);
void ti_json_task(tangle_session *s, FILE *out, uint32_t t, int indent);
/* The task's keys without the closing brace, for callers that add keys. */
void ti_json_task_open(tangle_session *s, FILE *out, uint32_t t, int indent);
/* bt --json: one task with its frames (a "tasks" element). */
void ti_json_bt(tangle_session *s, FILE *out, uint32_t task, const ti_render_opts *o);
/* graph --json: "nodes" and "edges", the same as the DOT. */
void ti_json_graph(tangle_session *s, FILE *out);
void ti_json_string(FILE *out, const char *str);
void ti_json_chain(tangle_session *s, FILE *out, const ti_step *chain,
                   uint32_t n, int cycle, int indent);
void ti_dot(tangle_session *s, FILE *out);
void ti_json_head(tangle_session *s, FILE *out);  /* "{" and the header keys */
void ti_json_tail(tangle_session *s, FILE *out);  /* problems and "}" */
void ti_json_object(tangle_session *s, FILE *out, uint32_t obj);
enum { TI_JSON_TRIAGE = 0, TI_JSON_DEADLOCKS = 1, TI_JSON_LOCKS = 2,
       TI_JSON_TASKS = 3 };

/* usage.c: NULL for an unknown command */
const char *ti_usage_find(const char *command);

/* context.c */
int ti_task_context(const tangle_session *s, uint32_t t, tangle_context *out);

#endif /* TI_H */
