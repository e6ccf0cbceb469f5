/*
 * cmd_tasks.c — the `tasks` table (filters, --group by wait site for
 * programs with thousands of tasks) and the `locks` table. Filters are
 * checked before anything is written, so a bad option writes nothing. A
 * field cut to its column ends in '~' (ti_fit).
 */
#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static tangle_error *state_mask(const char *spec, unsigned *mask)
{
	*mask = 0;
	if (!spec)
		return NULL;
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int found = -1;
		for (int st = 1; st <= TANGLE_DEBUG_TASK_CANCELLED; st++)
			if (strcmp(tok, ti_task_state_name(st)) == 0)
				found = st;
		if (found < 0)
			return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
			                        "tasks: unknown state '%s' (runnable, running, "
			                        "waiting, done, cancelled)", tok);
		*mask |= 1u << found;
	}
	return NULL;
}

static bool match(const tangle_session *s, const ti_opts *o, unsigned mask,
                  const ti_task *t)
{
	(void)s;
	if (mask && !(mask & (1u << t->state)))
		return false;
	if (o->name && fnmatch(o->name, t->name, 0) != 0)
		return false;
	if (o->label) {
		const char *eq = strchr(o->label, '=');
		size_t klen = eq ? (size_t)(eq - o->label) : strlen(o->label);
		bool ok = false;
		for (uint32_t i = 0; i < t->nlabels && !ok; i++)
			ok = strlen(t->labels[i].key) == klen &&
			     strncmp(t->labels[i].key, o->label, klen) == 0 &&
			     (!eq || strcmp(t->labels[i].value, eq + 1) == 0);
		if (!ok)
			return false;
	}
	return true;
}

static uint64_t since_of(const tangle_session *s, const ti_task *t)
{
	switch (t->state) {
	case TANGLE_DEBUG_TASK_WAITING: return t->wait.since;
	case TANGLE_DEBUG_TASK_RUNNING: return t->last_ran_at;
	case TANGLE_DEBUG_TASK_RUNNABLE: return t->woken_at ? t->woken_at : t->spawned_at;
	default: (void)s; return t->finished_at;
	}
}

static const ti_site *site_of(const ti_task *t)
{
	if (t->state == TANGLE_DEBUG_TASK_WAITING && t->wait.site)
		return t->wait.site;
	return t->spawn_site;
}

/* What a group of tasks waits for, without per-task details (fds). */
static void group_wait(const tangle_session *s, const ti_task *t, char *buf, size_t len)
{
	const ti_wait *w = &t->wait;
	buf[0] = 0;
	if (t->state != TANGLE_DEBUG_TASK_WAITING)
		return;
	if (w->obj != TI_NONE) {
		char o[128];
		ti_fmt_obj(o, sizeof(o), s, w->obj);
		snprintf(buf, len, "%s %s", ti_op_name(w->op), o);
	} else if (w->kind == TANGLE_DEBUG_WAIT_PARK) {
		snprintf(buf, len, "park \"%s\"", w->what ? w->what : "");
	} else {
		snprintf(buf, len, "%s", ti_wait_kind_name(w->kind));
		if (w->op != TANGLE_DEBUG_OP_NONE && w->kind == TANGLE_DEBUG_WAIT_IO)
			snprintf(buf, len, "%s", ti_op_name(w->op));
	}
}

struct group {
	uint64_t hash;
	uint32_t count, first;
	uint64_t longest;
};

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

static tangle_error *grouped(tangle_session *s, const ti_opts *o, unsigned mask,
                             FILE *out)
{
	ti_map index = {0};
	ti_vec groups = {0};
	char wait[200], site[160];
	for (uint32_t i = 0; i < s->ntasks; i++) {
		const ti_task *t = &s->tasks[i];
		if (!match(s, o, mask, t))
			continue;
		group_wait(s, t, wait, sizeof(wait));
		ti_fmt_site(site, sizeof(site), site_of(t));
		uint64_t h = ti_hash(TI_HASH_INIT, &t->state, 1);
		h = ti_hash(h, wait, strlen(wait) + 1);
		h = ti_hash(h, site, strlen(site) + 1);
		if (!h)
			h = 1;
		uint64_t gi;
		struct group *g;
		if (ti_map_get(&index, h, &gi)) {
			g = (struct group *)groups.data + gi;
		} else {
			g = ti_vec_push(&groups, sizeof(*g));
			if (!g || ti_map_put(&index, h, groups.len - 1)) {
				ti_map_free(&index);
				ti_vec_free(&groups);
				return &tangle_error_out_of_memory;
			}
			g->hash = h;
			g->first = i;
		}
		g->count++;
		uint64_t age = ti_age(s, since_of(s, t));
		if (age > g->longest)
			g->longest = age;
	}
	struct group *G = groups.data;
	if (groups.len)
		qsort(G, groups.len, sizeof(*G), cmp_group);
	if (o->json) {
		ti_json_head(s, out);
		fputs("  \"groups\": [", out);
	} else {
		fprintf(out, "%-7s %-9s %-8s %-40s %s\n", "COUNT", "STATE", "LONGEST",
		        "WAIT", "SITE");
	}
	for (size_t i = 0; i < groups.len && (!o->limit || i < o->limit); i++) {
		const ti_task *t = &s->tasks[G[i].first];
		char d[32];
		group_wait(s, t, wait, sizeof(wait));
		ti_fmt_site(site, sizeof(site), site_of(t));
		ti_fmt_dur(d, sizeof(d), G[i].longest);
		if (o->json) {
			fprintf(out, "%s\n    {\"count\": %u, \"state\": \"%s\", \"longest_ns\": %"
			        PRIu64 ", \"wait\": ", i ? "," : "", G[i].count,
			        ti_task_state_name(t->state), G[i].longest);
			ti_json_string(out, wait);
			fputs(", \"site\": ", out);
			ti_json_string(out, site);
			fprintf(out, ", \"example\": %" PRIu64 "}", t->id);
		} else {
			char w[48];
			fprintf(out, "%-7u %-9s %-8s %-40s %s\n", G[i].count,
			        ti_task_state_name(t->state), d,
			        ti_fit(w, sizeof(w), wait, 40), site);
		}
	}
	if (o->json) {
		fprintf(out, "%s],\n", groups.len ? "\n  " : "");
		ti_json_tail(s, out);
	}
	ti_map_free(&index);
	ti_vec_free(&groups);
	return NULL;
}

tangle_error *ti_cmd_tasks(tangle_session *s, const ti_opts *o, FILE *out, int *status)
{
	unsigned mask;
	tangle_error *err = state_mask(o->state, &mask);
	if (err)
		return err;
	for (uint32_t i = 0; i < s->nfindings; i++)
		*status = 1;
	if (o->group)
		return grouped(s, o, mask, out);
	if (o->json) {
		ti_json_head(s, out);
		fputs("  \"tasks\": [", out);
	} else {
		fprintf(out, "%-7s %-9s %-7s %-40s %-28s %s\n", "ID", "STATE", "FOR",
		        "WAIT", "SITE", "NAME");
	}
	uint64_t n = 0;
	for (uint32_t i = 0; i < s->ntasks && (!o->limit || n < o->limit); i++) {
		const ti_task *t = &s->tasks[i];
		if (!match(s, o, mask, t))
			continue;
		if (o->json) {
			fputs(n ? ",\n" : "\n", out);
			ti_json_task(s, out, i, 4);
		} else {
			char d[32], wait[160], site[160];
			ti_fmt_dur(d, sizeof(d), ti_age(s, since_of(s, t)));
			ti_fmt_wait(wait, sizeof(wait), s, t);
			ti_fmt_site(site, sizeof(site), site_of(t));
			char w[48], si[48];
			fprintf(out, "%-7" PRIu64 " %-9s %-7s %-40s %-28s %s\n", t->id,
			        ti_task_state_name(t->state), d, ti_fit(w, sizeof(w), wait, 40),
			        ti_fit(si, sizeof(si), site, 28), t->name);
		}
		n++;
	}
	if (o->json) {
		fprintf(out, "%s],\n", n ? "\n  " : "");
		ti_json_tail(s, out);
	} else if (s->nproblems) {
		for (uint32_t i = 0; i < s->nproblems; i++)
			fprintf(out, "%-7s %-9s %s\n", "?", "unread", s->problems[i].what);
	}
	return NULL;
}

/* Under a semaphore's or read-held rwlock's row, who holds it: the STATE
 * column has room for one owner only. */
#define TI_LOCKS_HOLDERS 8
static void shared_holders(tangle_session *s, FILE *out, uint32_t oi)
{
	const ti_object *o = &s->objs[oi];
	if (!o->nholders || (o->kind != TANGLE_DEBUG_OBJ_SEM &&
	                     (o->kind != TANGLE_DEBUG_OBJ_RWLOCK || o->owner != TI_NONE)))
		return;
	fputs("          held by", out);
	for (uint32_t k = 0; k < o->nholders && k < TI_LOCKS_HOLDERS; k++) {
		const ti_task *t = &s->tasks[o->holders[k]];
		const ti_hold *h = ti_hold_of(s, o->holders[k], oi);
		fprintf(out, "%s task %" PRIu64 " \"%s\"", k ? "," : "", t->id, t->name);
		if (!h)
			fputs(" (handed, not claimed)", out);
		else if (o->kind == TANGLE_DEBUG_OBJ_SEM)
			fprintf(out, " (%u permit%s)", h->count, h->count == 1 ? "" : "s");
	}
	if (o->nholders > TI_LOCKS_HOLDERS)
		fprintf(out, " and %u more", o->nholders - TI_LOCKS_HOLDERS);
	fputc('\n', out);
}

tangle_error *ti_cmd_locks(tangle_session *s, const ti_opts *o, FILE *out, int *status)
{
	int kind = -1;
	if (o->kind) {
		for (int k = TANGLE_DEBUG_OBJ_MUTEX; k <= TANGLE_DEBUG_OBJ_NOTIFY; k++)
			if (strcmp(o->kind, ti_obj_kind_name(k)) == 0)
				kind = k;
		if (kind < 0)
			return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
			                        "locks: unknown kind '%s' (mutex, rwlock, "
			                        "semaphore, channel, notify)", o->kind);
	}
	*status = s->nfindings ? 1 : 0;
	if (o->json) {
		ti_json_head(s, out);
		fputs("  \"objects\": [", out);
	} else {
		fprintf(out, "%-9s %-16s %-44s %-8s %-8s %-8s %-8s %s\n", "KIND", "NAME",
		        "STATE", "WAITERS", "ACQ", "CONT", "LONGEST", "CREATED");
	}
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->nobjs; i++) {
		const ti_object *ob = &s->objs[i];
		if (kind >= 0 && ob->kind != kind)
			continue;
		if (o->json) {
			fputs(n++ ? ",\n" : "\n", out);
			ti_json_object(s, out, i);
			continue;
		}
		char state[160], d[32], site[160];
		ti_fmt_obj_state(state, sizeof(state), s, i);
		uint32_t waiting = ti_obj_waiting(ob);
		ti_fmt_dur(d, sizeof(d), ob->longest_hold);
		ti_fmt_site(site, sizeof(site), ob->created);
		char nm[24], st[52];
		fprintf(out, "%-9s %-16s %-44s %-8u %-8" PRIu64 " %-8" PRIu64 " %-8s %s\n",
		        ti_obj_kind_name(ob->kind),
		        ti_fit(nm, sizeof(nm), *ob->name ? ob->name : "-", 16),
		        ti_fit(st, sizeof(st), state, 44), waiting,
		        ob->acquisitions, ob->contentions, d, site);
		shared_holders(s, out, i);
		n++;
	}
	if (o->json) {
		fprintf(out, "%s],\n", n ? "\n  " : "");
		ti_json_tail(s, out);
	}
	return NULL;
}
