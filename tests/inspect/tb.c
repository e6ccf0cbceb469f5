/*
 * tb.c — the test table builder (tb.h). Field offsets are chosen here, at
 * run time, from a seed: fields in a shuffled order, each aligned to its
 * size, with a few bytes of padding between them that a reader must skip.
 */
#include "tb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NREC 12
#define NFIELD 32
#define MAXQ 8

#include "tb_specs.h"

#define NSPECS (sizeof(specs) / sizeof(specs[0]))

struct extra {
	uint16_t rec, field;
	uint32_t off, size;
};

struct rt {
	uint64_t addr, workers, slab_head, slab_tail, cur_slab;
	uint32_t nworkers, nslabs, used; /* used: slots in the current slab */
};

struct tb {
	tb_opts o;
	uint8_t *mem;
	size_t used;
	uint32_t off[NREC][NFIELD], fsize[NREC][NFIELD], rsize[NREC];
	uint8_t dropped[NREC][NFIELD];
	struct extra extras[16];
	int nextras;
	uint64_t root;
	uint32_t root_size, layout_off, layout_count;
	struct rt rts[4];
	int nrts;
	uint64_t objs[4096];
	int nobjs;
	tangle_segment segs[8];
	int nsegs;
	uint64_t holes[4][2];
	int nholes;
	tangle_reader reader;
	int frozen;
	struct { uint64_t obj, tail; int q; } tails[256]; /* enqueue cache */
};

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static void layout_rec(tb *b, int rec, uint32_t start)
{
	int idx[NFIELD], n = 0;
	for (size_t i = 0; i < NSPECS; i++)
		if (specs[i].rec == rec && !b->dropped[rec][specs[i].field])
			idx[n++] = (int)i;
	unsigned seed = b->o.seed * 31u + (unsigned)rec;
	if (b->o.seed)
		for (int i = n - 1; i > 0; i--) {
			int j = (int)(rnd(&seed) % (unsigned)(i + 1));
			int t = idx[i];
			idx[i] = idx[j];
			idx[j] = t;
		}
	uint32_t off = start;
	for (int i = 0; i < n; i++) {
		const struct spec *sp = &specs[idx[i]];
		uint32_t size = sp->size ? sp->size : b->rsize[sp->elem] * (uint32_t)sp->count;
		uint32_t align = sp->size && sp->size < 8 ? sp->size : 8;
		if (b->o.seed)
			off += rnd(&seed) % 3; /* padding a reader must skip */
		off = (off + align - 1) / align * align;
		b->off[rec][sp->field] = off;
		b->fsize[rec][sp->field] = size;
		off += size;
	}
	b->rsize[rec] = (off + 7) / 8 * 8;
}

tb *tb_new(const tb_opts *o)
{
	tb *b = calloc(1, sizeof(*b));
	if (o)
		b->o = *o;
	if (!b->o.base)
		b->o.base = 0x7f1200000000ull;
	if (!b->o.size)
		b->o.size = 4u << 20;
	if (!b->o.major) /* a table with its mutex holds in HOLDS is a 1.x one */
		b->o.major = b->o.mutex_hold_on_object ? TANGLE_DEBUG_ABI_MAJOR : 1;
	if (!b->o.slab_capacity)
		b->o.slab_capacity = 64;
	if (!b->o.mutex_hold_on_object) /* a 1.x table: no room for it */
		b->dropped[TANGLE_DR_OBJECT][TANGLE_DF_OBJECT_HELD_SITE] = 1;
	if (b->o.implied_wakers) { /* 2.1 */
		b->dropped[TANGLE_DR_TASK][TANGLE_DF_TASK_LIVE_WAKERS] = 1;
		b->dropped[TANGLE_DR_WORKER][TANGLE_DF_WORKER_QUEUE_LEN] = 1;
		b->dropped[TANGLE_DR_OBJECT][TANGLE_DF_OBJECT_WAITER_COUNT] = 1;
		b->dropped[TANGLE_DR_OBJECT][TANGLE_DF_OBJECT_WAITER2_COUNT] = 1;
	} else {
		b->dropped[TANGLE_DR_TASK][TANGLE_DF_TASK_WAKERS] = 1;
		b->dropped[TANGLE_DR_WAITER][TANGLE_DF_WAITER_QUEUE] = 1;
		b->dropped[TANGLE_DR_WORKER][TANGLE_DF_WORKER_RUNQ_HEAD] = 1;
		b->dropped[TANGLE_DR_WORKER][TANGLE_DF_WORKER_RUNQ_TAIL] = 1;
	}
	b->mem = calloc(1, b->o.size);
	b->used = 64; /* nothing at the base address itself */
	static const int order[] = {TANGLE_DR_SITE, TANGLE_DR_LABEL, TANGLE_DR_SPAN,
	                            TANGLE_DR_WAITER, TANGLE_DR_HOLD, TANGLE_DR_TASK,
	                            TANGLE_DR_WORKER, TANGLE_DR_SLAB, TANGLE_DR_RUNTIME,
	                            TANGLE_DR_OBJECT};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		layout_rec(b, order[i], 0);
	layout_rec(b, TANGLE_DR_ROOT, 32);
	b->root_size = b->rsize[TANGLE_DR_ROOT];
	b->root = tb_alloc(b, 4096);
	tb_new_runtime(b, "main-rt", o && o->workers ? o->workers : 2);
	/* the saved-context description: 7 words, x86-64 style */
	static const uint16_t regs[] = {15, 14, 13, 12, 3, 6, TANGLE_DEBUG_CTX_PC};
	tb_root_set(b, TANGLE_DF_ROOT_CTX_SLOTS, 7);
	for (int i = 0; i < 7; i++)
		tb_put(b, b->root + b->off[TANGLE_DR_ROOT][TANGLE_DF_ROOT_CTX_REGS] + 2 * (uint64_t)i,
		       regs[i], 2);
	tb_root_set(b, TANGLE_DF_ROOT_ARCH, 62);
	tb_root_set(b, TANGLE_DF_ROOT_RESUME_PC, 0x401000);
	return b;
}

void tb_free(tb *b)
{
	if (!b)
		return;
	if (b->frozen && b->reader.close)
		b->reader.close(b->reader.ctx);
	free(b->mem);
	free(b);
}

void tb_drop_field(tb *b, int rec, int field)
{
	b->dropped[rec][field] = 1;
}

void tb_layout_extra(tb *b, uint16_t rec, uint16_t field, uint32_t off, uint32_t size)
{
	b->extras[b->nextras++] = (struct extra){rec, field, off, size};
}

uint32_t tb_off(tb *b, int rec, int field) { return b->off[rec][field]; }
uint32_t tb_size(tb *b, int rec) { return b->rsize[rec]; }

uint64_t tb_alloc(tb *b, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (b->used + size > b->o.size) {
		fprintf(stderr, "tb: out of target memory\n");
		abort();
	}
	uint64_t a = b->o.base + b->used;
	b->used += size;
	return a;
}

void *tb_ptr(tb *b, uint64_t addr)
{
	return b->mem + (addr - b->o.base);
}

void tb_put(tb *b, uint64_t addr, uint64_t val, size_t size)
{
	uint8_t *p = tb_ptr(b, addr);
	for (size_t i = 0; i < size; i++) {
		size_t k = b->o.big_endian ? size - 1 - i : i;
		p[k] = i < 8 ? (uint8_t)(val >> (8 * i)) : 0;
	}
}

void tb_set(tb *b, int rec, uint64_t addr, int field, uint64_t val)
{
	tb_put(b, addr + b->off[rec][field], val, b->fsize[rec][field]);
}

void tb_set_chars(tb *b, int rec, uint64_t addr, int field, const char *s)
{
	char *p = tb_ptr(b, addr + b->off[rec][field]);
	size_t n = b->fsize[rec][field];
	memset(p, 0, n);
	memcpy(p, s, strlen(s) < n ? strlen(s) : n);
}

static uint64_t get(tb *b, int rec, uint64_t addr, int field)
{
	uint8_t *p = tb_ptr(b, addr + b->off[rec][field]);
	uint32_t size = b->fsize[rec][field];
	uint64_t v = 0;
	for (uint32_t i = 0; i < size && i < 8; i++) {
		size_t k = b->o.big_endian ? size - 1 - i : i;
		v |= (uint64_t)p[k] << (8 * i);
	}
	return v;
}

uint64_t tb_str(tb *b, const char *s)
{
	uint64_t a = tb_alloc(b, strlen(s) + 1);
	memcpy(tb_ptr(b, a), s, strlen(s) + 1);
	return a;
}

uint64_t tb_site(tb *b, const char *file, const char *fn, uint32_t line)
{
	uint64_t a = tb_alloc(b, b->rsize[TANGLE_DR_SITE]);
	tb_set(b, TANGLE_DR_SITE, a, TANGLE_DF_SITE_FILE, tb_str(b, file));
	tb_set(b, TANGLE_DR_SITE, a, TANGLE_DF_SITE_FUNCTION, tb_str(b, fn));
	tb_set(b, TANGLE_DR_SITE, a, TANGLE_DF_SITE_LINE, line);
	return a;
}

void tb_hole(tb *b, uint64_t addr, size_t len)
{
	b->holes[b->nholes][0] = addr;
	b->holes[b->nholes++][1] = len;
}

uint64_t tb_root(tb *b) { return b->root; }

void tb_root_set(tb *b, int field, uint64_t val)
{
	tb_set(b, TANGLE_DR_ROOT, b->root, field, val);
}

uint64_t tb_new_runtime(tb *b, const char *name, uint32_t workers)
{
	struct rt *r = &b->rts[b->nrts];
	const int R = TANGLE_DR_RUNTIME, W = TANGLE_DR_WORKER;
	r->addr = tb_alloc(b, b->rsize[R]);
	r->nworkers = workers;
	uint32_t stride = b->rsize[W] + 8; /* a stride wider than the record */
	r->workers = tb_alloc(b, (size_t)stride * (workers ? workers : 1));
	tb_set(b, R, r->addr, TANGLE_DF_RUNTIME_ID, (uint64_t)b->nrts + 1);
	tb_set_chars(b, R, r->addr, TANGLE_DF_RUNTIME_NAME, name);
	tb_set(b, R, r->addr, TANGLE_DF_RUNTIME_WORKERS, r->workers);
	tb_set(b, R, r->addr, TANGLE_DF_RUNTIME_WORKER_COUNT, workers);
	tb_set(b, R, r->addr, TANGLE_DF_RUNTIME_WORKER_STRIDE, stride);
	for (uint32_t i = 0; i < workers; i++) {
		uint64_t w = r->workers + (uint64_t)i * stride;
		tb_set(b, W, w, TANGLE_DF_WORKER_INDEX, i);
		tb_set(b, W, w, TANGLE_DF_WORKER_TID, 1000 + i);
		tb_set(b, W, w, TANGLE_DF_WORKER_STATE, TANGLE_DEBUG_WORKER_IDLE);
	}
	if (b->nrts)
		tb_set(b, R, b->rts[b->nrts - 1].addr, TANGLE_DF_RUNTIME_NEXT, r->addr);
	else
		tb_root_set(b, TANGLE_DF_ROOT_RUNTIMES, r->addr);
	b->nrts++;
	tb_root_set(b, TANGLE_DF_ROOT_RUNTIME_COUNT, (uint64_t)b->nrts);
	return r->addr;
}

uint64_t tb_runtime(tb *b, int index) { return b->rts[index].addr; }

uint64_t tb_worker(tb *b, int rt, uint32_t index)
{
	return b->rts[rt].workers + (uint64_t)index * (b->rsize[TANGLE_DR_WORKER] + 8);
}

uint64_t tb_slab(tb *b, int rt, int index)
{
	uint64_t s = b->rts[rt].slab_head;
	for (int i = 0; i < index && s; i++)
		s = get(b, TANGLE_DR_SLAB, s, TANGLE_DF_SLAB_NEXT);
	return s;
}

uint64_t tb_task_rt(tb *b, int ri, uint64_t id, const char *name, int state)
{
	struct rt *r = &b->rts[ri];
	const int S = TANGLE_DR_SLAB, T = TANGLE_DR_TASK;
	uint32_t stride = b->rsize[T] + 16;
	if (!r->cur_slab || r->used == b->o.slab_capacity) {
		uint64_t s = tb_alloc(b, b->rsize[S]);
		uint64_t tasks = tb_alloc(b, (size_t)stride * b->o.slab_capacity);
		tb_set(b, S, s, TANGLE_DF_SLAB_CAPACITY, b->o.slab_capacity);
		tb_set(b, S, s, TANGLE_DF_SLAB_STRIDE, stride);
		tb_set(b, S, s, TANGLE_DF_SLAB_TASKS, tasks);
		if (r->slab_tail)
			tb_set(b, S, r->slab_tail, TANGLE_DF_SLAB_NEXT, s);
		else
			tb_set(b, TANGLE_DR_RUNTIME, r->addr, TANGLE_DF_RUNTIME_SLABS, s);
		r->slab_tail = s;
		if (!r->slab_head)
			r->slab_head = s;
		r->cur_slab = tasks;
		r->used = 0;
		r->nslabs++;
		tb_set(b, TANGLE_DR_RUNTIME, r->addr, TANGLE_DF_RUNTIME_SLAB_COUNT, r->nslabs);
	}
	uint64_t t = r->cur_slab + (uint64_t)r->used++ * stride;
	tb_set(b, T, t, TANGLE_DF_TASK_ID, id);
	tb_set(b, T, t, TANGLE_DF_TASK_STATE, (uint64_t)state);
	tb_set_chars(b, T, t, TANGLE_DF_TASK_NAME, name);
	tb_set(b, T, t, TANGLE_DF_TASK_RUNTIME, r->addr);
	tb_set(b, T, t, TANGLE_DF_TASK_WORKER, (uint64_t)-1);
	tb_set(b, T, t, TANGLE_DF_TASK_SPAWNED_AT, TB_S(1));
	tb_set(b, T, t, TANGLE_DF_TASK_LAST_RAN_AT, TB_S(1));
	uint64_t w = tb_task_waiter(b, t);
	tb_set(b, TANGLE_DR_WAITER, w, TANGLE_DF_WAITER_TASK, t);
	return t;
}

uint64_t tb_task(tb *b, uint64_t id, const char *name, int state)
{
	return tb_task_rt(b, 0, id, name, state);
}

uint64_t tb_task_waiter(tb *b, uint64_t task)
{
	return task + b->off[TANGLE_DR_TASK][TANGLE_DF_TASK_WAIT];
}

uint64_t tb_task_id(tb *b, uint64_t task)
{
	return get(b, TANGLE_DR_TASK, task, TANGLE_DF_TASK_ID);
}

uint64_t tb_object(tb *b, int kind, const char *name)
{
	const int O = TANGLE_DR_OBJECT;
	uint64_t o = tb_alloc(b, b->rsize[O]);
	tb_set(b, O, o, TANGLE_DF_OBJECT_KIND, (uint64_t)kind);
	tb_set(b, O, o, TANGLE_DF_OBJECT_NAME, tb_str(b, name));
	b->objs[b->nobjs++] = o;
	return o;
}

uint64_t tb_mutex(tb *b, const char *name) { return tb_object(b, TANGLE_DEBUG_OBJ_MUTEX, name); }
uint64_t tb_rwlock(tb *b, const char *name) { return tb_object(b, TANGLE_DEBUG_OBJ_RWLOCK, name); }
uint64_t tb_notify(tb *b, const char *name) { return tb_object(b, TANGLE_DEBUG_OBJ_NOTIFY, name); }

uint64_t tb_sem(tb *b, const char *name, int64_t permits)
{
	uint64_t o = tb_object(b, TANGLE_DEBUG_OBJ_SEM, name);
	tb_set(b, TANGLE_DR_OBJECT, o, TANGLE_DF_OBJECT_VALUE, (uint64_t)permits);
	tb_set(b, TANGLE_DR_OBJECT, o, TANGLE_DF_OBJECT_CAPACITY, (uint64_t)permits);
	return o;
}

uint64_t tb_chan(tb *b, const char *name, int64_t capacity, int64_t buffered)
{
	uint64_t o = tb_object(b, TANGLE_DEBUG_OBJ_CHAN, name);
	tb_set(b, TANGLE_DR_OBJECT, o, TANGLE_DF_OBJECT_VALUE, (uint64_t)buffered);
	tb_set(b, TANGLE_DR_OBJECT, o, TANGLE_DF_OBJECT_CAPACITY, (uint64_t)capacity);
	tb_set(b, TANGLE_DR_OBJECT, o, TANGLE_DF_OBJECT_ELEM_SIZE, 8);
	if (!capacity)
		tb_set(b, TANGLE_DR_OBJECT, o, TANGLE_DF_OBJECT_FLAGS, TANGLE_DEBUG_OBJF_UNBOUNDED);
	return o;
}

void tb_hold(tb *b, uint64_t task, uint64_t obj, int mode, uint32_t count,
             uint64_t since, uint64_t site)
{
	const int T = TANGLE_DR_TASK, H = TANGLE_DR_HOLD, O = TANGLE_DR_OBJECT;
	if (b->o.mutex_hold_on_object && mode == TANGLE_DEBUG_HOLD_EXCLUSIVE &&
	    get(b, O, obj, TANGLE_DF_OBJECT_KIND) == TANGLE_DEBUG_OBJ_MUTEX) {
		tb_set(b, O, obj, TANGLE_DF_OBJECT_OWNER_ID, tb_task_id(b, task));
		tb_set(b, O, obj, TANGLE_DF_OBJECT_OWNER_SINCE, since);
		tb_set(b, O, obj, TANGLE_DF_OBJECT_HELD_SITE, site);
		tb_set(b, O, obj, TANGLE_DF_OBJECT_ACQUISITIONS,
		       get(b, O, obj, TANGLE_DF_OBJECT_ACQUISITIONS) + 1);
		return;
	}
	uint64_t n = get(b, T, task, TANGLE_DF_TASK_HOLD_COUNT);
	uint64_t h = task + b->off[T][TANGLE_DF_TASK_HOLDS] + n * b->rsize[H];
	tb_set(b, H, h, TANGLE_DF_HOLD_OBJECT, obj);
	tb_set(b, H, h, TANGLE_DF_HOLD_MODE, (uint64_t)mode);
	tb_set(b, H, h, TANGLE_DF_HOLD_COUNT, count);
	tb_set(b, H, h, TANGLE_DF_HOLD_SINCE, since);
	tb_set(b, H, h, TANGLE_DF_HOLD_SITE, site);
	tb_set(b, T, task, TANGLE_DF_TASK_HOLD_COUNT, n + 1);
	uint64_t kind = get(b, O, obj, TANGLE_DF_OBJECT_KIND);
	if (mode == TANGLE_DEBUG_HOLD_EXCLUSIVE) {
		tb_set(b, O, obj, TANGLE_DF_OBJECT_OWNER_ID, tb_task_id(b, task));
		tb_set(b, O, obj, TANGLE_DF_OBJECT_OWNER_SINCE, since);
	} else if (mode == TANGLE_DEBUG_HOLD_SHARED) {
		tb_set(b, O, obj, TANGLE_DF_OBJECT_VALUE, get(b, O, obj, TANGLE_DF_OBJECT_VALUE) + 1);
	} else if (kind == TANGLE_DEBUG_OBJ_SEM) {
		tb_set(b, O, obj, TANGLE_DF_OBJECT_VALUE, get(b, O, obj, TANGLE_DF_OBJECT_VALUE) - count);
	}
	tb_set(b, O, obj, TANGLE_DF_OBJECT_ACQUISITIONS,
	       get(b, O, obj, TANGLE_DF_OBJECT_ACQUISITIONS) + 1);
}

void tb_enqueue(tb *b, uint64_t obj, int q, uint64_t waiter)
{
	const int O = TANGLE_DR_OBJECT, W = TANGLE_DR_WAITER;
	int head = q == 2 ? TANGLE_DF_OBJECT_WAITERS2 : TANGLE_DF_OBJECT_WAITERS;
	int count = q == 2 ? TANGLE_DF_OBJECT_WAITER2_COUNT : TANGLE_DF_OBJECT_WAITER_COUNT;
	size_t slot = (size_t)((obj >> 4) ^ (uint64_t)q) % 256;
	uint64_t p, last = 0;
	if (b->tails[slot].obj == obj && b->tails[slot].q == q &&
	    !get(b, W, b->tails[slot].tail, TANGLE_DF_WAITER_NEXT)) {
		last = b->tails[slot].tail;
	} else {
		p = get(b, O, obj, head);
		for (int guard = 0; p && guard < 10000000; guard++) {
			last = p;
			p = get(b, W, p, TANGLE_DF_WAITER_NEXT);
		}
	}
	b->tails[slot].obj = obj;
	b->tails[slot].q = q;
	b->tails[slot].tail = waiter;
	if (last) {
		tb_set(b, W, last, TANGLE_DF_WAITER_NEXT, waiter);
		tb_set(b, W, waiter, TANGLE_DF_WAITER_PREV, last);
	} else {
		tb_set(b, O, obj, head, waiter);
	}
	tb_set(b, O, obj, count, get(b, O, obj, count) + 1);
	tb_set(b, W, waiter, TANGLE_DF_WAITER_QUEUE, obj + b->off[O][head]);
}

uint64_t tb_wait(tb *b, uint64_t task, int kind, int op, uint64_t obj,
                 uint64_t since, uint64_t site, int q)
{
	const int T = TANGLE_DR_TASK, W = TANGLE_DR_WAITER;
	uint64_t w = tb_task_waiter(b, task);
	tb_set(b, T, task, TANGLE_DF_TASK_STATE, TANGLE_DEBUG_TASK_WAITING);
	tb_set(b, W, w, TANGLE_DF_WAITER_STATE, TANGLE_DEBUG_WAITER_WAITING);
	tb_set(b, W, w, TANGLE_DF_WAITER_KIND, (uint64_t)kind);
	tb_set(b, W, w, TANGLE_DF_WAITER_OP, (uint64_t)op);
	tb_set(b, W, w, TANGLE_DF_WAITER_OBJECT, obj);
	tb_set(b, W, w, TANGLE_DF_WAITER_SINCE, since);
	tb_set(b, W, w, TANGLE_DF_WAITER_SITE, site);
	tb_set(b, W, w, TANGLE_DF_WAITER_COUNT, 1);
	tb_set(b, T, task, TANGLE_DF_TASK_LIVE_WAKERS, 1);
	tb_set(b, T, task, TANGLE_DF_TASK_SAVED_SP, 0);
	if (q && obj) {
		tb_enqueue(b, obj, q, w);
		if (kind != TANGLE_DEBUG_WAIT_CHAN)
			tb_set(b, TANGLE_DR_OBJECT, obj, TANGLE_DF_OBJECT_CONTENTIONS, 1);
	}
	return w;
}

void tb_running(tb *b, uint64_t task, uint32_t index, uint64_t since)
{
	const int T = TANGLE_DR_TASK, W = TANGLE_DR_WORKER;
	uint64_t w = tb_worker(b, 0, index);
	tb_set(b, T, task, TANGLE_DF_TASK_STATE, TANGLE_DEBUG_TASK_RUNNING);
	tb_set(b, T, task, TANGLE_DF_TASK_WORKER, index);
	tb_set(b, T, task, TANGLE_DF_TASK_LAST_RAN_AT, since);
	tb_set(b, W, w, TANGLE_DF_WORKER_STATE, TANGLE_DEBUG_WORKER_RUNNING);
	tb_set(b, W, w, TANGLE_DF_WORKER_CURRENT, task);
	tb_set(b, W, w, TANGLE_DF_WORKER_CURRENT_ID, tb_task_id(b, task));
	tb_set(b, W, w, TANGLE_DF_WORKER_RUNNING_SINCE, since);
}

void tb_label(tb *b, uint64_t task, const char *key, const char *value)
{
	const int T = TANGLE_DR_TASK, L = TANGLE_DR_LABEL;
	uint64_t n = get(b, T, task, TANGLE_DF_TASK_LABEL_COUNT);
	uint64_t l = task + b->off[T][TANGLE_DF_TASK_LABELS] + n * b->rsize[L];
	tb_set_chars(b, L, l, TANGLE_DF_LABEL_KEY, key);
	tb_set_chars(b, L, l, TANGLE_DF_LABEL_VALUE, value);
	tb_set(b, T, task, TANGLE_DF_TASK_LABEL_COUNT, n + 1);
}

void tb_span(tb *b, uint64_t task, const char *name, uint64_t site, uint64_t entered)
{
	const int T = TANGLE_DR_TASK, S = TANGLE_DR_SPAN;
	uint64_t n = get(b, T, task, TANGLE_DF_TASK_SPAN_DEPTH);
	uint64_t sp = task + b->off[T][TANGLE_DF_TASK_SPANS] + n * b->rsize[S];
	tb_set(b, S, sp, TANGLE_DF_SPAN_NAME, tb_str(b, name));
	tb_set(b, S, sp, TANGLE_DF_SPAN_SITE, site);
	tb_set(b, S, sp, TANGLE_DF_SPAN_ENTERED_AT, entered);
	tb_set(b, T, task, TANGLE_DF_TASK_SPAN_DEPTH, n + 1);
}

static void freeze(tb *b)
{
	if (b->frozen)
		return;
	b->frozen = 1;
	const int O = TANGLE_DR_OBJECT;
	/* the registry, newest first as a runtime would push them */
	uint64_t head = 0;
	for (int i = 0; i < b->nobjs; i++) {
		tb_set(b, O, b->objs[i], TANGLE_DF_OBJECT_NEXT, head);
		if (head)
			tb_set(b, O, head, TANGLE_DF_OBJECT_PREV, b->objs[i]);
		head = b->objs[i];
	}
	tb_root_set(b, TANGLE_DF_ROOT_OBJECTS, head);
	tb_root_set(b, TANGLE_DF_ROOT_OBJECT_COUNT, (uint64_t)b->nobjs);
	/* header and layout */
	uint8_t *h = tb_ptr(b, b->root);
	memcpy(h, TANGLE_DEBUG_MAGIC, 8);
	b->layout_off = b->root_size;
	uint32_t n = 0;
	for (int rec = 1; rec < NREC; rec++) {
		if (!b->rsize[rec])
			continue;
		uint64_t e = b->root + b->layout_off + 16ull * n++;
		tb_put(b, e, (uint64_t)rec, 2);
		tb_put(b, e + 2, 0, 2);
		tb_put(b, e + 4, 0, 4);
		tb_put(b, e + 8, b->rsize[rec], 4);
		for (size_t i = 0; i < NSPECS; i++) {
			if (specs[i].rec != rec || b->dropped[rec][specs[i].field])
				continue;
			e = b->root + b->layout_off + 16ull * n++;
			tb_put(b, e, (uint64_t)rec, 2);
			tb_put(b, e + 2, (uint64_t)specs[i].field, 2);
			tb_put(b, e + 4, b->off[rec][specs[i].field], 4);
			tb_put(b, e + 8, b->fsize[rec][specs[i].field], 4);
		}
	}
	for (int i = 0; i < b->nextras; i++) {
		uint64_t e = b->root + b->layout_off + 16ull * n++;
		tb_put(b, e, b->extras[i].rec, 2);
		tb_put(b, e + 2, b->extras[i].field, 2);
		tb_put(b, e + 4, b->extras[i].off, 4);
		tb_put(b, e + 8, b->extras[i].size, 4);
	}
	b->layout_count = n;
	uint32_t total = b->layout_off + 16 * n;
	h[29] = b->o.big_endian ? TANGLE_DEBUG_BIG : TANGLE_DEBUG_LITTLE;
	tb_put(b, b->root + 8, b->o.major, 2);
	tb_put(b, b->root + 10, b->o.minor, 2);
	tb_put(b, b->root + 12, 32, 4);
	tb_put(b, b->root + 16, total, 4);
	tb_put(b, b->root + 20, b->layout_off, 4);
	tb_put(b, b->root + 24, n, 4);
	h[28] = 8;
}

void tb_reader(tb *b, tangle_reader *out)
{
	if (b->reader.read) {
		*out = b->reader;
		return;
	}
	freeze(b);
	/* segments: the buffer minus the holes (sorted by address) */
	uint64_t at = b->o.base;
	uint64_t end = b->o.base + b->used;
	b->nsegs = 0;
	for (int i = 0; i <= b->nholes; i++) {
		uint64_t hs = i < b->nholes ? b->holes[i][0] : end;
		uint64_t he = i < b->nholes ? hs + b->holes[i][1] : end;
		if (hs > at)
			b->segs[b->nsegs++] = (tangle_segment){at, tb_ptr(b, at), (size_t)(hs - at)};
		at = he;
	}
	tangle_error *err = tangle_reader_buffer(b->segs, (size_t)b->nsegs, &b->reader);
	if (err) {
		fprintf(stderr, "tb: %s\n", err->message);
		abort();
	}
	tangle_reader_buffer_symbol(&b->reader, TANGLE_DEBUG_SYMBOL, b->root);
	*out = b->reader;
}

const tangle_reader *tb_reader_ptr(tb *b)
{
	return &b->reader;
}

tangle_session *tb_open(tb *b, uint64_t now, tangle_error **err)
{
	tangle_reader r;
	tb_reader(b, &r);
	tangle_session_options o = {0};
	o.now_kind = TANGLE_NOW_MONO;
	o.now = now;
	tangle_session *s = NULL;
	tangle_error *e = tangle_session_open(&b->reader, NULL, &o, &s);
	if (err)
		*err = e;
	else
		tangle_error_free(e);
	return s;
}

char *tb_run(tangle_session *s, const char *line, int *status)
{
	char buf[1024], *argv[64];
	int argc = 0;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && argc < 64;
	     t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	return tangle_session_run(s, argc, argv, status);
}

int tb_count(tangle_session *s, const char *kind, char *sig)
{
	int st;
	char *out = tb_run(s, "triage --json", &st);
	char key[96];
	snprintf(key, sizeof(key), "\"kind\": \"%s\",", kind);
	int n = 0;
	for (char *p = strstr(out, key); p; p = strstr(p + 1, key)) {
		if (n++ == 0 && sig) {
			char *q = strstr(p, "\"signature\": \"");
			sig[0] = 0;
			if (q)
				snprintf(sig, 9, "%s", q + 14);
		}
	}
	tangle_inspect_free(out);
	return n;
}
