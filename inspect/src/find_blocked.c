/*
 * find_blocked.c — blocked-executor: a worker has run the same task without
 * a switch for longer than the threshold (a blocking call or a long loop on
 * a worker thread). What queues behind it: the runnable tasks that last ran
 * on that worker (and the worker's own queue length), and the tasks that
 * wait on what the running task holds.
 */
#include "ti.h"

void ti_find_blocked(tangle_session *s)
{
	for (uint32_t wi = 0; wi < s->nworkers; wi++) {
		const ti_worker *wk = &s->workers[wi];
		if (wk->state != TANGLE_DEBUG_WORKER_RUNNING)
			continue;
		uint64_t age = ti_age(s, wk->running_since);
		if (age < s->th.blocked_ns || !wk->running_since)
			continue;
		ti_finding *f = ti_finding_new(s, TI_F_BLOCKED_EXECUTOR);
		if (!f)
			return;
		f->worker = wi;
		f->duration = age;
		uint32_t cur = wk->task, first = TI_NONE, behind = 0;
		if (cur != TI_NONE)
			ti_finding_tasks(s, f, &cur, 1);
		for (uint32_t i = 0; i < s->ntasks; i++) {
			const ti_task *t = &s->tasks[i];
			int32_t on = ti_task_worker(s, t);
			if (t->state != TANGLE_DEBUG_TASK_RUNNABLE || t->rt != wk->rt ||
			    on < 0 || (uint32_t)on != wk->index)
				continue;
			if (first == TI_NONE)
				first = i;
			behind++;
			ti_finding_tasks(s, f, &i, 1);
		}
		/* and the tasks waiting on what it holds (locks, permits, a join) */
		for (uint32_t i = 0; cur != TI_NONE && i < s->ntasks; i++) {
			const ti_edge *e = ti_edges(s, i);
			for (uint32_t k = 0; k < ti_nedges(s, i); k++)
				if (e[k].to == cur && e[k].kind != TI_E_WORKER) {
					behind++;
					ti_finding_tasks(s, f, &i, 1);
					break;
				}
		}
		f->behind = behind > wk->queue_len ? behind : wk->queue_len;
		int cyc;
		if (first != TI_NONE)
			f->nchain = ti_chain(s, &s->FA, first, &f->chain, &cyc);
		else if (cur != TI_NONE)
			f->nchain = ti_chain(s, &s->FA, cur, &f->chain, &cyc);
		char dur[32];
		ti_fmt_dur(dur, sizeof(dur), age);
		const ti_task *t = cur != TI_NONE ? &s->tasks[cur] : NULL;
		f->title = ti_printf(&s->FA, "worker %u (tid %u) has run task %lu \"%s\" "
		                     "for %s without a switch; %u task%s wait%s for it",
		                     wk->index, wk->tid,
		                     (unsigned long)(t ? t->id : wk->current_id),
		                     t ? t->name : "?", dur, f->behind,
		                     f->behind == 1 ? "" : "s", f->behind == 1 ? "s" : "");
		f->explanation = "the task is in a blocking call or a long computation "
		                 "on the worker thread itself, so no other task can run "
		                 "on that worker";
		f->fix = "run the blocking call through tangle_blocking(), use "
		         "tangle_io_wait() for I/O, or tangle_yield() inside long loops";
		const char *keys[3] = {
			t && t->spawn_site ? t->spawn_site->function : "",
			t ? ti_name_key(s, t->name) : "",
			t && t->nspans ? t->spans[t->nspans - 1].name : ""};
		ti_finding_sign_keys(f, keys, 3);
		if (!f->title)
			f->title = "";
	}
}
