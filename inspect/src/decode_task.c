/*
 * decode_task.c — runtimes, their workers, and task records, by the layout.
 *
 * A runtime's workers are one bulk read (count capped, stride at least the
 * record size); a slab's task records are one bulk read into a buffer
 * reused across slabs, capped in bytes and in tasks overall. FREE slots are
 * skipped; a record with an unknown state, id 0 or a duplicate id is a
 * problem, not a task. Arrays inside a task (labels, spans, holds) are
 * bounded by their field's size, whatever the counts say.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ti.h"

/* A task record's state. Since 3.0 STATE is the scheduler's own word,
 * which also says NOTIFIED (running, woken meanwhile): a running task. */
static uint64_t task_state(const ti_layout *L, const uint8_t *r)
{
	uint64_t state = ti_get(L, r, TANGLE_DR_TASK, TANGLE_DF_TASK_STATE);
	return state == TANGLE_DEBUG_TASK_NOTIFIED ? TANGLE_DEBUG_TASK_RUNNING : state;
}

static void decode_workers(tangle_session *s, ti_runtime *rt, uint64_t base,
                           uint32_t count, uint32_t stride, ti_vec *workers)
{
	const ti_layout *L = &s->L;
	const int W = TANGLE_DR_WORKER;
	uint32_t size = L->rec_size[W];
	rt->first_worker = (uint32_t)workers->len;
	if (!base || !count || !size)
		return;
	if (count > TI_MAX_WORKERS) {
		ti_problem_add(s, base, "runtime %" PRIu64 ": %u workers, only %u read",
		               rt->id, count, TI_MAX_WORKERS);
		count = TI_MAX_WORKERS;
	}
	if (stride < size) {
		if (stride)
			ti_problem_add(s, base, "runtime %" PRIu64 ": worker stride %u < record size %u",
			               rt->id, stride, size);
		stride = size;
	}
	if ((uint64_t)count * stride > (16u << 20))
		count = (16u << 20) / stride;
	uint8_t *buf = malloc((size_t)count * stride);
	if (!buf)
		return;
	size_t got = ti_read(s, base, buf, (size_t)count * stride);
	uint32_t ok = (uint32_t)(got / stride);
	if (got % stride >= size)
		ok++;
	if (ok > count)
		ok = count;
	if (ok < count)
		ti_problem_add(s, base, "runtime %" PRIu64 ": workers %u..%u unreadable",
		               rt->id, ok, count - 1);
	for (uint32_t i = 0; i < ok; i++) {
		const uint8_t *r = buf + (size_t)i * stride;
		ti_worker *w = ti_vec_push(workers, sizeof(*w));
		if (!w)
			break;
		w->rt = (uint32_t)(rt - s->rts);
		w->index = ti_has(L, W, TANGLE_DF_WORKER_INDEX) ?
		           (uint32_t)ti_get(L, r, W, TANGLE_DF_WORKER_INDEX) : i;
		w->tid = (uint32_t)ti_get(L, r, W, TANGLE_DF_WORKER_TID);
		w->state = (uint8_t)ti_get(L, r, W, TANGLE_DF_WORKER_STATE);
		w->current = ti_get(L, r, W, TANGLE_DF_WORKER_CURRENT);
		w->current_id = ti_get(L, r, W, TANGLE_DF_WORKER_CURRENT_ID);
		w->running_since = ti_get(L, r, W, TANGLE_DF_WORKER_RUNNING_SINCE);
		if (ti_has(L, W, TANGLE_DF_WORKER_QUEUE_LEN)) {
			w->queue_len = (uint32_t)ti_get(L, r, W, TANGLE_DF_WORKER_QUEUE_LEN);
		} else { /* 2.1: from the queue's own indexes */
			uint32_t head = (uint32_t)ti_get(L, r, W, TANGLE_DF_WORKER_RUNQ_HEAD);
			uint32_t tail = (uint32_t)ti_get(L, r, W, TANGLE_DF_WORKER_RUNQ_TAIL);
			w->queue_len = tail - head <= TI_MAX_RUNQ ? tail - head : 0;
		}
		w->switches = ti_get(L, r, W, TANGLE_DF_WORKER_SWITCHES);
		w->idle_since = ti_get(L, r, W, TANGLE_DF_WORKER_IDLE_SINCE);
		w->task = TI_NONE;
		rt->nworkers++;
	}
	free(buf);
}

void ti_decode_wait(tangle_session *s, const uint8_t *rec, uint64_t addr,
                    ti_wait *w)
{
	const ti_layout *L = &s->L;
	const int W = TANGLE_DR_WAITER;
	w->addr = addr;
	w->next = ti_get(L, rec, W, TANGLE_DF_WAITER_NEXT);
	w->task_addr = ti_get(L, rec, W, TANGLE_DF_WAITER_TASK);
	w->state = (uint8_t)ti_get(L, rec, W, TANGLE_DF_WAITER_STATE);
	w->kind = (uint8_t)ti_get(L, rec, W, TANGLE_DF_WAITER_KIND);
	w->op = (uint8_t)ti_get(L, rec, W, TANGLE_DF_WAITER_OP);
	w->count = (uint32_t)ti_get(L, rec, W, TANGLE_DF_WAITER_COUNT);
	w->object = ti_get(L, rec, W, TANGLE_DF_WAITER_OBJECT);
	w->since = ti_get(L, rec, W, TANGLE_DF_WAITER_SINCE);
	w->deadline = ti_get(L, rec, W, TANGLE_DF_WAITER_DEADLINE);
	w->granted_at = ti_get(L, rec, W, TANGLE_DF_WAITER_GRANTED_AT);
	w->select = ti_get(L, rec, W, TANGLE_DF_WAITER_SELECT);
	w->queue = ti_get(L, rec, W, TANGLE_DF_WAITER_QUEUE);
	w->site = NULL;
	w->what = NULL;
	w->task = w->obj = w->target = w->ahead = TI_NONE;
	if (w->kind == TANGLE_DEBUG_WAIT_NONE && w->state == TANGLE_DEBUG_WAITER_NONE)
		return; /* no wait: no strings to read */
	w->site = ti_read_site(s, ti_get(L, rec, W, TANGLE_DF_WAITER_SITE));
	/* WHAT is a park's: other waits leave it as it was (3.0) */
	uint64_t what = ti_get(L, rec, W, TANGLE_DF_WAITER_WHAT);
	if (what && w->kind == TANGLE_DEBUG_WAIT_PARK)
		w->what = ti_read_string(s, what);
}

static void decode_task(tangle_session *s, const uint8_t *r, uint64_t addr,
                        ti_task *t)
{
	const ti_layout *L = &s->L;
	const int T = TANGLE_DR_TASK;
	char name[64];
	t->addr = addr;
	t->id = ti_get(L, r, T, TANGLE_DF_TASK_ID);
	t->generation = (uint32_t)ti_get(L, r, T, TANGLE_DF_TASK_GENERATION);
	t->state = (uint8_t)task_state(L, r);
	t->flags = (uint8_t)ti_get(L, r, T, TANGLE_DF_TASK_FLAGS);
	ti_get_chars(L, r, T, TANGLE_DF_TASK_NAME, name, sizeof(name));
	t->name = ti_strndup(&s->A, name, sizeof(name));
	if (!t->name)
		t->name = "";
	t->parent_id = ti_get(L, r, T, TANGLE_DF_TASK_PARENT_ID);
	t->spawn_site = ti_read_site(s, ti_get(L, r, T, TANGLE_DF_TASK_SPAWN_SITE));
	t->runtime = ti_get(L, r, T, TANGLE_DF_TASK_RUNTIME);
	t->worker = ti_has(L, T, TANGLE_DF_TASK_WORKER) ?
	            (int32_t)ti_get_signed(L, r, T, TANGLE_DF_TASK_WORKER) : -1;
	t->spawned_at = ti_get(L, r, T, TANGLE_DF_TASK_SPAWNED_AT);
	t->last_ran_at = ti_get(L, r, T, TANGLE_DF_TASK_LAST_RAN_AT);
	t->run_ns = ti_get(L, r, T, TANGLE_DF_TASK_RUN_NS);
	t->resumes = ti_get(L, r, T, TANGLE_DF_TASK_RESUMES);
	t->woken_at = ti_get(L, r, T, TANGLE_DF_TASK_WOKEN_AT);
	t->woken_by = ti_get(L, r, T, TANGLE_DF_TASK_WOKEN_BY);
	t->wakes = ti_get(L, r, T, TANGLE_DF_TASK_WAKES);
	if (ti_has(L, T, TANGLE_DF_TASK_WAKERS)) {
		/* 2.1: the rest is added once queues are walked
		 * (ti_add_implied_wakers) */
		t->has_live_wakers = 1;
		t->live_wakers = (uint32_t)ti_get(L, r, T, TANGLE_DF_TASK_WAKERS);
	} else {
		t->has_live_wakers = ti_has(L, T, TANGLE_DF_TASK_LIVE_WAKERS);
		t->live_wakers = (uint32_t)ti_get(L, r, T, TANGLE_DF_TASK_LIVE_WAKERS);
	}
	t->hold_overflow = (uint32_t)ti_get(L, r, T, TANGLE_DF_TASK_HOLD_OVERFLOW);
	t->saved_sp = ti_get(L, r, T, TANGLE_DF_TASK_SAVED_SP);
	t->stack_lo = ti_get(L, r, T, TANGLE_DF_TASK_STACK_LO);
	t->stack_hi = ti_get(L, r, T, TANGLE_DF_TASK_STACK_HI);
	t->finished_at = ti_get(L, r, T, TANGLE_DF_TASK_FINISHED_AT);

	const ti_field *wf = &L->f[T][TANGLE_DF_TASK_WAIT];
	if (wf->size)
		ti_decode_wait(s, r + wf->off, addr + wf->off, &t->wait);
	else
		t->wait.task = t->wait.obj = t->wait.target = t->wait.ahead = TI_NONE;
	/* 3.0: a grant without a deadline leaves GRANTED_AT 0; it is the
	 * wake-up the grant gave (or, if the task was already woken and has
	 * not run since, that earlier one). */
	if (t->wait.state == TANGLE_DEBUG_WAITER_GRANTED && !t->wait.granted_at &&
	    !t->wait.deadline)
		t->wait.granted_at = t->woken_at;

	/* labels */
	const ti_field *lf = &L->f[T][TANGLE_DF_TASK_LABELS];
	uint32_t lsize = L->rec_size[TANGLE_DR_LABEL];
	uint64_t n = ti_get(L, r, T, TANGLE_DF_TASK_LABEL_COUNT);
	if (lf->size && n) {
		uint64_t slots = lf->size / lsize;
		if (n > slots)
			n = slots;
		if (n > 16)
			n = 16;
		t->labels = ti_alloc(&s->A, n * sizeof(*t->labels));
		for (uint32_t i = 0; t->labels && i < n; i++) {
			const uint8_t *e = r + lf->off + (size_t)i * lsize;
			char k[64], v[128];
			ti_get_chars(L, e, TANGLE_DR_LABEL, TANGLE_DF_LABEL_KEY, k, sizeof(k));
			ti_get_chars(L, e, TANGLE_DR_LABEL, TANGLE_DF_LABEL_VALUE, v, sizeof(v));
			t->labels[i].key = ti_strndup(&s->A, k, sizeof(k));
			t->labels[i].value = ti_strndup(&s->A, v, sizeof(v));
			if (!t->labels[i].key || !t->labels[i].value)
				break;
			t->nlabels++;
		}
	}
	/* spans */
	const ti_field *sf = &L->f[T][TANGLE_DF_TASK_SPANS];
	uint32_t ssize = L->rec_size[TANGLE_DR_SPAN];
	n = ti_get(L, r, T, TANGLE_DF_TASK_SPAN_DEPTH);
	t->span_depth = n > 255 ? 255 : (uint8_t)n;
	if (sf->size && n) {
		uint64_t slots = sf->size / ssize;
		if (n > slots)
			n = slots;
		if (n > 64)
			n = 64;
		t->spans = ti_alloc(&s->A, n * sizeof(*t->spans));
		for (uint32_t i = 0; t->spans && i < n; i++) {
			const uint8_t *e = r + sf->off + (size_t)i * ssize;
			const int S = TANGLE_DR_SPAN;
			t->spans[i].name = ti_read_string(s, ti_get(L, e, S, TANGLE_DF_SPAN_NAME));
			t->spans[i].site = ti_read_site(s, ti_get(L, e, S, TANGLE_DF_SPAN_SITE));
			t->spans[i].entered_at = ti_get(L, e, S, TANGLE_DF_SPAN_ENTERED_AT);
			t->nspans++;
		}
	}
	/* holds */
	const ti_field *hf = &L->f[T][TANGLE_DF_TASK_HOLDS];
	uint32_t hsize = L->rec_size[TANGLE_DR_HOLD];
	n = ti_get(L, r, T, TANGLE_DF_TASK_HOLD_COUNT);
	if (hf->size && n) {
		uint64_t slots = hf->size / hsize;
		if (n > slots) {
			ti_problem_add(s, addr, "task %" PRIu64 ": hold count %" PRIu64
			               " exceeds its %" PRIu64 " slots", t->id, n, slots);
			n = slots;
		}
		if (n > 64)
			n = 64;
		t->holds = ti_alloc(&s->A, n * sizeof(*t->holds));
		for (uint32_t i = 0; t->holds && i < n; i++) {
			const uint8_t *e = r + hf->off + (size_t)i * hsize;
			const int H = TANGLE_DR_HOLD;
			ti_hold *h = &t->holds[t->nholds];
			h->object = ti_get(L, e, H, TANGLE_DF_HOLD_OBJECT);
			if (!h->object)
				continue;
			h->mode = (uint8_t)ti_get(L, e, H, TANGLE_DF_HOLD_MODE);
			h->count = (uint32_t)ti_get(L, e, H, TANGLE_DF_HOLD_COUNT);
			h->since = ti_get(L, e, H, TANGLE_DF_HOLD_SINCE);
			h->site = ti_read_site(s, ti_get(L, e, H, TANGLE_DF_HOLD_SITE));
			h->obj = TI_NONE;
			t->nholds++;
		}
	}
}

void ti_decode_slab(tangle_session *s, ti_runtime *rt, uint64_t slab,
                        const uint8_t *srec, ti_vec *tasks, struct ti_slab_buf *sb)
{
	const ti_layout *L = &s->L;
	const int SL = TANGLE_DR_SLAB;
	uint32_t size = L->rec_size[TANGLE_DR_TASK];
	uint64_t cap = ti_get(L, srec, SL, TANGLE_DF_SLAB_CAPACITY);
	uint64_t stride = ti_has(L, SL, TANGLE_DF_SLAB_STRIDE) ?
	                  ti_get(L, srec, SL, TANGLE_DF_SLAB_STRIDE) : size;
	uint64_t base = ti_get(L, srec, SL, TANGLE_DF_SLAB_TASKS);
	if (!cap || !base)
		return;
	if (stride < size || stride > TI_MAX_RECORD) {
		ti_problem_add(s, slab, "slab: stride %" PRIu64 " does not fit task records of %u bytes",
		               stride, size);
		return;
	}
	if (cap * stride > TI_MAX_SLAB_BYTES) {
		ti_problem_add(s, slab, "slab: capacity %" PRIu64 " too large, read %" PRIu64,
		               cap, TI_MAX_SLAB_BYTES / stride);
		cap = TI_MAX_SLAB_BYTES / stride;
	}
	if (ti_visit(s, base | 1)) { /* tasks listed by an earlier slab */
		ti_problem_add(s, slab, "slab: its task records at 0x%" PRIx64
		               " belong to another slab too", base);
		return;
	}
	if (s->slots_scanned + cap > TI_MAX_SLOTS) {
		ti_problem_add(s, slab, "slab: more than %u task slots in all; rest not read",
		               TI_MAX_SLOTS);
		if (s->slots_scanned >= TI_MAX_SLOTS)
			return;
		cap = TI_MAX_SLOTS - s->slots_scanned;
	}
	s->slots_scanned += cap;
	if (tasks->len + cap > TI_MAX_TASKS) {
		ti_problem_add(s, slab, "slab: more than %u tasks in all; rest not read",
		               TI_MAX_TASKS);
		cap = TI_MAX_TASKS > tasks->len ? TI_MAX_TASKS - tasks->len : 0;
		if (!cap)
			return;
	}
	size_t bytes = (size_t)(cap * stride);
	if (sb->cap < bytes) { /* one buffer for every slab: no page faults */
		free(sb->data);
		sb->data = malloc(bytes);
		sb->cap = sb->data ? bytes : 0;
	}
	uint8_t *buf = sb->data;
	if (!buf) {
		ti_problem_add(s, slab, "slab: out of memory for %zu bytes", bytes);
		return;
	}
	size_t got = ti_read(s, base, buf, bytes);
	uint64_t ok = got / stride;
	if (got % stride >= size)
		ok++;
	if (ok > cap)
		ok = cap;
	if (ok < cap)
		ti_problem_add(s, base, "slab at 0x%" PRIx64 ": task records %" PRIu64
		               "..%" PRIu64 " unreadable", slab, ok, cap - 1);
	for (uint64_t i = 0; i < ok; i++) {
		const uint8_t *r = buf + i * stride;
		uint64_t state = task_state(L, r);
		uint64_t addr = base + i * stride;
		if (state == TANGLE_DEBUG_TASK_FREE)
			continue;
		uint64_t id = ti_get(L, r, TANGLE_DR_TASK, TANGLE_DF_TASK_ID);
		if (state > TANGLE_DEBUG_TASK_CANCELLED || id == 0) {
			ti_problem_add(s, addr, "task record at 0x%" PRIx64 " unreadable "
			               "(state %" PRIu64 ", id %" PRIu64 ")", addr, state, id);
			continue;
		}
		uint64_t dup;
		if (ti_map_get(&s->task_by_id, id, &dup)) {
			ti_problem_add(s, addr, "task record at 0x%" PRIx64 ": id %" PRIu64
			               " seen twice", addr, id);
			continue;
		}
		ti_task *t = ti_vec_push(tasks, sizeof(*t));
		if (!t)
			break;
		if (ti_map_put(&s->task_by_id, id, tasks->len - 1))
			break;
		decode_task(s, r, addr, t);
		t->rt = (uint32_t)(rt - s->rts);
	}
}

void ti_decode_runtime(tangle_session *s, ti_runtime *rt, const uint8_t *r,
                           ti_vec *workers)
{
	const ti_layout *L = &s->L;
	const int RT = TANGLE_DR_RUNTIME;
	char name[64];
	rt->id = ti_get(L, r, RT, TANGLE_DF_RUNTIME_ID);
	ti_get_chars(L, r, RT, TANGLE_DF_RUNTIME_NAME, name, sizeof(name));
	rt->name = ti_strndup(&s->A, name, sizeof(name));
	if (!rt->name)
		rt->name = "";
	rt->flavor = (uint8_t)ti_get(L, r, RT, TANGLE_DF_RUNTIME_FLAVOR);
	rt->worker_count = (uint32_t)ti_get(L, r, RT, TANGLE_DF_RUNTIME_WORKER_COUNT);
	rt->slab_count = (uint32_t)ti_get(L, r, RT, TANGLE_DF_RUNTIME_SLAB_COUNT);
	rt->tasks_live = ti_get(L, r, RT, TANGLE_DF_RUNTIME_TASKS_LIVE);
	rt->tasks_spawned = ti_get(L, r, RT, TANGLE_DF_RUNTIME_TASKS_SPAWNED);
	rt->created_at = ti_get(L, r, RT, TANGLE_DF_RUNTIME_CREATED_AT);
	rt->stack_size = ti_get(L, r, RT, TANGLE_DF_RUNTIME_STACK_SIZE);
	rt->global_queue = ti_get(L, r, RT, TANGLE_DF_RUNTIME_GLOBAL_QUEUE);
	rt->blocking_busy = (uint32_t)ti_get(L, r, RT, TANGLE_DF_RUNTIME_BLOCKING_BUSY);
	rt->blocking_queued = (uint32_t)ti_get(L, r, RT, TANGLE_DF_RUNTIME_BLOCKING_QUEUED);
	uint64_t stride = ti_get(L, r, RT, TANGLE_DF_RUNTIME_WORKER_STRIDE);
	decode_workers(s, rt, ti_get(L, r, RT, TANGLE_DF_RUNTIME_WORKERS),
	               rt->worker_count, stride > TI_MAX_RECORD ? 1 : (uint32_t)stride,
	               workers);
}

