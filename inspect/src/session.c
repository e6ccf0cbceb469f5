/*
 * session.c — opening and freeing a session, and the task and describe
 * calls that debugger frontends use (pretty-printers, tasks as threads).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ti.h"

void tangle_session_free(tangle_session *s)
{
	if (!s)
		return;
	ti_map_free(&s->task_by_id);
	ti_map_free(&s->task_by_addr);
	ti_map_free(&s->obj_by_addr);
	ti_map_free(&s->strings);
	ti_map_free(&s->sites);
	ti_map_free(&s->visited);
	ti_vec_free(&s->extra_waits);
	free(s->rts);
	free(s->workers);
	free(s->tasks);
	free(s->objs);
	free(s->problems);
	free(s->edge_start);
	free(s->edges);
	free(s->findings);
	free(s->in_finding);
	free(s->target);
	ti_arena_free(&s->FA);
	ti_arena_free(&s->A);
	free(s);
}

tangle_error *tangle_session_open(const tangle_reader *reader,
                                  const tangle_unwinder *unwinder,
                                  const tangle_session_options *options,
                                  tangle_session **out)
{
	if (!out)
		return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                        "tangle_session_open: out is NULL");
	*out = NULL;
	if (!reader || !reader->read)
		return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                        "tangle_session_open: no reader");
	tangle_session *s = calloc(1, sizeof(*s));
	if (!s)
		return &tangle_error_out_of_memory;
	s->r = reader;
	s->uw = unwinder;
	if (options)
		s->opt = *options;
	if (s->opt.target) {
		s->target = strdup(s->opt.target);
		if (!s->target) {
			free(s);
			return &tangle_error_out_of_memory;
		}
	}
	s->opt.target = s->target;
	s->root = s->opt.root;
	if (!s->root) {
		if (!reader->lookup ||
		    reader->lookup(reader->ctx, TANGLE_DEBUG_SYMBOL, &s->root) != 0 ||
		    !s->root) {
			tangle_session_free(s);
			return tangle_error_new(TANGLE_INSPECT_ENOTABLE, 0,
			                        "no tangle debug table: the symbol %s was not "
			                        "found (does the program use libtangle?)",
			                        TANGLE_DEBUG_SYMBOL);
		}
	}
	tangle_error *err = ti_decode(s);
	if (!err) {
		ti_clock(s);
		err = ti_graph(s);
	}
	if (err) {
		tangle_session_free(s);
		return err;
	}
	*out = s;
	return NULL;
}

size_t tangle_session_task_count(const tangle_session *s)
{
	return s ? s->ntasks : 0;
}

static void task_info(const tangle_session *s, uint32_t i, tangle_task_info *out)
{
	const ti_task *t = &s->tasks[i];
	memset(out, 0, sizeof(*out));
	out->id = t->id;
	out->address = t->addr;
	out->state = t->state;
	snprintf(out->name, sizeof(out->name), "%s", t->name);
	ti_fmt_wait(out->wait, sizeof(out->wait), s, t);
	if (t->state == TANGLE_DEBUG_TASK_RUNNING) {
		for (uint32_t k = 0; k < s->nworkers; k++)
			if (s->workers[k].task == i)
				out->worker_tid = s->workers[k].tid;
	}
	out->suspended = ti_task_context(s, i, &out->context) == 0;
}

int tangle_session_task_at(const tangle_session *s, size_t index,
                           tangle_task_info *out)
{
	if (!s || !out || index >= s->ntasks)
		return -1;
	task_info(s, (uint32_t)index, out);
	return 0;
}

int tangle_session_task_by_id(const tangle_session *s, uint64_t id,
                              tangle_task_info *out)
{
	if (!s || !out)
		return -1;
	uint32_t i = ti_task_index(s, id);
	if (i == TI_NONE)
		return -1;
	task_info(s, i, out);
	return 0;
}

size_t tangle_session_task_briefs(const tangle_session *s, size_t first,
                                  tangle_task_brief *out, size_t max)
{
	if (!s || !out || first >= s->ntasks)
		return 0;
	size_t n = s->ntasks - first < max ? s->ntasks - first : max;
	for (size_t k = 0; k < n; k++) {
		const ti_task *t = &s->tasks[first + k];
		out[k] = (tangle_task_brief){.id = t->id, .address = t->addr,
		                             .state = t->state};
	}
	/* As task_info: the worker whose current task it is, if running. */
	for (uint32_t k = 0; k < s->nworkers; k++) {
		uint32_t i = s->workers[k].task;
		if (i != TI_NONE && i >= first && i - first < n &&
		    s->tasks[i].state == TANGLE_DEBUG_TASK_RUNNING)
			out[i - first].worker_tid = s->workers[k].tid;
	}
	return n;
}

void ti_fmt_obj_state(char *holder, size_t hl, const tangle_session *s, uint32_t oi)
{
	const ti_object *o = &s->objs[oi];
	holder[0] = 0;
	if (o->kind == TANGLE_DEBUG_OBJ_CHAN) {
		snprintf(holder, hl, "%" PRId64 "/%" PRId64 " buffered%s",
		         o->value, o->capacity,
		         (o->flags & TANGLE_DEBUG_OBJF_CLOSED) ? ", closed" : "");
	} else if (o->kind == TANGLE_DEBUG_OBJ_SEM) {
		snprintf(holder, hl, "%" PRId64 " of %" PRId64 " permits free",
		         o->value, o->capacity);
	} else if (o->owner != TI_NONE) {
		snprintf(holder, hl, "held by task %" PRIu64 " \"%s\"",
		         s->tasks[o->owner].id, s->tasks[o->owner].name);
	} else if (o->owner_id) {
		snprintf(holder, hl, "held by task %" PRIu64 " (gone)", o->owner_id);
	} else if (o->kind == TANGLE_DEBUG_OBJ_RWLOCK && o->value > 0) {
		snprintf(holder, hl, "read-held by %" PRId64 " task%s",
		         o->value, o->value == 1 ? "" : "s");
	} else if (o->kind != TANGLE_DEBUG_OBJ_NOTIFY) {
		snprintf(holder, hl, "free");
	}
	if (o->handed != TI_NONE && o->owner == TI_NONE) {
		size_t n = strlen(holder);
		snprintf(holder + n, hl - n, ", handed to task %" PRIu64,
		         s->tasks[o->handed].id);
	}
}

uint32_t ti_obj_waiting(const ti_object *o)
{
	uint32_t waiting = 0;
	for (uint32_t k = 0; k < o->nq1; k++)
		waiting += o->q1[k]->state == TANGLE_DEBUG_WAITER_WAITING;
	for (uint32_t k = 0; k < o->nq2; k++)
		waiting += o->q2[k]->state == TANGLE_DEBUG_WAITER_WAITING;
	return waiting;
}

/* Append ": task 3 "a", task 4 "b" (write) … and N more" (the waiting
 * ones of q1 then q2, queue order) to buf, which holds used bytes. */
static void fmt_waiters(char *buf, size_t len, const tangle_session *s,
                        const ti_object *o, unsigned max)
{
	size_t used = strlen(buf);
	unsigned shown = 0, more = 0;
	for (int q = 0; q < 2; q++) {
		ti_wait **queue = q ? o->q2 : o->q1;
		uint32_t nq = q ? o->nq2 : o->nq1;
		for (uint32_t k = 0; k < nq; k++) {
			const ti_wait *w = queue[k];
			if (w->state != TANGLE_DEBUG_WAITER_WAITING)
				continue;
			if (shown == max) {
				more++;
				continue;
			}
			const char *op = "";
			if (o->kind == TANGLE_DEBUG_OBJ_RWLOCK)
				op = w->op == TANGLE_DEBUG_OP_WRITE ? " (write)" : " (read)";
			else if (o->kind == TANGLE_DEBUG_OBJ_CHAN)
				op = w->op == TANGLE_DEBUG_OP_SEND ? " (send)" : " (recv)";
			char who[80];
			if (w->task != TI_NONE)
				snprintf(who, sizeof(who), "task %" PRIu64 " \"%s\"",
				         s->tasks[w->task].id, s->tasks[w->task].name);
			else
				snprintf(who, sizeof(who), "an unknown task");
			if (used < len)
				used += (size_t)snprintf(buf + used, len - used, "%s%s%s",
				                         shown ? ", " : ": ", who, op);
			shown++;
		}
	}
	if (more && used < len)
		snprintf(buf + used, len - used, " \xe2\x80\xa6 and %u more", more);
}

int tangle_session_describe_waiters(const tangle_session *s, uint64_t address,
                                    unsigned max_waiters, char *buf, size_t len)
{
	if (tangle_session_describe(s, address, buf, len) != 0)
		return -1;
	uint64_t v;
	if (max_waiters && !ti_map_get(&s->task_by_addr, address, &v) &&
	    ti_map_get(&s->obj_by_addr, address, &v) && v != TI_NONE)
		fmt_waiters(buf, len, s, &s->objs[v], max_waiters);
	return 0;
}

int tangle_session_describe(const tangle_session *s, uint64_t address,
                            char *buf, size_t len)
{
	if (!buf || !len)
		return -1;
	buf[0] = 0;
	if (!s)
		return -1;
	uint64_t v;
	char dur[32], wait[160];
	if (ti_map_get(&s->task_by_addr, address, &v)) {
		const ti_task *t = &s->tasks[v];
		ti_fmt_wait(wait, sizeof(wait), s, t);
		ti_fmt_dur(dur, sizeof(dur), ti_age(s, t->wait.since));
		if (*wait)
			snprintf(buf, len, "task %" PRIu64 " \"%s\" %s %s: %s", t->id,
			         t->name, ti_task_state_name(t->state), dur, wait);
		else
			snprintf(buf, len, "task %" PRIu64 " \"%s\" %s", t->id, t->name,
			         ti_task_state_name(t->state));
		return 0;
	}
	if (!ti_map_get(&s->obj_by_addr, address, &v) || v == TI_NONE)
		return -1;
	const ti_object *o = &s->objs[v];
	char what[128], holder[160];
	ti_fmt_obj(what, sizeof(what), s, (uint32_t)v);
	ti_fmt_obj_state(holder, sizeof(holder), s, (uint32_t)v);
	uint32_t waiting = ti_obj_waiting(o);
	snprintf(buf, len, "%s%s%s, %u waiter%s", what, *holder ? " " : "", holder, waiting,
	         waiting == 1 ? "" : "s");
	return 0;
}
