/*
 * render_json.c — the JSON report (docs/json.md). Keys are fixed and
 * always present (null when unknown), in a fixed order; addresses are hex
 * strings; times are ns of the target's CLOCK_MONOTONIC and durations ns
 * relative to the session's "now". Nothing comes from the unwinder, so
 * every frontend writes the same bytes for the same target and "now".
 * Top-level members and findings are pretty-printed; each task, object,
 * worker and chain step is one line, so big reports stay small and diff well.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ti.h"

#define TI_JSON_VERSION 1

void ti_json_string(FILE *out, const char *str)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)(str ? str : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void jsite(FILE *out, const ti_site *site)
{
	if (!site) {
		fputs("null", out);
		return;
	}
	fputs("{\"file\": ", out);
	ti_json_string(out, site->file);
	fprintf(out, ", \"line\": %u, \"function\": ", site->line);
	ti_json_string(out, site->function);
	fputc('}', out);
}

static void jtask_ref(tangle_session *s, FILE *out, uint32_t t)
{
	if (t == TI_NONE) {
		fputs("null", out);
		return;
	}
	fprintf(out, "{\"id\": %" PRIu64 ", \"name\": ", s->tasks[t].id);
	ti_json_string(out, s->tasks[t].name);
	fputc('}', out);
}

static void jobj_ref(tangle_session *s, FILE *out, uint32_t o)
{
	if (o == TI_NONE) {
		fputs("null", out);
		return;
	}
	fprintf(out, "{\"kind\": \"%s\", \"name\": ", ti_obj_kind_name(s->objs[o].kind));
	ti_json_string(out, s->objs[o].name);
	fprintf(out, ", \"address\": \"0x%" PRIx64 "\"}", s->objs[o].addr);
}

static void jwait(tangle_session *s, FILE *out, const ti_task *t)
{
	const ti_wait *w = &t->wait;
	if (w->kind == TANGLE_DEBUG_WAIT_NONE && w->state == TANGLE_DEBUG_WAITER_NONE) {
		fputs("null", out);
		return;
	}
	fprintf(out, "{\"kind\": \"%s\", \"op\": \"%s\", \"state\": \"%s\", "
	        "\"since_ns\": %" PRIu64 ", \"waiting_ns\": %" PRIu64 ", "
	        "\"deadline_ns\": %" PRIu64 ", \"granted_at_ns\": %" PRIu64 ", "
	        "\"count\": %u, \"object\": ",
	        ti_wait_kind_name(w->kind), ti_op_name(w->op),
	        ti_waiter_state_name(w->state), w->since, ti_age(s, w->since),
	        w->deadline, w->granted_at, w->count);
	jobj_ref(s, out, w->obj);
	fputs(", \"target\": ", out);
	jtask_ref(s, out, w->target);
	fputs(", \"what\": ", out);
	if (w->what)
		ti_json_string(out, w->what);
	else
		fputs("null", out);
	fputs(", \"site\": ", out);
	jsite(out, w->site);
	fputc('}', out);
}

void ti_json_task(tangle_session *s, FILE *out, uint32_t ti, int indent)
{
	ti_json_task_open(s, out, ti, indent);
	fputc('}', out);
}

void ti_json_task_open(tangle_session *s, FILE *out, uint32_t ti, int indent)
{
	const ti_task *t = &s->tasks[ti];
	fprintf(out, "%*s{\"id\": %" PRIu64 ", \"name\": ", indent, "", t->id);
	ti_json_string(out, t->name);
	fprintf(out, ", \"state\": \"%s\", \"address\": \"0x%" PRIx64 "\", "
	        "\"parent\": %" PRIu64 ", \"runtime\": %u, \"worker\": %d, \"flags\": %u, "
	        "\"spawned_at_ns\": %" PRIu64 ", \"last_ran_at_ns\": %" PRIu64 ", "
	        "\"run_ns\": %" PRIu64 ", \"resumes\": %" PRIu64 ", \"woken_at_ns\": %" PRIu64 ", "
	        "\"woken_by\": %" PRIu64 ", \"wakes\": %" PRIu64 ", \"live_wakers\": ",
	        ti_task_state_name(t->state), t->addr, t->parent_id, t->rt, t->worker,
	        t->flags, t->spawned_at, t->last_ran_at, t->run_ns, t->resumes,
	        t->woken_at, t->woken_by, t->wakes);
	if (t->has_live_wakers)
		fprintf(out, "%u", t->live_wakers);
	else
		fputs("null", out);
	fprintf(out, ", \"finished_at_ns\": %" PRIu64 ", \"spawn_site\": ", t->finished_at);
	jsite(out, t->spawn_site);
	fputs(", \"labels\": {", out);
	for (uint32_t i = 0; i < t->nlabels; i++) {
		fputs(i ? ", " : "", out);
		ti_json_string(out, t->labels[i].key);
		fputs(": ", out);
		ti_json_string(out, t->labels[i].value);
	}
	fputs("}, \"spans\": [", out);
	for (uint32_t i = 0; i < t->nspans; i++) {
		fputs(i ? ", {\"name\": " : "{\"name\": ", out);
		ti_json_string(out, t->spans[i].name);
		fprintf(out, ", \"entered_at_ns\": %" PRIu64 ", \"site\": ",
		        t->spans[i].entered_at);
		jsite(out, t->spans[i].site);
		fputc('}', out);
	}
	fputs("], \"wait\": ", out);
	jwait(s, out, t);
	fputs(", \"holds\": [", out);
	for (uint32_t i = 0; i < t->nholds; i++) {
		const ti_hold *h = &t->holds[i];
		fprintf(out, "%s{\"mode\": \"%s\", \"count\": %u, \"since_ns\": %" PRIu64
		        ", \"held_ns\": %" PRIu64 ", \"object\": ", i ? ", " : "",
		        ti_hold_mode_name(h->mode), h->count, h->since, ti_age(s, h->since));
		jobj_ref(s, out, h->obj);
		fputs(", \"site\": ", out);
		jsite(out, h->site);
		fputc('}', out);
	}
	fprintf(out, "], \"hold_overflow\": %u", t->hold_overflow);
}

void ti_json_object(tangle_session *s, FILE *out, uint32_t oi)
{
	const ti_object *o = &s->objs[oi];
	fprintf(out, "    {\"kind\": \"%s\", \"name\": ", ti_obj_kind_name(o->kind));
	ti_json_string(out, o->name);
	fprintf(out, ", \"address\": \"0x%" PRIx64 "\", \"registered\": %s, \"flags\": %u, "
	        "\"owner\": %" PRIu64 ", \"owner_since_ns\": %" PRIu64 ", "
	        "\"value\": %" PRId64 ", \"capacity\": %" PRId64 ", "
	        "\"handed_to\": %" PRIu64 ", \"handed_at_ns\": %" PRIu64 ", "
	        "\"acquisitions\": %" PRIu64 ", \"contentions\": %" PRIu64 ", "
	        "\"longest_hold_ns\": %" PRIu64 ", \"last_sender\": %" PRIu64 ", "
	        "\"last_receiver\": %" PRIu64 ", \"created\": ",
	        o->addr, o->in_registry ? "true" : "false", o->flags, o->owner_id,
	        o->owner_since, o->value, o->capacity, o->handed_to, o->handed_at,
	        o->acquisitions, o->contentions, o->longest_hold, o->last_sender,
	        o->last_receiver);
	jsite(out, o->created);
	fputs(", \"holders\": [", out);
	for (uint32_t i = 0; i < o->nholders; i++)
		fprintf(out, "%s%" PRIu64, i ? ", " : "", s->tasks[o->holders[i]].id);
	for (int q = 0; q < 2; q++) {
		ti_wait **w = q ? o->q2 : o->q1;
		uint32_t n = q ? o->nq2 : o->nq1;
		fputs(q ? "], \"receivers\": [" : "], \"waiters\": [", out);
		for (uint32_t i = 0; i < n; i++) {
			fputs(i ? ", " : "", out);
			if (w[i]->task != TI_NONE)
				fprintf(out, "{\"task\": %" PRIu64 ", \"op\": \"%s\", \"state\": \"%s\"}",
				        s->tasks[w[i]->task].id, ti_op_name(w[i]->op),
				        ti_waiter_state_name(w[i]->state));
			else
				fprintf(out, "{\"task\": null, \"op\": \"%s\", \"state\": \"%s\"}",
				        ti_op_name(w[i]->op), ti_waiter_state_name(w[i]->state));
		}
	}
	fprintf(out, "], \"truncated\": %s}", o->truncated ? "true" : "false");
}

void ti_json_chain(tangle_session *s, FILE *out, const ti_step *chain,
                   uint32_t n, int cycle, int indent)
{
	(void)cycle;
	fputs("[", out);
	for (uint32_t i = 0; i < n; i++) {
		const ti_step *st = &chain[i];
		const ti_task *t = &s->tasks[st->task];
		fprintf(out, "%s\n%*s{\"task\": ", i ? "," : "", indent + 2, "");
		jtask_ref(s, out, st->task);
		fprintf(out, ", \"state\": \"%s\", \"object\": ", ti_task_state_name(t->state));
		jobj_ref(s, out, st->obj);
		fputs(", \"wait\": ", out);
		jwait(s, out, t);
		fputs(", \"blocked_by\": [", out);
		for (uint32_t k = 0; k < st->nto; k++) {
			int kind = st->edge;
			const ti_edge *e = ti_edges(s, st->task);
			for (uint32_t m = 0; m < ti_nedges(s, st->task); m++)
				if (e[m].to == st->to[k]) {
					kind = e[m].kind;
					break;
				}
			fprintf(out, "%s{\"id\": %" PRIu64 ", \"name\": ", k ? ", " : "",
			        s->tasks[st->to[k]].id);
			ti_json_string(out, s->tasks[st->to[k]].name);
			fprintf(out, ", \"relation\": \"%s\"}", ti_edge_name(kind));
		}
		fputs("]}", out);
	}
	fprintf(out, "%s%*s]", n ? "\n" : "", n ? indent : 0, "");
}

static void jfinding(tangle_session *s, FILE *out, const ti_finding *f)
{
	fprintf(out, "    {\n      \"kind\": \"%s\",\n", ti_kind_name(f->kind));
	if (f->kind == TI_F_DEADLOCK)
		fprintf(out, "      \"shape\": \"%s\",\n", ti_shape_name(f->shape));
	fprintf(out, "      \"signature\": \"%s\",\n      \"title\": ", f->sig);
	ti_json_string(out, f->title);
	fputs(",\n      \"explanation\": ", out);
	ti_json_string(out, f->explanation);
	fputs(",\n      \"fix\": ", out);
	ti_json_string(out, f->fix);
	fprintf(out, ",\n      \"duration_ns\": %" PRIu64 ",\n      \"behind\": %u,\n"
	        "      \"worker\": ", f->duration, f->behind);
	if (f->worker != TI_NONE)
		fprintf(out, "{\"index\": %u, \"tid\": %u}", s->workers[f->worker].index,
		        s->workers[f->worker].tid);
	else
		fputs("null", out);
	fputs(",\n      \"tasks\": [", out);
	for (uint32_t i = 0; i < f->ntasks; i++) {
		fputs(i ? ", " : "", out);
		jtask_ref(s, out, f->tasks[i]);
	}
	fprintf(out, "],\n      \"more_tasks\": %u,\n      \"objects\": [", f->more_tasks);
	for (uint32_t i = 0; i < f->nobjs; i++) {
		fputs(i ? ", " : "", out);
		jobj_ref(s, out, f->objs[i]);
	}
	fprintf(out, "],\n      \"cycle\": %s,\n      \"chain\": ", f->cycle ? "true" : "false");
	ti_json_chain(s, out, f->chain, f->nchain, f->cycle, 6);
	fputs("\n    }", out);
}

static void jworker(tangle_session *s, FILE *out, uint32_t i)
{
	const ti_worker *w = &s->workers[i];
	fprintf(out, "    {\"runtime\": %u, \"index\": %u, \"tid\": %u, \"state\": \"%s\", "
	        "\"current\": ", w->rt, w->index, w->tid, ti_worker_state_name(w->state));
	if (w->task != TI_NONE)
		jtask_ref(s, out, w->task);
	else
		fputs("null", out);
	fprintf(out, ", \"running_since_ns\": %" PRIu64 ", \"running_ns\": %" PRIu64 ", "
	        "\"queue\": %u, \"switches\": %" PRIu64 ", \"idle_since_ns\": %" PRIu64 "}",
	        w->running_since,
	        w->state == TANGLE_DEBUG_WORKER_RUNNING ? ti_age(s, w->running_since) : 0,
	        w->queue_len, w->switches, w->idle_since);
}

void ti_json_head(tangle_session *s, FILE *out)
{
	fprintf(out, "{\n  \"format\": \"tangle-inspect\",\n  \"version\": %d,\n"
	        "  \"abi\": \"%u.%u\",\n  \"target\": ", TI_JSON_VERSION, s->major, s->minor);
	if (s->target) { /* base names: frontends name a core by other paths */
		char target[1024];
		ti_fmt_target(target, sizeof(target), s->target);
		ti_json_string(out, target);
	} else {
		fputs("null", out);
	}
	fprintf(out, ",\n  \"now_ns\": %" PRIu64 ",\n  \"now_source\": \"%s\",\n"
	        "  \"torn\": %s,\n", s->now, s->now_source, s->opt.torn ? "true" : "false");
}

void ti_json_tail(tangle_session *s, FILE *out)
{
	fputs("  \"problems\": [", out);
	for (uint32_t i = 0; i < s->nproblems; i++) {
		fprintf(out, "%s\n    {\"address\": \"0x%" PRIx64 "\", \"what\": ",
		        i ? "," : "", s->problems[i].addr);
		ti_json_string(out, s->problems[i].what);
		fputc('}', out);
	}
	fprintf(out, "%s],\n  \"problems_dropped\": %u\n}\n", s->nproblems ? "\n  " : "",
	        s->problems_dropped);
}

void ti_json_report(tangle_session *s, FILE *out, int what)
{
	ti_json_head(s, out);
	uint8_t *task_in = NULL, *obj_in = NULL;
	if (what == TI_JSON_TRIAGE || what == TI_JSON_DEADLOCKS) {
		task_in = calloc(s->ntasks ? s->ntasks : 1, 1);
		obj_in = calloc(s->nobjs ? s->nobjs : 1, 1);
		fputs("  \"findings\": [", out);
		uint32_t n = 0;
		for (uint32_t i = 0; i < s->nfindings; i++) {
			const ti_finding *f = &s->findings[i];
			if (what == TI_JSON_DEADLOCKS && f->kind != TI_F_DEADLOCK)
				continue;
			fputs(n++ ? ",\n" : "\n", out);
			jfinding(s, out, f);
			for (uint32_t k = 0; task_in && k < f->ntasks; k++)
				task_in[f->tasks[k]] = 1;
			for (uint32_t k = 0; k < f->nchain && task_in; k++)
				task_in[f->chain[k].task] = 1;
			for (uint32_t k = 0; obj_in && k < f->nobjs; k++)
				obj_in[f->objs[k]] = 1;
		}
		fprintf(out, "%s],\n", n ? "\n  " : "");
	}
	uint32_t by[6] = {0};
	for (uint32_t i = 0; i < s->ntasks; i++)
		if (s->tasks[i].state < 6)
			by[s->tasks[i].state]++;
	fprintf(out, "  \"counts\": {\"tasks\": %u, \"runnable\": %u, \"running\": %u, "
	        "\"waiting\": %u, \"done\": %u, \"cancelled\": %u, \"objects\": %u, "
	        "\"workers\": %u, \"runtimes\": %u},\n", s->ntasks,
	        by[TANGLE_DEBUG_TASK_RUNNABLE], by[TANGLE_DEBUG_TASK_RUNNING],
	        by[TANGLE_DEBUG_TASK_WAITING], by[TANGLE_DEBUG_TASK_DONE],
	        by[TANGLE_DEBUG_TASK_CANCELLED], s->nobjs, s->nworkers, s->nrts);
	/* tasks and objects: those involved in the findings (all for locks) */
	fputs("  \"tasks\": [", out);
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->ntasks && what != TI_JSON_LOCKS; i++) {
		if (task_in && !task_in[i])
			continue;
		fputs(n++ ? ",\n" : "\n", out);
		ti_json_task(s, out, i, 4);
	}
	fprintf(out, "%s],\n  \"objects\": [", n ? "\n  " : "");
	n = 0;
	for (uint32_t i = 0; i < s->nobjs && what != TI_JSON_TASKS; i++) {
		if (obj_in && !obj_in[i])
			continue;
		fputs(n++ ? ",\n" : "\n", out);
		ti_json_object(s, out, i);
	}
	fprintf(out, "%s],\n  \"workers\": [", n ? "\n  " : "");
	for (uint32_t i = 0; i < s->nworkers; i++) {
		fputs(i ? ",\n" : "\n", out);
		jworker(s, out, i);
	}
	fprintf(out, "%s],\n  \"runtimes\": [", s->nworkers ? "\n  " : "");
	for (uint32_t i = 0; i < s->nrts; i++) {
		const ti_runtime *r = &s->rts[i];
		fprintf(out, "%s\n    {\"id\": %" PRIu64 ", \"name\": ", i ? "," : "", r->id);
		ti_json_string(out, r->name);
		fprintf(out, ", \"flavor\": \"%s\", \"workers\": %u, \"tasks_live\": %" PRIu64
		        ", \"tasks_spawned\": %" PRIu64 ", \"global_queue\": %" PRIu64
		        ", \"blocking_busy\": %u, \"blocking_queued\": %u}",
		        r->flavor == TANGLE_DEBUG_FLAVOR_CURRENT_THREAD ? "current-thread" :
		        "multi-thread", r->worker_count, r->tasks_live, r->tasks_spawned,
		        r->global_queue, r->blocking_busy, r->blocking_queued);
	}
	fprintf(out, "%s],\n", s->nrts ? "\n  " : "");
	ti_json_tail(s, out);
	free(task_in);
	free(obj_in);
}
