/*
 * findings.c — running the finders and what they share: allocation,
 * involved tasks and objects, and signatures.
 *
 * A signature is a hash of the kind, the shape and "keys" that the finder
 * builds from function names (of wait, hold and spawn sites) and object
 * names only — never addresses, ids, timings or line numbers — so the same
 * bug gives the same signature across runs, ASLR, task ids and frontends.
 * Finders put cycles in a canonical rotation before signing.
 *
 * Findings live in s->findings (realloc'd: a pointer from ti_finding_new
 * is valid until the next call) and their data in the arena s->FA, both
 * reset when the thresholds change.
 */
#include <stdlib.h>
#include <string.h>

#include "ti.h"

const char *ti_kind_name(int kind)
{
	static const char *const n[] = {"deadlock", "lock-held-across-await",
	                                "blocked-executor", "granted-not-claimed",
	                                "orphaned-lock", "lost-waker", "stuck"};
	return kind >= 0 && kind < TI_F_NKINDS ? n[kind] : "unknown";
}

const char *ti_shape_name(int shape)
{
	static const char *const n[] = {"", "self", "lock-order", "channel",
	                                "permits", "join", "mixed"};
	return shape >= 0 && shape <= TI_S_MIXED ? n[shape] : "";
}

void ti_thresholds_default(ti_thresholds *th)
{
	th->blocked_ns = 500000000ull;
	th->held_ns = 1000000000ull;
	th->granted_ns = 1000000000ull;
	th->stuck_ns = 5000000000ull;
}

ti_finding *ti_finding_new(tangle_session *s, int kind)
{
	if (s->nfindings % 16 == 0) {
		ti_finding *f = realloc(s->findings,
		                        (s->nfindings + 16) * sizeof(*f));
		if (!f)
			return NULL;
		s->findings = f;
	}
	ti_finding *f = &s->findings[s->nfindings++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->worker = TI_NONE;
	f->title = f->explanation = f->fix = "";
	return f;
}

void ti_finding_tasks(tangle_session *s, ti_finding *f, const uint32_t *t,
                      uint32_t n)
{
	uint32_t room = f->ntasks < TI_FINDING_TASKS ? TI_FINDING_TASKS - f->ntasks : 0;
	uint32_t add = n < room ? n : room;
	uint32_t *a = ti_alloc(&s->FA, ((size_t)f->ntasks + add) * sizeof(*a));
	if (!a)
		return;
	if (f->ntasks)
		memcpy(a, f->tasks, f->ntasks * sizeof(*a));
	for (uint32_t i = 0; i < n; i++) {
		if (t[i] == TI_NONE)
			continue;
		uint32_t stamp = (uint32_t)(f - s->findings) + 1;
		if (s->in_finding[t[i]] == stamp)
			continue;
		s->in_finding[t[i]] = stamp;
		if (f->ntasks < TI_FINDING_TASKS && add) {
			a[f->ntasks++] = t[i];
			add--;
		} else {
			f->more_tasks++;
		}
	}
	f->tasks = a;
}

uint32_t ti_finding_queue(tangle_session *s, ti_finding *f, uint32_t obj)
{
	const ti_object *o = &s->objs[obj];
	uint32_t first = TI_NONE;
	for (uint32_t k = 0; k < o->nq1; k++) {
		const ti_wait *w = o->q1[k];
		if (w->state != TANGLE_DEBUG_WAITER_WAITING || w->task == TI_NONE)
			continue;
		if (first == TI_NONE)
			first = w->task;
		f->behind++;
		ti_finding_tasks(s, f, &w->task, 1);
	}
	return first;
}

void ti_finding_objs(tangle_session *s, ti_finding *f, const uint32_t *o,
                     uint32_t n)
{
	uint32_t *a = ti_alloc(&s->FA, ((size_t)f->nobjs + n) * sizeof(*a));
	if (!a)
		return;
	if (f->nobjs)
		memcpy(a, f->objs, f->nobjs * sizeof(*a));
	for (uint32_t i = 0; i < n; i++) {
		if (o[i] == TI_NONE)
			continue;
		bool dup = false;
		for (uint32_t j = 0; j < f->nobjs && !dup; j++)
			dup = a[j] == o[i];
		if (!dup)
			a[f->nobjs++] = o[i];
	}
	f->objs = a;
}

ti_step *ti_step_alloc(tangle_session *s, ti_finding *f, uint32_t n)
{
	f->chain = ti_alloc(&s->FA, (n ? n : 1) * sizeof(ti_step));
	f->nchain = f->chain ? n : 0;
	return f->chain;
}

bool ti_task_in_findings(const tangle_session *s, uint32_t t)
{
	return t != TI_NONE && s->in_finding && s->in_finding[t];
}

/* The signature of f from its kind, shape and the finder's keys. */
void ti_finding_sign_keys(ti_finding *f, const char *const *keys, uint32_t n)
{
	uint64_t h = TI_HASH_INIT;
	const char *k = ti_kind_name(f->kind), *sh = ti_shape_name(f->shape);
	h = ti_hash(h, k, strlen(k) + 1);
	h = ti_hash(h, sh, strlen(sh) + 1);
	for (uint32_t i = 0; i < n; i++)
		h = ti_hash(h, keys[i] ? keys[i] : "", strlen(keys[i] ? keys[i] : "") + 1);
	uint32_t folded = (uint32_t)(h ^ (h >> 32));
	snprintf(f->sig, sizeof(f->sig), "%08x", folded);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void ti_sort_keys(const char **keys, uint32_t n)
{
	if (n)
		qsort(keys, n, sizeof(*keys), cmp_str);
}

/* The function a task is best known by: its wait site, else spawn site. */
const char *ti_task_fn(const tangle_session *s, uint32_t t)
{
	const ti_task *tk = &s->tasks[t];
	if (tk->wait.site && *tk->wait.site->function &&
	    tk->state == TANGLE_DEBUG_TASK_WAITING)
		return tk->wait.site->function;
	if (tk->spawn_site && *tk->spawn_site->function)
		return tk->spawn_site->function;
	return "";
}

/* "fn|kind|name" of a task's wait on obj (arena s->FA). */
const char *ti_wait_key(tangle_session *s, uint32_t t, uint32_t obj)
{
	const char *kind = obj != TI_NONE ? ti_obj_kind_name(s->objs[obj].kind) :
	                   ti_wait_kind_name(s->tasks[t].wait.kind);
	const char *name = obj != TI_NONE ? s->objs[obj].name : "";
	const char *k = ti_printf(&s->FA, "%s|%s|%s|%s", ti_task_fn(s, t), kind,
	                          name, ti_op_name(s->tasks[t].wait.op));
	return k ? k : "";
}

/* Task names without digits: "conn-17" and "conn-18" are one kind of task. */
const char *ti_name_key(tangle_session *s, const char *name)
{
	char buf[64];
	size_t n = 0;
	for (const char *p = name; *p && n + 1 < sizeof(buf); p++)
		if (*p < '0' || *p > '9')
			buf[n++] = *p;
	buf[n] = 0;
	const char *k = ti_strndup(&s->FA, buf, sizeof(buf));
	return k ? k : "";
}

tangle_error *ti_analyze(tangle_session *s, const ti_thresholds *th)
{
	if (s->analyzed && memcmp(th, &s->th, sizeof(*th)) == 0)
		return NULL;
	s->th = *th;
	ti_arena_free(&s->FA);
	s->FA.failed = 0;
	s->nfindings = 0;
	free(s->in_finding);
	s->in_finding = calloc(s->ntasks ? s->ntasks : 1, sizeof(uint32_t));
	if (!s->in_finding)
		return &tangle_error_out_of_memory;
	ti_find_deadlocks(s);
	ti_find_quiescence(s);
	ti_find_granted(s);
	ti_find_blocked(s);
	ti_find_orphaned(s);
	ti_find_held(s);
	ti_find_lost_waker(s);
	ti_find_stuck(s);
	if (s->FA.failed)
		return &tangle_error_out_of_memory;
	s->analyzed = 1;
	return NULL;
}
