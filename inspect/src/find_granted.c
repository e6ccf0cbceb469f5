/*
 * find_granted.c — granted-not-claimed: a lock or permits were handed to a
 * waiter whose task has not run since (its LAST_RAN_AT is older than the
 * grant), for longer than the threshold. The object looks free, yet every
 * other task queues behind the task that got it. Found from granted
 * waiters and from objects' HANDED_TO, once per (object, task).
 */
#include "ti.h"

static void report(tangle_session *s, uint32_t ti, uint32_t oi, uint64_t at)
{
	const ti_task *t = &s->tasks[ti];
	const ti_object *o = &s->objs[oi];
	for (uint32_t i = 0; i < s->nfindings; i++) /* once per (object, task) */
		if (s->findings[i].kind == TI_F_GRANTED_NOT_CLAIMED &&
		    s->findings[i].nobjs && s->findings[i].objs[0] == oi &&
		    s->findings[i].ntasks && s->findings[i].tasks[0] == ti)
			return;
	ti_finding *f = ti_finding_new(s, TI_F_GRANTED_NOT_CLAIMED);
	if (!f)
		return;
	f->duration = ti_age(s, at);
	ti_finding_tasks(s, f, &ti, 1);
	ti_finding_objs(s, f, &oi, 1);
	uint32_t first = ti_finding_queue(s, f, oi);
	int cyc;
	f->nchain = ti_chain(s, &s->FA, first != TI_NONE ? first : ti, &f->chain, &cyc);
	char dur[32];
	ti_fmt_dur(dur, sizeof(dur), f->duration);
	f->title = ti_printf(&s->FA, "%s \"%s\" was handed to task %lu \"%s\" %s ago; "
	                     "it has not run since, and %u task%s wait%s",
	                     ti_obj_kind_name(o->kind), o->name, (unsigned long)t->id,
	                     t->name, dur, f->behind, f->behind == 1 ? "" : "s",
	                     f->behind == 1 ? "s" : "");
	f->explanation = "the lock was handed to a waiting task that was woken but "
	                 "never ran again (its worker is busy, or a wrapper "
	                 "swallowed the wake-up), so the lock looks free while "
	                 "everybody waits";
	f->fix = "find why the task does not run: a blocked worker (see "
	         "blocked-executor) or a lost wake-up; never block a worker "
	         "thread right after releasing a lock";
	const char *keys[3] = {ti_obj_kind_name(o->kind), o->name,
	                       t->wait.site ? t->wait.site->function : ""};
	ti_finding_sign_keys(f, keys, 3);
	if (!f->title)
		f->title = "";
}

void ti_find_granted(tangle_session *s)
{
	for (uint32_t i = 0; i < s->ntasks; i++) {
		const ti_task *t = &s->tasks[i];
		const ti_wait *w = &t->wait;
		if (w->state != TANGLE_DEBUG_WAITER_GRANTED || w->obj == TI_NONE ||
		    w->kind < TANGLE_DEBUG_WAIT_MUTEX || w->kind > TANGLE_DEBUG_WAIT_SEM ||
		    !w->granted_at || t->last_ran_at >= w->granted_at ||
		    t->state == TANGLE_DEBUG_TASK_RUNNING ||
		    ti_age(s, w->granted_at) < s->th.granted_ns)
			continue;
		report(s, i, w->obj, w->granted_at);
	}
	for (uint32_t oi = 0; oi < s->nobjs; oi++) {
		const ti_object *o = &s->objs[oi];
		if (o->handed == TI_NONE || !o->handed_at ||
		    ti_age(s, o->handed_at) < s->th.granted_ns)
			continue;
		const ti_task *t = &s->tasks[o->handed];
		if (t->last_ran_at >= o->handed_at || t->state == TANGLE_DEBUG_TASK_RUNNING ||
		    ti_hold_of(s, o->handed, oi))
			continue;
		report(s, o->handed, oi, o->handed_at);
	}
}
