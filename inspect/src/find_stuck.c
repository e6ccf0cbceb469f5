/*
 * find_stuck.c — stuck: tasks waiting for a lock or permits past the
 * threshold that no other finding explains (neither they nor any task on
 * their wait chain is part of one). One finding per object waited on, with
 * the chain of its longest waiter to where it ends.
 */
#include <stdlib.h>

#include "ti.h"

static bool explained(const tangle_session *s, const ti_step *c, uint32_t n,
                      uint32_t base)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t st = s->in_finding[c[i].task];
		if (st && st <= base)
			return true;
	}
	return false;
}

void ti_find_stuck(tangle_session *s)
{
	uint32_t base = s->nfindings;
	uint32_t *longest = malloc((s->nobjs ? s->nobjs : 1) * sizeof(uint32_t));
	if (!longest)
		return;
	for (uint32_t o = 0; o < s->nobjs; o++)
		longest[o] = TI_NONE;
	for (uint32_t i = 0; i < s->ntasks; i++) {
		const ti_task *t = &s->tasks[i];
		const ti_wait *w = &t->wait;
		if (!ti_waiting(t) || w->obj == TI_NONE || ti_task_in_findings(s, i) ||
		    w->kind < TANGLE_DEBUG_WAIT_MUTEX || w->kind > TANGLE_DEBUG_WAIT_SEM ||
		    ti_age(s, w->since) < s->th.stuck_ns)
			continue;
		uint32_t *l = &longest[w->obj];
		if (*l == TI_NONE || w->since < s->tasks[*l].wait.since)
			*l = i;
	}
	for (uint32_t i = 0; i < s->ntasks; i++) { /* findings in task order */
		const ti_task *t = &s->tasks[i];
		uint32_t oi = t->wait.obj;
		if (!ti_waiting(t) || oi == TI_NONE || longest[oi] != i)
			continue;
		ti_step *chain;
		int cyc;
		uint32_t n = ti_chain(s, &s->FA, i, &chain, &cyc);
		if (!n || explained(s, chain, n, base))
			continue;
		ti_finding *f = ti_finding_new(s, TI_F_STUCK);
		if (!f)
			break;
		f->chain = chain;
		f->nchain = n;
		f->duration = ti_age(s, t->wait.since);
		const ti_object *o = &s->objs[oi];
		ti_finding_objs(s, f, &oi, 1);
		for (uint32_t k = 0; k < n; k++)
			ti_finding_tasks(s, f, &chain[k].task, 1);
		for (uint32_t k = 0; k < o->nq1; k++) {
			const ti_wait *w = o->q1[k];
			if (w->state == TANGLE_DEBUG_WAITER_WAITING && w->task != TI_NONE &&
			    ti_age(s, w->since) >= s->th.stuck_ns) {
				ti_finding_tasks(s, f, &w->task, 1);
				if (w->task != i)
					f->behind++;
			}
		}
		uint32_t end = chain[n - 1].task;
		const ti_task *e = &s->tasks[end];
		char dur[32];
		ti_fmt_dur(dur, sizeof(dur), f->duration);
		f->title = ti_printf(&s->FA, "task %lu \"%s\" has waited %s for %s \"%s\"%s",
		                     (unsigned long)t->id, t->name, dur,
		                     ti_obj_kind_name(o->kind), o->name,
		                     f->behind ? " with others" : "");
		f->explanation = ti_printf(&s->FA, "the wait chain ends at task %lu \"%s\" "
		                           "(%s), which does not release what the "
		                           "others wait for", (unsigned long)e->id,
		                           e->name, ti_task_state_name(e->state));
		f->fix = ti_printf(&s->FA, "look at what task %lu \"%s\" is doing while "
		                   "it holds \"%s\"; hold locks for short sections only",
		                   (unsigned long)e->id, e->name, o->name);
		const char *keys[5] = {ti_obj_kind_name(o->kind), o->name,
		                       t->wait.site ? t->wait.site->function : "",
		                       ti_task_fn(s, end),
		                       ti_wait_kind_name(e->wait.kind)};
		ti_finding_sign_keys(f, keys, 5);
		if (!f->title || !f->explanation || !f->fix)
			f->title = f->explanation = f->fix = "";
	}
	free(longest);
}
