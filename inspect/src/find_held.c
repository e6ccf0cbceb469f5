/*
 * find_held.c — lock-held-across-await: a task holds a mutex or rwlock
 * while it awaits something else (sleep, I/O, a channel, notify, a join, a
 * park, the blocking pool), for longer than the threshold, and other tasks
 * queue for the lock. Waiting for another lock is a chain (stuck or
 * deadlock), not this. Semaphore permits held across awaits are how
 * semaphores limit concurrency, so they are not reported.
 */
#include <string.h>

#include "ti.h"

static bool is_await(int kind)
{
	switch (kind) {
	case TANGLE_DEBUG_WAIT_CHAN:
	case TANGLE_DEBUG_WAIT_NOTIFY:
	case TANGLE_DEBUG_WAIT_JOIN:
	case TANGLE_DEBUG_WAIT_SLEEP:
	case TANGLE_DEBUG_WAIT_IO:
	case TANGLE_DEBUG_WAIT_BLOCKING:
	case TANGLE_DEBUG_WAIT_PARK:
	case TANGLE_DEBUG_WAIT_SELECT:
		return true;
	default:
		return false;
	}
}

static uint32_t queued_for(const tangle_session *s, uint32_t obj, uint32_t self,
                           uint32_t *first)
{
	const ti_object *o = &s->objs[obj];
	uint32_t n = 0;
	*first = TI_NONE;
	for (uint32_t k = 0; k < o->nq1; k++) {
		const ti_wait *w = o->q1[k];
		if (w->state != TANGLE_DEBUG_WAITER_WAITING || w->task == TI_NONE ||
		    w->task == self)
			continue;
		if (*first == TI_NONE)
			*first = w->task;
		n++;
	}
	return n;
}

void ti_find_held(tangle_session *s)
{
	for (uint32_t i = 0; i < s->ntasks; i++) {
		const ti_task *t = &s->tasks[i];
		if (!ti_waiting(t) || !is_await(t->wait.kind) || ti_task_in_findings(s, i))
			continue;
		uint64_t age = ti_age(s, t->wait.since);
		if (age < s->th.held_ns)
			continue;
		for (uint32_t h = 0; h < t->nholds; h++) {
			const ti_hold *hd = &t->holds[h];
			if (hd->obj == TI_NONE)
				continue;
			const ti_object *o = &s->objs[hd->obj];
			if (o->kind != TANGLE_DEBUG_OBJ_MUTEX && o->kind != TANGLE_DEBUG_OBJ_RWLOCK)
				continue;
			uint32_t first;
			uint32_t n = queued_for(s, hd->obj, i, &first);
			if (!n)
				continue;
			ti_finding *f = ti_finding_new(s, TI_F_HELD_ACROSS_AWAIT);
			if (!f)
				return;
			f->duration = age;
			f->behind = n;
			int cyc;
			f->nchain = ti_chain(s, &s->FA, first, &f->chain, &cyc);
			ti_finding_tasks(s, f, &i, 1);
			uint32_t *waiters = ti_alloc(&s->FA, n * sizeof(uint32_t));
			uint32_t m = 0;
			for (uint32_t k = 0; waiters && k < o->nq1; k++) {
				const ti_wait *w = o->q1[k];
				if (w->state == TANGLE_DEBUG_WAITER_WAITING &&
				    w->task != TI_NONE && w->task != i && m < n)
					waiters[m++] = w->task;
			}
			if (waiters)
				ti_finding_tasks(s, f, waiters, m);
			ti_finding_objs(s, f, &hd->obj, 1);
			if (t->wait.obj != TI_NONE)
				ti_finding_objs(s, f, &t->wait.obj, 1);
			char dur[32];
			ti_fmt_dur(dur, sizeof(dur), age);
			f->title = ti_printf(&s->FA, "task %lu \"%s\" holds %s \"%s\" while it "
			                     "awaits %s for %s; %u task%s queue for it",
			                     (unsigned long)t->id, t->name,
			                     ti_obj_kind_name(o->kind), o->name,
			                     ti_wait_kind_name(t->wait.kind), dur, n,
			                     n == 1 ? "" : "s");
			f->explanation = ti_printf(&s->FA, "\"%s\" stays locked for as long as "
			                           "the %s takes, and every task that needs "
			                           "it waits that long too", o->name,
			                           ti_wait_kind_name(t->wait.kind));
			f->fix = ti_printf(&s->FA, "release \"%s\" before the await and take it "
			                   "again after, or copy what you need out of it",
			                   o->name);
			const char *keys[4] = {
				t->wait.site ? t->wait.site->function : "",
				ti_wait_kind_name(t->wait.kind),
				ti_obj_kind_name(o->kind), o->name};
			const char *kh = hd->site ? hd->site->function : "";
			const char *all[5] = {keys[0], keys[1], keys[2], keys[3], kh};
			ti_finding_sign_keys(f, all, 5);
			if (!f->title || !f->explanation || !f->fix)
				f->title = f->explanation = f->fix = "";
		}
	}
}
