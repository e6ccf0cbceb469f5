/*
 * find_lost_waker.c — lost-waker: a task waits (its waiter WAITING) with no
 * live waker: no user waker, queued waiter, timer, I/O registration or
 * pool job can ever wake it. Defensive against a miscounted LIVE_WAKERS: a
 * waiter found in an object's queue, or a wait with a deadline, can be
 * woken, so it is never reported. Tasks parked the same way (same site,
 * kind and description) make one finding.
 */
#include <string.h>

#include "ti.h"

void ti_find_lost_waker(tangle_session *s)
{
	uint32_t base = s->nfindings;
	for (uint32_t i = 0; i < s->ntasks; i++) {
		const ti_task *t = &s->tasks[i];
		const ti_wait *w = &t->wait;
		if (!ti_waiting(t) || !t->has_live_wakers || t->live_wakers ||
		    w->queued || w->deadline || w->kind == TANGLE_DEBUG_WAIT_NONE)
			continue;
		const char *fn = w->site ? w->site->function : "";
		const char *what = w->what ? w->what : "";
		ti_finding *f = NULL;
		for (uint32_t k = base; k < s->nfindings && !f; k++) {
			const ti_task *o = &s->tasks[s->findings[k].tasks[0]];
			if (o->wait.kind == w->kind &&
			    !strcmp(o->wait.site ? o->wait.site->function : "", fn) &&
			    !strcmp(o->wait.what ? o->wait.what : "", what))
				f = &s->findings[k];
		}
		if (f) {
			ti_finding_tasks(s, f, &i, 1);
			f->behind++;
			continue;
		}
		f = ti_finding_new(s, TI_F_LOST_WAKER);
		if (!f)
			return;
		ti_finding_tasks(s, f, &i, 1);
		if (!f->ntasks) {
			s->nfindings--;
			return;
		}
		f->duration = ti_age(s, w->since);
		if (w->obj != TI_NONE)
			ti_finding_objs(s, f, &w->obj, 1);
		int cyc;
		f->nchain = ti_chain(s, &s->FA, i, &f->chain, &cyc);
		char wait[160];
		ti_fmt_wait(wait, sizeof(wait), s, t);
		f->title = ti_printf(&s->FA, "task %lu \"%s\" waits (%s) and nothing "
		                     "can wake it", (unsigned long)t->id, t->name, wait);
		f->explanation = "the task is suspended with no live waker: the waker "
		                 "it published was dropped (or never published) before "
		                 "anyone woke it";
		f->fix = "keep the waker until the event happens and wake before "
		         "dropping it; publish tangle_waker_current() before testing "
		         "the condition, then park in a loop";
		const char *keys[3] = {fn, ti_wait_kind_name(w->kind), what};
		ti_finding_sign_keys(f, keys, 3);
		if (!f->title)
			f->title = "";
	}
	for (uint32_t k = base; k < s->nfindings; k++) {
		ti_finding *f = &s->findings[k];
		if (f->behind) /* more tasks parked the same way */
			f->title = ti_printf(&s->FA, "%u tasks wait at %s and nothing can "
			                     "wake them", f->behind + 1,
			                     s->tasks[f->tasks[0]].wait.site ?
			                     s->tasks[f->tasks[0]].wait.site->function : "?");
		if (!f->title)
			f->title = "";
		f->behind = 0;
	}
}
