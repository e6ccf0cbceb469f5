/*
 * find_orphaned.c — orphaned-lock: a mutex or rwlock still owned (OWNER_ID,
 * or a HOLD in a task record) by a task that finished, was cancelled, or no
 * longer exists. Semaphore permits are counts that any task may release,
 * so they are not reported here.
 */
#include <stdlib.h>

#include "ti.h"

static bool ended(const ti_task *t)
{
	return t->state == TANGLE_DEBUG_TASK_DONE ||
	       t->state == TANGLE_DEBUG_TASK_CANCELLED;
}

static void report(tangle_session *s, uint32_t oi, uint32_t owner, uint64_t owner_id)
{
	const ti_object *o = &s->objs[oi];
	ti_finding *f = ti_finding_new(s, TI_F_ORPHANED_LOCK);
	if (!f)
		return;
	ti_finding_objs(s, f, &oi, 1);
	const ti_hold *hd = NULL;
	if (owner != TI_NONE) {
		ti_finding_tasks(s, f, &owner, 1);
		hd = ti_hold_of(s, owner, oi);
		const ti_task *t = &s->tasks[owner];
		f->duration = ti_age(s, t->finished_at);
	}
	uint32_t first = ti_finding_queue(s, f, oi);
	int cyc;
	if (first != TI_NONE)
		f->nchain = ti_chain(s, &s->FA, first, &f->chain, &cyc);
	else if (owner != TI_NONE)
		f->nchain = ti_chain(s, &s->FA, owner, &f->chain, &cyc);
	const char *state = owner == TI_NONE ? "which no longer exists" :
	                    s->tasks[owner].state == TANGLE_DEBUG_TASK_CANCELLED ?
	                    "which was cancelled" : "which has finished";
	f->title = ti_printf(&s->FA, "%s \"%s\" is owned by task %lu%s%s%s, %s; "
	                     "%u task%s wait%s for it",
	                     ti_obj_kind_name(o->kind), o->name, (unsigned long)owner_id,
	                     owner != TI_NONE ? " \"" : "",
	                     owner != TI_NONE ? s->tasks[owner].name : "",
	                     owner != TI_NONE ? "\"" : "", state, f->behind,
	                     f->behind == 1 ? "" : "s", f->behind == 1 ? "s" : "");
	f->explanation = "the task that owns the lock ended (returned, was "
	                 "cancelled or crashed) without releasing it, so every "
	                 "later attempt to take it waits forever";
	f->fix = ti_printf(&s->FA, "release \"%s\" on every path out of the task, "
	                   "error paths and cancellation included", o->name);
	const char *keys[3] = {ti_obj_kind_name(o->kind), o->name,
	                       hd && hd->site ? hd->site->function : ""};
	ti_finding_sign_keys(f, keys, 3);
	if (!f->title || !f->fix)
		f->title = f->fix = "";
}

void ti_find_orphaned(tangle_session *s)
{
	uint8_t *done = calloc(s->nobjs ? s->nobjs : 1, 1);
	if (!done)
		return;
	for (uint32_t oi = 0; oi < s->nobjs; oi++) {
		const ti_object *o = &s->objs[oi];
		if ((o->kind != TANGLE_DEBUG_OBJ_MUTEX && o->kind != TANGLE_DEBUG_OBJ_RWLOCK) ||
		    !o->owner_id)
			continue;
		if (o->owner != TI_NONE && !ended(&s->tasks[o->owner]))
			continue;
		done[oi] = 1;
		report(s, oi, o->owner, o->owner_id);
	}
	for (uint32_t i = 0; i < s->ntasks; i++) { /* read holds of ended tasks */
		const ti_task *t = &s->tasks[i];
		if (!ended(t))
			continue;
		for (uint32_t h = 0; h < t->nholds; h++) {
			uint32_t oi = t->holds[h].obj;
			if (oi == TI_NONE || done[oi])
				continue;
			int kind = s->objs[oi].kind;
			if (kind != TANGLE_DEBUG_OBJ_MUTEX && kind != TANGLE_DEBUG_OBJ_RWLOCK)
				continue;
			done[oi] = 1;
			report(s, oi, i, t->id);
		}
	}
	free(done);
}
