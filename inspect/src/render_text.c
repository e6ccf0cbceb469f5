/*
 * render_text.c — findings and wait chains as text. Every line starts with
 * two spaces of indentation per level; durations are ages relative to the
 * session's "now". Output is bounded: at most TI_TEXT_BLOCKERS holders per
 * step, and the chains are at most TI_MAX_CHAIN steps.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ti.h"

#define TI_TEXT_BLOCKERS 8

static const ti_worker *worker_of(const tangle_session *s, const ti_task *t)
{
	int32_t worker = ti_task_worker(s, t);
	if (t->rt >= s->nrts || worker < 0)
		return NULL;
	const ti_runtime *rt = &s->rts[t->rt];
	for (uint32_t k = 0; k < rt->nworkers; k++)
		if (s->workers[rt->first_worker + k].index == (uint32_t)worker)
			return &s->workers[rt->first_worker + k];
	return NULL;
}

static const ti_worker *running_on(const tangle_session *s, uint32_t task)
{
	for (uint32_t k = 0; k < s->nworkers; k++)
		if (s->workers[k].task == task &&
		    s->workers[k].state == TANGLE_DEBUG_WORKER_RUNNING)
			return &s->workers[k];
	return NULL;
}

/* " (full, 4/4)" or " (empty)" for a channel op that waits for room or a
 * value, "" otherwise. */
static void chan_fill(const tangle_session *s, uint32_t obj, int op, char *buf,
                      size_t len)
{
	*buf = 0;
	if (obj == TI_NONE)
		return;
	const ti_object *ob = &s->objs[obj];
	if (op == TANGLE_DEBUG_OP_SEND && ob->capacity > 0)
		snprintf(buf, len, " (full, %" PRId64 "/%" PRId64 ")", ob->value,
		         ob->capacity);
	else if (op == TANGLE_DEBUG_OP_RECV && ob->value <= 0)
		snprintf(buf, len, " (empty)");
}

/* A select's op on channel obj, known by its edges (0: unknown). */
static int arm_op(const tangle_session *s, uint32_t ti, uint32_t obj)
{
	const ti_edge *e = ti_edges(s, ti);
	for (uint32_t k = 0; obj != TI_NONE && k < ti_nedges(s, ti); k++)
		if (e[k].arm && e[k].obj == obj)
			return e[k].kind == TI_E_RECEIVER ? TANGLE_DEBUG_OP_SEND
			                                  : TANGLE_DEBUG_OP_RECV;
	return 0;
}

/* What the task is doing, as a verb phrase: "waits 4.1s for mutex "x"". */
static void doing(const tangle_session *s, uint32_t ti, uint32_t obj, char *buf,
                  size_t len)
{
	const ti_task *t = &s->tasks[ti];
	const ti_wait *w = &t->wait;
	char d[32], o[128], site[160] = "";
	if (obj == TI_NONE)
		obj = w->obj;
	ti_fmt_obj(o, sizeof(o), s, obj);
	if (t->state == TANGLE_DEBUG_TASK_RUNNING) {
		const ti_worker *wk = running_on(s, ti);
		if (!wk)
			wk = worker_of(s, t);
		ti_fmt_dur(d, sizeof(d), ti_age(s, wk ? wk->running_since : t->last_ran_at));
		if (wk)
			snprintf(buf, len, "is running on worker %u (tid %u) for %s",
			         wk->index, wk->tid, d);
		else
			snprintf(buf, len, "is running for %s", d);
		return;
	}
	if (t->state == TANGLE_DEBUG_TASK_RUNNABLE) {
		uint64_t since = t->woken_at ? t->woken_at : t->spawned_at;
		ti_fmt_dur(d, sizeof(d), ti_age(s, since));
		const ti_worker *wk = worker_of(s, t);
		char wq[48] = "";
		if (wk)
			snprintf(wq, sizeof(wq), ", queued on worker %u", wk->index);
		if (w->state == TANGLE_DEBUG_WAITER_GRANTED && w->obj != TI_NONE) {
			char g[32];
			ti_fmt_dur(g, sizeof(g), ti_age(s, w->granted_at));
			snprintf(buf, len, "was handed %s %s ago and is runnable%s", o, g, wq);
		} else {
			snprintf(buf, len, "is runnable for %s%s", d, wq);
		}
		return;
	}
	if (t->state == TANGLE_DEBUG_TASK_DONE || t->state == TANGLE_DEBUG_TASK_CANCELLED) {
		ti_fmt_dur(d, sizeof(d), ti_age(s, t->finished_at));
		snprintf(buf, len, "%s %s ago",
		         t->state == TANGLE_DEBUG_TASK_DONE ? "finished" : "was cancelled", d);
		return;
	}
	ti_fmt_site(site + 2, sizeof(site) - 4, w->site);
	if (site[2]) {
		site[0] = ' ';
		site[1] = '(';
		strcat(site, ")");
	}
	ti_fmt_dur(d, sizeof(d), ti_age(s, w->since));
	const char *st = w->state == TANGLE_DEBUG_WAITER_WAITING ? "" :
	                 ti_waiter_state_name(w->state);
	char what[400];
	switch (w->kind) {
	case TANGLE_DEBUG_WAIT_MUTEX:
		snprintf(what, sizeof(what), "waits %s for %s", d, o);
		break;
	case TANGLE_DEBUG_WAIT_RWLOCK:
		snprintf(what, sizeof(what), "waits %s to %s %s", d,
		         w->op == TANGLE_DEBUG_OP_READ ? "read-lock" : "write-lock", o);
		break;
	case TANGLE_DEBUG_WAIT_SEM:
		snprintf(what, sizeof(what), "waits %s for %u permit%s of %s", d, w->count,
		         w->count == 1 ? "" : "s", o);
		break;
	case TANGLE_DEBUG_WAIT_CHAN: {
		char fill[64];
		chan_fill(s, obj, w->op, fill, sizeof(fill));
		snprintf(what, sizeof(what), "waits %s to %s %s%s", d,
		         w->op == TANGLE_DEBUG_OP_SEND ? "send on" : "receive from", o, fill);
		break;
	}
	case TANGLE_DEBUG_WAIT_NOTIFY:
		snprintf(what, sizeof(what), "waits %s for %s", d, o);
		break;
	case TANGLE_DEBUG_WAIT_JOIN:
		if (w->target != TI_NONE)
			snprintf(what, sizeof(what), "waits %s to join task %" PRIu64 " \"%s\"",
			         d, s->tasks[w->target].id, s->tasks[w->target].name);
		else
			snprintf(what, sizeof(what), "waits %s to join a task", d);
		break;
	case TANGLE_DEBUG_WAIT_SLEEP:
		snprintf(what, sizeof(what), "sleeps (%s so far)", d);
		break;
	case TANGLE_DEBUG_WAIT_IO:
		snprintf(what, sizeof(what), "waits %s for I/O on fd %u", d, w->count);
		break;
	case TANGLE_DEBUG_WAIT_BLOCKING:
		snprintf(what, sizeof(what), "waits %s for a blocking call", d);
		break;
	case TANGLE_DEBUG_WAIT_PARK:
		snprintf(what, sizeof(what), "is parked %s on \"%s\"", d, w->what ? w->what : "");
		break;
	case TANGLE_DEBUG_WAIT_SELECT: {
		int op = arm_op(s, ti, obj);
		char fill[64];
		chan_fill(s, obj, op, fill, sizeof(fill));
		if (op)
			snprintf(what, sizeof(what), "waits %s in select to %s %s%s (one of "
			         "%u ops)", d, op == TANGLE_DEBUG_OP_SEND ? "send on" :
			         "receive from", o, fill, w->count);
		else
			snprintf(what, sizeof(what), "waits %s in select", d);
		break;
	}
	case TANGLE_DEBUG_WAIT_YIELD:
		snprintf(what, sizeof(what), "yielded %s ago", d);
		break;
	default:
		snprintf(what, sizeof(what), "is suspended for %s", d);
	}
	snprintf(buf, len, "%s%s%s%s", what, *st ? " [" : "", st, *st ? "]" : "");
	size_t n = strlen(buf);
	snprintf(buf + n, len - n, "%s", site);
}

static int edge_kind(const tangle_session *s, const ti_step *st, uint32_t to)
{
	const ti_edge *e = ti_edges(s, st->task);
	for (uint32_t k = 0; k < ti_nedges(s, st->task); k++)
		if (e[k].to == to)
			return e[k].kind;
	return st->edge;
}

static void blocker(tangle_session *s, FILE *out, const ti_step *st, uint32_t to)
{
	const ti_task *b = &s->tasks[to];
	char d[32], site[160];
	int kind = edge_kind(s, st, to);
	const ti_object *o = st->obj != TI_NONE ? &s->objs[st->obj] : NULL;
	switch (kind) {
	case TI_E_OWNER: {
		const ti_hold *h = o ? ti_hold_of(s, to, st->obj) : NULL;
		uint64_t since = h ? h->since : (o && o->owner == to ? o->owner_since : 0);
		const char *how = "held";
		char permits[32] = "";
		if (h && h->mode == TANGLE_DEBUG_HOLD_SHARED)
			how = "read-held";
		else if (o && o->kind == TANGLE_DEBUG_OBJ_RWLOCK)
			how = "write-held";
		else if (o && o->kind == TANGLE_DEBUG_OBJ_SEM) {
			uint32_t n = h && h->count ? h->count : 1;
			snprintf(permits, sizeof(permits), "%u permit%s ", n, n == 1 ? "" : "s");
		}
		fprintf(out, "    %s%s by task %" PRIu64 " \"%s\"", permits, how, b->id, b->name);
		if (since) {
			ti_fmt_dur(d, sizeof(d), ti_age(s, since));
			fprintf(out, " since %s", d);
		}
		ti_fmt_site(site, sizeof(site), h ? h->site : NULL);
		if (*site)
			fprintf(out, " (acquired %s)", site);
		fputc('\n', out);
		break;
	}
	case TI_E_GRANTED: {
		uint64_t at = b->wait.obj == st->obj && b->wait.granted_at ? b->wait.granted_at :
		              (o ? o->handed_at : 0);
		ti_fmt_dur(d, sizeof(d), ti_age(s, at));
		fprintf(out, "    handed to task %" PRIu64 " \"%s\" %s ago, not claimed: "
		        "it has not run since\n", b->id, b->name, d);
		break;
	}
	case TI_E_AHEAD:
		fprintf(out, "    queued behind task %" PRIu64 " \"%s\", which asks to %s it first\n",
		        b->id, b->name, ti_op_name(b->wait.op));
		break;
	case TI_E_RECEIVER:
		fprintf(out, "    its receiver is task %" PRIu64 " \"%s\"\n", b->id, b->name);
		break;
	case TI_E_SENDER:
		fprintf(out, "    its sender is task %" PRIu64 " \"%s\"\n", b->id, b->name);
		break;
	case TI_E_JOINED:
		fprintf(out, "    task %" PRIu64 " \"%s\" has not finished\n", b->id, b->name);
		break;
	case TI_E_WORKER: {
		const ti_worker *wk = running_on(s, to);
		ti_fmt_dur(d, sizeof(d), ti_age(s, wk ? wk->running_since : b->last_ran_at));
		fprintf(out, "    worker %u (tid %u) is busy running task %" PRIu64 " \"%s\" "
		        "for %s\n", wk ? wk->index : 0, wk ? wk->tid : 0, b->id, b->name, d);
		break;
	}
	default:
		fprintf(out, "    blocked by task %" PRIu64 " \"%s\"\n", b->id, b->name);
	}
}

/* A select step shows one arm; the others, one line each, follow it. */
static void other_arms(const tangle_session *s, FILE *out, const ti_step *st)
{
	const ti_edge *e = ti_edges(s, st->task);
	uint32_t ne = ti_nedges(s, st->task), last = 0, shown = 0;
	for (uint32_t k = 0; k < ne && shown < TI_TEXT_BLOCKERS; k++) {
		if (!e[k].arm || e[k].arm == last || e[k].obj == st->obj)
			continue;
		last = e[k].arm;
		shown++;
		const ti_task *b = &s->tasks[e[k].to];
		char o[128], fill[64];
		int send = e[k].kind == TI_E_RECEIVER;
		ti_fmt_obj(o, sizeof(o), s, e[k].obj);
		chan_fill(s, e[k].obj, send ? TANGLE_DEBUG_OP_SEND : TANGLE_DEBUG_OP_RECV,
		          fill, sizeof(fill));
		fprintf(out, "    or to %s %s%s, whose %s is task %" PRIu64 " \"%s\"\n",
		        send ? "send on" : "receive from", o, fill,
		        send ? "receiver" : "sender", b->id, b->name);
	}
}

void ti_text_step(tangle_session *s, FILE *out, const ti_step *st, int first)
{
	(void)first;
	const ti_task *t = &s->tasks[st->task];
	char what[640];
	doing(s, st->task, st->obj, what, sizeof(what));
	fprintf(out, "  task %" PRIu64 " \"%s\" %s\n", t->id, t->name, what);
	uint32_t shown = st->nto < TI_TEXT_BLOCKERS ? st->nto : TI_TEXT_BLOCKERS;
	for (uint32_t k = 0; k < shown; k++)
		blocker(s, out, st, st->to[k]);
	if (st->nto > shown)
		fprintf(out, "    and %u more\n", st->nto - shown);
	other_arms(s, out, st);
	if (!st->nto && st->obj != TI_NONE && ti_waiting(t)) {
		const ti_object *o = &s->objs[st->obj];
		if (o->owner_id && o->owner == TI_NONE)
			fprintf(out, "    owned by task %" PRIu64 ", which no longer exists\n",
			        o->owner_id);
		else if (o->owner != TI_NONE && o->owner != st->task &&
		         (s->tasks[o->owner].state == TANGLE_DEBUG_TASK_DONE ||
		          s->tasks[o->owner].state == TANGLE_DEBUG_TASK_CANCELLED))
			fprintf(out, "    owned by task %" PRIu64 " \"%s\", which %s\n",
			        s->tasks[o->owner].id, s->tasks[o->owner].name,
			        ti_task_state_name(s->tasks[o->owner].state));
	}
}

void ti_text_finding(tangle_session *s, FILE *out, const ti_finding *f)
{
	char kind[64];
	size_t i;
	const char *k = ti_kind_name(f->kind);
	for (i = 0; k[i] && i + 1 < sizeof(kind); i++)
		kind[i] = (char)toupper((unsigned char)k[i]);
	kind[i] = 0;
	fprintf(out, "%s  %s  [sig %s]\n", kind, f->title, f->sig);
	for (uint32_t n = 0; n < f->nchain; n++)
		ti_text_step(s, out, &f->chain[n], n == 0);
	if (f->kind == TI_F_DEADLOCK && f->nchain < f->ntasks + f->more_tasks &&
	    !f->cycle)
		fprintf(out, "  and %u more tasks\n", f->ntasks + f->more_tasks - f->nchain);
	if (f->behind && f->kind == TI_F_DEADLOCK)
		fprintf(out, "  %u more task%s wait%s behind them\n", f->behind,
		        f->behind == 1 ? "" : "s", f->behind == 1 ? "s" : "");
	fprintf(out, "  why: %s\n", f->explanation);
	fprintf(out, "  fix: %s\n", f->fix);
}

void ti_text_summary(tangle_session *s, FILE *out)
{
	uint32_t by[6] = {0};
	for (uint32_t i = 0; i < s->ntasks; i++)
		if (s->tasks[i].state < 6)
			by[s->tasks[i].state]++;
	fprintf(out, "%u finding%s; %u task%s (%u running, %u runnable, %u waiting, "
	        "%u done), %u worker%s, %u object%s",
	        s->nfindings, s->nfindings == 1 ? "" : "s", s->ntasks,
	        s->ntasks == 1 ? "" : "s", by[TANGLE_DEBUG_TASK_RUNNING],
	        by[TANGLE_DEBUG_TASK_RUNNABLE], by[TANGLE_DEBUG_TASK_WAITING],
	        by[TANGLE_DEBUG_TASK_DONE] + by[TANGLE_DEBUG_TASK_CANCELLED],
	        s->nworkers, s->nworkers == 1 ? "" : "s", s->nobjs,
	        s->nobjs == 1 ? "" : "s");
	if (s->target)
		fprintf(out, " in %s", s->target);
	fputc('\n', out);
	if (s->opt.torn)
		fprintf(out, "note: read without stopping the target; the view may be torn\n");
	for (uint32_t i = 0; i < s->nproblems; i++)
		fprintf(out, "unreadable: %s\n", s->problems[i].what);
	if (s->problems_dropped)
		fprintf(out, "unreadable: %u more problems not listed\n", s->problems_dropped);
}

void ti_text_triage(tangle_session *s, FILE *out, const ti_render_opts *o)
{
	for (uint32_t i = 0; i < s->nfindings; i++) {
		ti_text_finding(s, out, &s->findings[i]);
		fputc('\n', out);
	}
	/* async backtraces of the involved tasks, each once, at most 32 */
	uint32_t shown = 0, left = 0;
	uint8_t *seen = calloc(s->ntasks ? s->ntasks : 1, 1);
	if (!seen)
		return;
	for (uint32_t i = 0; i < s->nfindings; i++) {
		const ti_finding *f = &s->findings[i];
		for (uint32_t k = 0; k < f->ntasks; k++) {
			uint32_t t = f->tasks[k];
			if (seen[t])
				continue;
			seen[t] = 1;
			if (shown >= 32 || (k >= 8 && f->kind != TI_F_DEADLOCK)) {
				left++;
				continue;
			}
			ti_text_bt(s, out, t, o);
			fputc('\n', out);
			shown++;
		}
	}
	free(seen);
	for (uint32_t i = 0; i < s->nfindings; i++) { /* blocked workers, task unknown */
		const ti_finding *f = &s->findings[i];
		if (f->kind == TI_F_BLOCKED_EXECUTOR && f->worker != TI_NONE &&
		    s->workers[f->worker].task == TI_NONE) {
			ti_text_worker(s, out, f->worker, o);
			fputc('\n', out);
		}
	}
	if (left)
		fprintf(out, "(%u more involved tasks: tangle bt ID shows them)\n\n", left);
	ti_text_summary(s, out);
}
