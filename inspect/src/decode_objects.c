/*
 * decode_objects.c — lock-like objects, their waiter queues and holders.
 *
 * Objects come from the registry list (visited set, capped) and, when a
 * wait or a hold names an object missing from it (a torn registry), from a
 * read of that address. Queues are walked by NEXT with a visited set and a
 * cap; a waiter that is some task's inline WAIT is taken from the task
 * already decoded (no second read), others (select waiters on a stack) are
 * read once; a waiter that waits on another object ends the walk (stale).
 * Holders of an object are derived from every task's HOLDs, the
 * object's owner and hand-off, and waiters granted but not yet claimed.
 * Since ABI 2.0 a mutex's hold is on the mutex (OWNER_ID, OWNER_SINCE,
 * HELD_SITE) instead of in its owner's HOLDS: when the layout has
 * HELD_SITE, each owned mutex becomes a hold of its owner here, placed
 * among the task's other holds by time, so that everything downstream
 * reads TASK.HOLDS as before (1.x tables without HELD_SITE keep theirs as they are).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ti.h"

struct heads {
	uint64_t q1, q2;
};

static bool is_object_wait(int kind)
{
	return kind >= TANGLE_DEBUG_WAIT_MUTEX && kind <= TANGLE_DEBUG_WAIT_NOTIFY;
}

static uint32_t add_object(tangle_session *s, uint64_t addr, int in_registry,
                           ti_vec *objs, ti_vec *heads, uint64_t *next)
{
	const ti_layout *L = &s->L;
	const int O = TANGLE_DR_OBJECT;
	uint32_t size = L->rec_size[O];
	uint8_t rec[TI_MAX_RECORD];
	if (!size || objs->len >= TI_MAX_OBJECTS)
		return TI_NONE;
	if (ti_read(s, addr, rec, size) < size) {
		ti_problem_add(s, addr, "object record at 0x%" PRIx64 " unreadable", addr);
		return TI_NONE;
	}
	ti_object *o = ti_vec_push(objs, sizeof(*o));
	struct heads *h = ti_vec_push(heads, sizeof(*h));
	if (!o || !h)
		return TI_NONE;
	uint32_t idx = (uint32_t)objs->len - 1;
	if (ti_map_put(&s->obj_by_addr, addr, idx))
		return TI_NONE;
	o->addr = addr;
	o->in_registry = (uint8_t)in_registry;
	o->kind = (uint8_t)ti_get(L, rec, O, TANGLE_DF_OBJECT_KIND);
	o->flags = (uint8_t)ti_get(L, rec, O, TANGLE_DF_OBJECT_FLAGS);
	o->name = ti_read_string(s, ti_get(L, rec, O, TANGLE_DF_OBJECT_NAME));
	o->created = ti_read_site(s, ti_get(L, rec, O, TANGLE_DF_OBJECT_CREATED_AT));
	o->owner_id = ti_get(L, rec, O, TANGLE_DF_OBJECT_OWNER_ID);
	/* 3.0: a mutex's unlock leaves OWNER_SINCE; it is the owner's */
	o->owner_since = o->owner_id ? ti_get(L, rec, O, TANGLE_DF_OBJECT_OWNER_SINCE) : 0;
	o->value = ti_get_signed(L, rec, O, TANGLE_DF_OBJECT_VALUE);
	o->capacity = ti_get_signed(L, rec, O, TANGLE_DF_OBJECT_CAPACITY);
	o->handed_to = ti_get(L, rec, O, TANGLE_DF_OBJECT_HANDED_TO);
	o->handed_at = ti_get(L, rec, O, TANGLE_DF_OBJECT_HANDED_AT);
	o->acquisitions = ti_get(L, rec, O, TANGLE_DF_OBJECT_ACQUISITIONS);
	o->contentions = ti_get(L, rec, O, TANGLE_DF_OBJECT_CONTENTIONS);
	o->longest_hold = ti_get(L, rec, O, TANGLE_DF_OBJECT_LONGEST_HOLD);
	o->last_sender = ti_get(L, rec, O, TANGLE_DF_OBJECT_LAST_SENDER);
	o->last_receiver = ti_get(L, rec, O, TANGLE_DF_OBJECT_LAST_RECEIVER);
	o->elem_size = ti_get(L, rec, O, TANGLE_DF_OBJECT_ELEM_SIZE);
	o->held_site = ti_get(L, rec, O, TANGLE_DF_OBJECT_HELD_SITE);
	o->owner = o->handed = TI_NONE;
	if (o->kind == TANGLE_DEBUG_OBJ_NONE || o->kind > TANGLE_DEBUG_OBJ_TASK)
		ti_problem_add(s, addr, "object at 0x%" PRIx64 ": unknown kind %u",
		               addr, o->kind);
	h->q1 = ti_get(L, rec, O, TANGLE_DF_OBJECT_WAITERS);
	h->q2 = ti_get(L, rec, O, TANGLE_DF_OBJECT_WAITERS2);
	if (next)
		*next = ti_get(L, rec, O, TANGLE_DF_OBJECT_NEXT);
	return idx;
}

static uint32_t object_at(tangle_session *s, uint64_t addr, ti_vec *objs,
                          ti_vec *heads)
{
	uint64_t v;
	if (!addr)
		return TI_NONE;
	if (ti_map_get(&s->obj_by_addr, addr, &v))
		return (uint32_t)v;
	if (ti_map_get(&s->task_by_addr, addr, &v))
		return TI_NONE; /* a task, not an object */
	uint32_t idx = add_object(s, addr, 0, objs, heads, NULL);
	if (idx == TI_NONE) /* remember the failure: do not read it again */
		ti_map_put(&s->obj_by_addr, addr, TI_NONE);
	return idx;
}

/* The task's inline waiter if addr is one, else NULL. */
static ti_wait *inline_wait(tangle_session *s, uint64_t addr)
{
	const ti_field *wf = &s->L.f[TANGLE_DR_TASK][TANGLE_DF_TASK_WAIT];
	uint64_t v;
	if (!wf->size || addr < wf->off ||
	    !ti_map_get(&s->task_by_addr, addr - wf->off, &v))
		return NULL;
	return &s->tasks[v].wait;
}

static ti_wait **walk_queue(tangle_session *s, uint32_t oi, uint64_t head,
                            uint32_t *count, const char *which)
{
	ti_vec q = {0};
	uint32_t size = s->L.rec_size[TANGLE_DR_WAITER];
	uint8_t rec[TI_MAX_RECORD];
	ti_visit_begin(s);
	for (uint64_t p = head; p;) {
		ti_object *o = &s->objs[oi];
		if (ti_visit(s, p)) {
			ti_problem_add(s, o->addr, "%s queue of %s \"%s\" loops back to 0x%" PRIx64,
			               which, ti_obj_kind_name(o->kind), o->name, p);
			o->truncated = 1;
			break;
		}
		if (q.len >= TI_MAX_QUEUE || s->queued_walked >= TI_MAX_QUEUED) {
			ti_problem_add(s, o->addr, "%s queue of %s \"%s\" cut at %zu waiters",
			               which, ti_obj_kind_name(o->kind), o->name, q.len);
			o->truncated = 1;
			break;
		}
		s->queued_walked++;
		ti_wait *w = inline_wait(s, p);
		if (!w) {
			if (!size || s->extra_waits.len >= TI_MAX_EXTRA_WAITERS ||
			    ti_read(s, p, rec, size) < size) {
				ti_problem_add(s, p, "waiter at 0x%" PRIx64 " in the %s queue of %s "
				               "\"%s\" unreadable", p, which,
				               ti_obj_kind_name(o->kind), o->name);
				o->truncated = 1;
				break;
			}
			w = ti_alloc(&s->A, sizeof(*w));
			ti_wait **slot = ti_vec_push(&s->extra_waits, sizeof(*slot));
			if (!w || !slot)
				break;
			*slot = w;
			ti_decode_wait(s, rec, p, w);
			uint64_t v;
			if (ti_map_get(&s->task_by_addr, w->task_addr, &v))
				w->task = (uint32_t)v;
			w->obj = oi;
		}
		if (w->object != o->addr) {
			/* a waiter that left (or a slot reused since): the queue
			 * past it is not this object's any more */
			ti_problem_add(s, p, "%s queue of %s \"%s\": waiter at 0x%" PRIx64
			               " waits on 0x%" PRIx64 " instead", which,
			               ti_obj_kind_name(o->kind), o->name, p, w->object);
			o->truncated = 1;
			break;
		}
		ti_wait **slot = ti_vec_push(&q, sizeof(*slot));
		if (!slot)
			break;
		*slot = w;
		w->queued = 1;
		p = w->next;
	}
	*count = (uint32_t)q.len;
	ti_wait **out = NULL;
	if (q.len) {
		out = ti_alloc(&s->A, q.len * sizeof(*out));
		if (out)
			memcpy(out, q.data, q.len * sizeof(*out));
		else
			*count = 0;
	}
	ti_vec_free(&q);
	return out;
}

/* The hold of mutex oi by its owner, added to the owner's holds. */
static tangle_error *object_hold(tangle_session *s, uint32_t oi)
{
	const ti_object *o = &s->objs[oi];
	uint64_t v;
	if (o->kind != TANGLE_DEBUG_OBJ_MUTEX || !o->owner_id ||
	    !ti_map_get(&s->task_by_id, o->owner_id, &v))
		return NULL;
	ti_task *t = &s->tasks[v];
	uint32_t n = t->nholds, at = n;
	if (n >= UINT8_MAX)
		return NULL;
	for (uint32_t h = 0; h < n; h++) {
		if (t->holds[h].obj == oi)
			return NULL; /* listed in HOLDS already */
		if (at == n && t->holds[h].since > o->owner_since)
			at = h;
	}
	ti_hold *holds = ti_alloc(&s->A, (n + 1) * sizeof(*holds));
	if (!holds)
		return &tangle_error_out_of_memory;
	if (n)
		memcpy(holds, t->holds, n * sizeof(*holds));
	memmove(holds + at + 1, holds + at, (n - at) * sizeof(*holds));
	holds[at] = (ti_hold){
		.object = o->addr, .since = o->owner_since,
		.site = ti_read_site(s, o->held_site), .count = 1, .obj = oi,
		.mode = TANGLE_DEBUG_HOLD_EXCLUSIVE,
	};
	t->holds = holds;
	t->nholds = (uint8_t)(n + 1);
	return NULL;
}

struct pair {
	uint32_t obj, task;
};

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	if (x->obj != y->obj)
		return x->obj < y->obj ? -1 : 1;
	return x->task < y->task ? -1 : x->task > y->task;
}

/* A task granted obj that has not run since counts as holding it. */
static bool unclaimed_grant(const ti_task *t)
{
	const ti_wait *w = &t->wait;
	return w->state == TANGLE_DEBUG_WAITER_GRANTED && w->obj != TI_NONE &&
	       w->kind >= TANGLE_DEBUG_WAIT_MUTEX && w->kind <= TANGLE_DEBUG_WAIT_SEM &&
	       w->granted_at && t->last_ran_at < w->granted_at;
}

static tangle_error *holders(tangle_session *s)
{
	ti_vec pairs = {0};
	for (uint32_t i = 0; i < s->ntasks; i++) {
		ti_task *t = &s->tasks[i];
		for (uint32_t h = 0; h < t->nholds; h++) {
			struct pair *p = t->holds[h].obj == TI_NONE ? NULL :
			                 ti_vec_push(&pairs, sizeof(*p));
			if (p)
				*p = (struct pair){t->holds[h].obj, i};
		}
		if (unclaimed_grant(t)) {
			struct pair *p = ti_vec_push(&pairs, sizeof(*p));
			if (p)
				*p = (struct pair){t->wait.obj, i};
		}
	}
	for (uint32_t i = 0; i < s->nobjs; i++) {
		ti_object *o = &s->objs[i];
		uint64_t v;
		if (o->owner_id && ti_map_get(&s->task_by_id, o->owner_id, &v))
			o->owner = (uint32_t)v;
		if (o->handed_to && ti_map_get(&s->task_by_id, o->handed_to, &v))
			o->handed = (uint32_t)v;
		uint32_t add[2] = {o->owner, o->handed};
		for (int k = 0; k < 2; k++) {
			if (add[k] == TI_NONE)
				continue;
			struct pair *p = ti_vec_push(&pairs, sizeof(*p));
			if (p)
				*p = (struct pair){i, add[k]};
		}
	}
	struct pair *P = pairs.data;
	if (pairs.len)
		qsort(P, pairs.len, sizeof(*P), cmp_pair);
	for (size_t i = 0; i < pairs.len;) {
		size_t j = i;
		while (j < pairs.len && P[j].obj == P[i].obj)
			j++;
		ti_object *o = &s->objs[P[i].obj];
		o->holders = ti_alloc(&s->A, (j - i) * sizeof(uint32_t));
		if (!o->holders) {
			ti_vec_free(&pairs);
			return &tangle_error_out_of_memory;
		}
		for (size_t k = i; k < j; k++)
			if (k == i || P[k].task != P[k - 1].task)
				o->holders[o->nholders++] = P[k].task;
		i = j;
	}
	ti_vec_free(&pairs);
	return NULL;
}

/* Since 2.1 TASK.WAKERS counts only what the records cannot show: a
 * waiter in a queue, a deadline (its timer) and a join of a task that has
 * not finished can wake a task too. Added here, so that live_wakers means
 * what LIVE_WAKERS meant up to 2.0, whichever table it comes from. */
static void add_implied_wakers(tangle_session *s)
{
	if (!ti_has(&s->L, TANGLE_DR_TASK, TANGLE_DF_TASK_WAKERS))
		return;
	bool cut = false; /* a queue not read whole may hold a select's arm */
	for (uint32_t i = 0; i < s->nobjs; i++)
		cut |= s->objs[i].truncated;
	uint32_t *arms = calloc(s->ntasks ? s->ntasks : 1, sizeof(*arms));
	ti_wait **xs = s->extra_waits.data;
	for (size_t k = 0; k < s->extra_waits.len; k++)
		if (xs[k]->queued && xs[k]->task < s->ntasks && arms)
			arms[xs[k]->task]++;
	for (uint32_t i = 0; i < s->ntasks; i++) {
		ti_task *t = &s->tasks[i];
		const ti_wait *w = &t->wait;
		if (w->state != TANGLE_DEBUG_WAITER_WAITING)
			continue;
		uint32_t n = (w->queue || w->queued) + (w->deadline != 0);
		if (w->kind == TANGLE_DEBUG_WAIT_JOIN) {
			const ti_task *j = w->target < s->ntasks ?
			                   &s->tasks[w->target] : NULL;
			n += !j || /* unknown: not called a loss */
			     (!j->finished_at && j->state != TANGLE_DEBUG_TASK_DONE &&
			      j->state != TANGLE_DEBUG_TASK_CANCELLED);
		}
		if (w->kind == TANGLE_DEBUG_WAIT_SELECT) /* its queued arms, or
		                                           * one that may be */
			n += (arms ? arms[i] : 0) + (cut || !arms);
		t->live_wakers += n;
	}
	free(arms);
}

tangle_error *ti_decode_objects(tangle_session *s)
{
	ti_vec objs = {0}, heads = {0};
	uint64_t cap = TI_MAX_OBJECTS;
	ti_visit_begin(s);
	for (uint64_t p = s->obj_head; p;) {
		if (ti_visit(s, p)) {
			ti_problem_add(s, p, "object registry loops back to 0x%" PRIx64, p);
			break;
		}
		if (objs.len >= cap) {
			ti_problem_add(s, p, "more than %" PRIu64 " objects; rest not read", cap);
			break;
		}
		uint64_t next = 0;
		if (add_object(s, p, 1, &objs, &heads, &next) == TI_NONE)
			break;
		p = next;
	}
	size_t in_registry = objs.len;
	if (s->obj_count > in_registry && !s->opt.torn)
		ti_problem_add(s, s->obj_head, "object registry: %" PRIu64 " objects "
		               "announced, %zu read", s->obj_count, in_registry);
	/* waits and holds naming objects the registry did not list */
	for (uint32_t i = 0; i < s->ntasks; i++) {
		ti_task *t = &s->tasks[i];
		ti_wait *w = &t->wait;
		uint64_t v;
		if (w->kind == TANGLE_DEBUG_WAIT_JOIN) {
			if (ti_map_get(&s->task_by_addr, w->object, &v))
				w->target = (uint32_t)v;
		} else if (is_object_wait(w->kind) && w->state != TANGLE_DEBUG_WAITER_NONE) {
			w->obj = object_at(s, w->object, &objs, &heads);
		}
		for (uint32_t h = 0; h < t->nholds; h++)
			t->holds[h].obj = object_at(s, t->holds[h].object, &objs, &heads);
	}
	s->objs = objs.data;
	s->nobjs = (uint32_t)objs.len;
	struct heads *H = heads.data;
	for (uint32_t i = 0; i < s->nobjs; i++) {
		s->objs[i].q1 = walk_queue(s, i, H[i].q1, &s->objs[i].nq1,
		                           s->objs[i].kind == TANGLE_DEBUG_OBJ_CHAN ?
		                           "sender" : "waiter");
		s->objs[i].q2 = walk_queue(s, i, H[i].q2, &s->objs[i].nq2, "receiver");
	}
	ti_vec_free(&heads);
	if (ti_has(&s->L, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_HELD_SITE)) {
		/* oldest object first: of holds taken at one clock reading,
		 * objects created in the order they are locked keep it */
		for (uint32_t i = s->nobjs; i-- > 0;) {
			tangle_error *err = object_hold(s, i);
			if (err)
				return err;
		}
	}
	add_implied_wakers(s);
	return holders(s);
}
