/*
 * find_quiescence.c — the global check behind channel deadlocks whose other
 * side is unknown (nobody ever received from the full channel, or sent to
 * the empty one). The program is stuck for good when no task is runnable
 * or running, no worker runs anything, the blocking pool is idle, and every
 * waiting task waits, without a deadline, on channels (or on locks and
 * joins among those same tasks): nothing is left that could wake anyone.
 * The shape is `channel`, or `mixed` when a lock or semaphore takes part.
 * A sleep, an I/O wait, a notify, a park or any deadline keeps it alive.
 * Tasks that only join others are stuck behind the deadlock, not in it:
 * they are counted (`behind`), not named.
 */
#include <string.h>

#include "ti.h"

void ti_find_quiescence(tangle_session *s)
{
	uint32_t nchan = 0, nwait = 0, njoin = 0;
	bool locks = false;
	for (uint32_t i = 0; i < s->ntasks; i++) {
		const ti_task *t = &s->tasks[i];
		if (t->state == TANGLE_DEBUG_TASK_RUNNABLE ||
		    t->state == TANGLE_DEBUG_TASK_RUNNING)
			return;
		if (t->state != TANGLE_DEBUG_TASK_WAITING)
			continue;
		const ti_wait *w = &t->wait;
		if (w->state != TANGLE_DEBUG_WAITER_WAITING || w->deadline ||
		    ti_task_in_findings(s, i))
			return;
		switch (w->kind) {
		case TANGLE_DEBUG_WAIT_CHAN:
		case TANGLE_DEBUG_WAIT_SELECT:
			nchan++;
			break;
		case TANGLE_DEBUG_WAIT_MUTEX:
		case TANGLE_DEBUG_WAIT_RWLOCK:
		case TANGLE_DEBUG_WAIT_SEM:
			locks = true;
			break;
		case TANGLE_DEBUG_WAIT_JOIN: /* behind the deadlock, not in it */
			njoin++;
			continue;
		default:
			return;
		}
		nwait++;
	}
	if (!nchan)
		return;
	for (uint32_t i = 0; i < s->nrts; i++)
		if (s->rts[i].blocking_busy || s->rts[i].blocking_queued)
			return;
	for (uint32_t i = 0; i < s->nworkers; i++)
		if (s->workers[i].state == TANGLE_DEBUG_WORKER_RUNNING)
			return;

	ti_finding *f = ti_finding_new(s, TI_F_DEADLOCK);
	if (!f)
		return;
	f->shape = locks ? TI_S_MIXED : TI_S_CHANNEL;
	f->behind = njoin;
	uint32_t nsteps = nwait < TI_MAX_CHAIN ? nwait : TI_MAX_CHAIN;
	ti_step *st = ti_step_alloc(s, f, nsteps);
	const char **keys = ti_alloc(&s->FA, nwait * sizeof(*keys));
	uint32_t *tasks = ti_alloc(&s->FA, nwait * sizeof(*tasks));
	if (!st || !keys || !tasks)
		return;
	uint32_t k = 0;
	for (uint32_t i = 0; i < s->ntasks; i++) {
		const ti_task *t = &s->tasks[i];
		if (t->state != TANGLE_DEBUG_TASK_WAITING ||
		    t->wait.kind == TANGLE_DEBUG_WAIT_JOIN)
			continue;
		if (k < nsteps) {
			st[k].task = i;
			st[k].obj = t->wait.obj;
		}
		uint64_t age = ti_age(s, t->wait.since);
		if (!f->duration || (age && age < f->duration))
			f->duration = age;
		tasks[k] = i;
		keys[k++] = ti_wait_key(s, i, t->wait.obj);
	}
	ti_finding_tasks(s, f, tasks, k);
	for (uint32_t i = 0; i < k; i++) {
		uint32_t o = s->tasks[tasks[i]].wait.obj;
		if (o != TI_NONE && f->nobjs < 64)
			ti_finding_objs(s, f, &o, 1);
	}
	/* the set of distinct waits, in order: the same program, the same sig */
	ti_sort_keys(keys, k);
	uint32_t u = 0;
	for (uint32_t i = 0; i < k; i++)
		if (!u || strcmp(keys[u - 1], keys[i]))
			keys[u++] = keys[i];
	ti_finding_sign_keys(f, keys, u);
	f->title = ti_printf(&s->FA, "all %u waiting tasks wait on channels among "
	                     "themselves; nothing can wake them", k);
	if (!f->title)
		f->title = "";
	f->explanation = "no task is running or runnable, none sleeps or waits for "
	                 "I/O, a timer or the blocking pool, and every waiting task "
	                 "waits on a channel that only the others could serve";
	f->fix = "find the send (or receive) that never comes: a stage that "
	         "returned early, a channel nobody closes, or a loop that sends "
	         "before it receives";
}
