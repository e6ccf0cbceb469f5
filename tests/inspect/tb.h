/*
 * tb.h — a table builder for engine tests: it lays out a fake debug table
 * (root, layout, runtimes, workers, slabs, tasks, waiters, objects, sites,
 * strings) in one buffer at a chosen address, with field offsets shuffled
 * by a seed and either byte order, so that tests prove the engine decodes
 * by the table's description and not by any C struct.
 *
 * Usage: tb_new -> build (tasks, objects, waits, holds) -> tb_reader or
 * tb_open (freezes the table) -> inspect -> tb_free.
 */
#ifndef TB_H
#define TB_H

#include <stddef.h>
#include <stdint.h>

#include "tangle_debug.h"
#include "tangle_inspect.h"

typedef struct tb tb;

typedef struct tb_opts {
	uint64_t base;        /* target address of the buffer (0: a default) */
	size_t size;          /* bytes of target memory (0: 4 MiB) */
	unsigned seed;        /* shuffles field offsets (0: declaration order) */
	int big_endian;
	uint16_t major, minor;/* 0: the header's */
	uint32_t slab_capacity; /* task records per slab (0: 64) */
	uint32_t workers;     /* workers of the first runtime (0: 2) */
	int mutex_hold_on_object; /* minor 1: OBJECT.HELD_SITE in the layout,
	                           * a mutex's hold on the mutex only */
	int implied_wakers;   /* 2.1: TASK.WAKERS and WAITER.QUEUE instead of
	                         LIVE_WAKERS (queued waiters are not counted),
	                         WORKER.RUNQ_HEAD/TAIL instead of QUEUE_LEN, no
	                         OBJECT.WAITER_COUNT/WAITER2_COUNT */
} tb_opts;

tb *tb_new(const tb_opts *o);
void tb_free(tb *b);

/* ---- layout control (before tb_reader) ---- */
void tb_drop_field(tb *b, int rec, int field);         /* absent from layout */
void tb_layout_extra(tb *b, uint16_t rec, uint16_t field, uint32_t off,
                     uint32_t size);                   /* extra raw entry */
uint32_t tb_off(tb *b, int rec, int field);            /* offset of a field */
uint32_t tb_size(tb *b, int rec);                      /* record size */

/* ---- raw memory ---- */
uint64_t tb_alloc(tb *b, size_t size);
void tb_put(tb *b, uint64_t addr, uint64_t val, size_t size);
void tb_set(tb *b, int rec, uint64_t addr, int field, uint64_t val);
void tb_set_chars(tb *b, int rec, uint64_t addr, int field, const char *s);
void *tb_ptr(tb *b, uint64_t addr);                    /* host pointer */
uint64_t tb_str(tb *b, const char *s);
uint64_t tb_site(tb *b, const char *file, const char *fn, uint32_t line);
/* Hide [addr, addr+len) from the reader (a hole in the core). */
void tb_hole(tb *b, uint64_t addr, size_t len);

/* ---- the table ---- */
uint64_t tb_root(tb *b);
void tb_root_set(tb *b, int field, uint64_t val);
uint64_t tb_runtime(tb *b, int index);                 /* 0: created by tb_new */
uint64_t tb_new_runtime(tb *b, const char *name, uint32_t workers);
uint64_t tb_worker(tb *b, int rt, uint32_t index);
uint64_t tb_slab(tb *b, int rt, int index);            /* address of SLAB rec */

/* A task in runtime 0: id, name, state; returns its record's address. */
uint64_t tb_task(tb *b, uint64_t id, const char *name, int state);
uint64_t tb_task_rt(tb *b, int rt, uint64_t id, const char *name, int state);
uint64_t tb_task_waiter(tb *b, uint64_t task);        /* its inline WAITER */
uint64_t tb_task_id(tb *b, uint64_t task);

/* Objects in the registry. */
uint64_t tb_object(tb *b, int kind, const char *name);
uint64_t tb_mutex(tb *b, const char *name);
uint64_t tb_rwlock(tb *b, const char *name);
uint64_t tb_sem(tb *b, const char *name, int64_t permits);
uint64_t tb_chan(tb *b, const char *name, int64_t capacity, int64_t buffered);
uint64_t tb_notify(tb *b, const char *name);

/* Holds: mutex/rwlock writer also sets OWNER_ID/OWNER_SINCE; with
 * mutex_hold_on_object a mutex's hold goes on the mutex (HELD_SITE), not
 * in the task's HOLDS. */
void tb_hold(tb *b, uint64_t task, uint64_t obj, int mode, uint32_t count,
             uint64_t since, uint64_t site);
/* The task waits (state WAITING, waiter WAITING, live_wakers 1 or, with
 * implied_wakers, WAKERS 0 and QUEUE set when queued) on obj
 * (queued: q 1 = WAITERS, 2 = WAITERS2; 0: not queued). */
uint64_t tb_wait(tb *b, uint64_t task, int kind, int op, uint64_t obj,
                 uint64_t since, uint64_t site, int q);
/* Append any waiter record to an object's queue. */
void tb_enqueue(tb *b, uint64_t obj, int q, uint64_t waiter);
/* The task runs on worker `index` of runtime 0 since `since`. */
void tb_running(tb *b, uint64_t task, uint32_t index, uint64_t since);
void tb_label(tb *b, uint64_t task, const char *key, const char *value);
void tb_span(tb *b, uint64_t task, const char *name, uint64_t site,
             uint64_t entered);

/* Freeze: write the root and layout, link the registry; a buffer reader
 * with the root symbol. The builder must outlive the reader. */
void tb_reader(tb *b, tangle_reader *out);
/* The reader tb_reader made (valid while b lives). */
const tangle_reader *tb_reader_ptr(tb *b);
/* Open a session over the table with now = `now` (TANGLE_NOW_MONO). */
tangle_session *tb_open(tb *b, uint64_t now, tangle_error **err);

#define TB_S(x) ((uint64_t)(x) * 1000000000ull) /* seconds as ns */
#define TB_MS(x) ((uint64_t)(x) * 1000000ull)



/* Run a command line (split on spaces) through tangle_session_run; the
 * result is malloc'd (free with tangle_inspect_free). */
char *tb_run(tangle_session *s, const char *line, int *status);
/* The number of findings of `kind` ("deadlock"...) in triage --json, and
 * the signature of the first one (sig: 9 bytes or NULL). */
int tb_count(tangle_session *s, const char *kind, char *sig);
#endif
