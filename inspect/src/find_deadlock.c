/*
 * find_deadlock.c — cycles in the wait-for graph.
 *
 * Only hard edges count (waits without a deadline; not "runnable behind a
 * worker"). Strongly connected components (Tarjan, iterative, O(V+E)) with
 * more than one task, or one task with an edge to itself, are deadlocks.
 * From each we report one cycle: the shortest from the member whose wait
 * key is smallest, then rotated to its smallest rotation of keys, so the
 * same cycle reads and signs the same whatever task it is entered from.
 *
 * A task in select waits for ANY of its arms (an OR-wait): it is stuck
 * only if every arm has an edge to a stuck task. So first the stuck set:
 * the greatest set in which every task has a hard edge into the set (a
 * select: one per arm), found by peeling tasks off from the outside with
 * counters and reverse edges, O(V+E). Cycles are then sought among the
 * stuck tasks only. Without selects every task with a hard edge into a
 * cycle stays stuck, so this changes nothing for the other shapes.
 *
 * A cycle made only of "waits to receive, the sender is X" edges is left
 * to the quiescence check: an idle receive is not a deadlock by itself.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ti.h"

static bool hard_edge(const ti_edge *e)
{
	return e->hard && e->kind != TI_E_WORKER;
}

/* An edge that can make a deadlock: hard, and to a stuck task (edges are
 * only walked from stuck tasks). */
static bool dl_edge(const uint8_t *stuck, const ti_edge *e)
{
	return hard_edge(e) && stuck[e->to];
}

/* Counter slots: one per task, one per arm of a select. */
static uint32_t nslots(const tangle_session *s, uint32_t i)
{
	uint32_t a = ti_select_arms(&s->tasks[i]);
	return a ? a : 1;
}

static uint32_t slot_of(const ti_edge *e)
{
	return e->arm ? e->arm - 1u : 0;
}

/* stuck[i] = 1 for the tasks of the greatest set where every task (every
 * arm of a select) has a hard edge to a member. 0 on success. */
static int stuck_set(const tangle_session *s, uint8_t *stuck)
{
	uint32_t n = s->ntasks;
	uint32_t ne = s->edge_start[n];
	uint32_t *base = malloc(((size_t)n + 1) * sizeof(uint32_t));
	uint32_t *rstart = calloc((size_t)n + 2, sizeof(uint32_t));
	uint32_t *rfrom = malloc((ne ? ne : 1) * sizeof(uint32_t));
	uint32_t *cnt = NULL, *work = malloc(((size_t)n ? n : 1) * sizeof(uint32_t));
	int err = -1;
	if (!base || !rstart || !rfrom || !work)
		goto out;
	base[0] = 0;
	for (uint32_t i = 0; i < n; i++)
		base[i + 1] = base[i] + nslots(s, i);
	cnt = calloc(base[n] ? base[n] : 1, sizeof(uint32_t));
	if (!cnt)
		goto out;
	/* counts per slot and the reverse edges (edge index, by target) */
	for (uint32_t i = 0; i < n; i++) {
		const ti_edge *e = ti_edges(s, i);
		for (uint32_t k = 0; k < ti_nedges(s, i); k++)
			if (hard_edge(&e[k]) && slot_of(&e[k]) < nslots(s, i)) {
				cnt[base[i] + slot_of(&e[k])]++;
				rstart[e[k].to + 2]++;
			}
	}
	for (uint32_t i = 0; i < n; i++)
		rstart[i + 2] += rstart[i + 1];
	for (uint32_t i = 0; i < n; i++) {
		const ti_edge *e = ti_edges(s, i);
		for (uint32_t k = 0; k < ti_nedges(s, i); k++)
			if (hard_edge(&e[k]) && slot_of(&e[k]) < nslots(s, i))
				rfrom[rstart[e[k].to + 1]++] = s->edge_start[i] + k;
	}
	/* peel: a task with an empty slot is not stuck; that may empty others */
	uint32_t nw = 0;
	for (uint32_t i = 0; i < n; i++) {
		stuck[i] = 1;
		for (uint32_t k = base[i]; k < base[i + 1]; k++)
			if (!cnt[k]) {
				stuck[i] = 0;
				work[nw++] = i;
				break;
			}
	}
	while (nw) {
		uint32_t v = work[--nw];
		for (uint32_t r = rstart[v]; r < rstart[v + 1]; r++) {
			uint32_t ei = rfrom[r];
			/* the task owning edge ei: binary search in edge_start */
			uint32_t lo = 0, hi = n;
			while (hi - lo > 1) {
				uint32_t mid = lo + (hi - lo) / 2;
				if (s->edge_start[mid] <= ei)
					lo = mid;
				else
					hi = mid;
			}
			uint32_t u = lo;
			if (!stuck[u])
				continue;
			if (!--cnt[base[u] + slot_of(&s->edges[ei])]) {
				stuck[u] = 0;
				work[nw++] = u;
			}
		}
	}
	err = 0;
out:
	free(base);
	free(rstart);
	free(rfrom);
	free(cnt);
	free(work);
	return err;
}

struct tarjan {
	uint32_t *index, *low, *scc, *stack, *cs_node, *cs_edge;
	uint8_t *on, *stuck;
	uint32_t next, sp, nscc;
};

static void strongconnect(tangle_session *s, struct tarjan *T, uint32_t root)
{
	uint32_t csp = 0;
	T->cs_node[csp] = root;
	T->cs_edge[csp++] = 0;
	T->index[root] = T->low[root] = ++T->next;
	T->stack[T->sp++] = root;
	T->on[root] = 1;
	while (csp) {
		uint32_t v = T->cs_node[csp - 1];
		uint32_t k = T->cs_edge[csp - 1];
		const ti_edge *e = ti_edges(s, v);
		uint32_t ne = ti_nedges(s, v);
		if (k < ne) {
			T->cs_edge[csp - 1]++;
			if (!dl_edge(T->stuck, &e[k]))
				continue;
			uint32_t w = e[k].to;
			if (!T->index[w]) {
				T->index[w] = T->low[w] = ++T->next;
				T->stack[T->sp++] = w;
				T->on[w] = 1;
				T->cs_node[csp] = w;
				T->cs_edge[csp++] = 0;
			} else if (T->on[w] && T->index[w] < T->low[v]) {
				T->low[v] = T->index[w];
			}
			continue;
		}
		if (T->low[v] == T->index[v]) {
			uint32_t id = T->nscc++, w;
			do {
				w = T->stack[--T->sp];
				T->on[w] = 0;
				T->scc[w] = id;
			} while (w != v);
		}
		csp--;
		if (csp) {
			uint32_t u = T->cs_node[csp - 1];
			if (T->low[v] < T->low[u])
				T->low[u] = T->low[v];
		}
	}
}

static int edge_class(const tangle_session *s, const ti_edge *e)
{
	switch (e->kind) {
	case TI_E_RECEIVER:
	case TI_E_SENDER:
		return TI_S_CHANNEL;
	case TI_E_JOINED:
		return TI_S_JOIN;
	default:
		if (e->obj != TI_NONE && s->objs[e->obj].kind == TANGLE_DEBUG_OBJ_SEM)
			return TI_S_PERMITS;
		return TI_S_LOCK_ORDER;
	}
}

static const ti_edge *edge_to(const tangle_session *s, const struct tarjan *T,
                              uint32_t from, uint32_t to)
{
	const ti_edge *e = ti_edges(s, from);
	for (uint32_t k = 0; k < ti_nedges(s, from); k++)
		if (dl_edge(T->stuck, &e[k]) && e[k].to == to)
			return &e[k];
	return NULL;
}

static int cmp_rot(const char **keys, uint32_t n, uint32_t a, uint32_t b)
{
	for (uint32_t i = 0; i < n; i++) {
		int c = strcmp(keys[(a + i) % n], keys[(b + i) % n]);
		if (c)
			return c;
	}
	return 0;
}

static void fix_text(tangle_session *s, ti_finding *f, const char **names,
                     uint32_t n)
{
	switch (f->shape) {
	case TI_S_SELF:
		f->explanation = ti_printf(&s->FA, "the task waits for %s \"%s\", which "
		                           "it already holds; tangle locks are not reentrant",
		                           n ? "a lock" : "", n ? names[0] : "");
		f->fix = ti_printf(&s->FA, "do not take \"%s\" again while holding it: "
		                   "pass the locked state down, or split the function "
		                   "into locked and unlocked variants", n ? names[0] : "");
		break;
	case TI_S_LOCK_ORDER:
		f->explanation = "each task holds a lock that the next one in the cycle "
		                 "waits for, so none can go on";
		if (n == 2)
			f->fix = ti_printf(&s->FA, "take \"%s\" before \"%s\" everywhere, "
			                   "or use one lock", names[0], names[1]);
		else
			f->fix = "take these locks in one global order everywhere, or "
			         "merge them into one";
		break;
	case TI_S_CHANNEL:
		f->explanation = "each task waits to send on a full channel (or to "
		                 "receive from an empty one) whose other side is the "
		                 "next task in the cycle, itself waiting";
		f->fix = "break the ring: let one stage receive before it sends, "
		         "give one channel room (or no bound), or select on send and "
		         "receive together";
		break;
	case TI_S_PERMITS:
		f->explanation = "each task holds permits and waits for more that only "
		                 "the others can release";
		f->fix = "acquire all the permits a task needs in one call, or release "
		         "the ones held before asking for more";
		break;
	case TI_S_JOIN:
		f->explanation = "the tasks join each other, so none can finish";
		f->fix = "give each task one owner that joins it; never join a task "
		         "that may join you";
		break;
	default:
		f->explanation = "the tasks wait on each other through locks, "
		                 "channels, permits or joins, so none can go on";
		f->fix = "break the cycle: do not hold a lock while waiting on a "
		         "channel or a join, and take locks in one order";
	}
	if (!f->explanation)
		f->explanation = "";
	if (!f->fix)
		f->fix = "";
}

static void report(tangle_session *s, const struct tarjan *T, uint32_t id,
                   const uint32_t *members, uint32_t nm, uint32_t *parent)
{
	/* start: the member with the smallest wait key */
	uint32_t start = members[0];
	const char *best = ti_wait_key(s, start, s->tasks[start].wait.obj);
	for (uint32_t i = 1; i < nm; i++) {
		const char *k = ti_wait_key(s, members[i], s->tasks[members[i]].wait.obj);
		if (strcmp(k, best) < 0) {
			best = k;
			start = members[i];
		}
	}
	/* shortest cycle back to start, BFS inside the component */
	uint32_t cyc[TI_MAX_CHAIN], n = 0;
	if (nm == 1 && edge_to(s, T, start, start)) {
		cyc[n++] = start;
	} else {
		uint32_t *queue = malloc(nm * sizeof(*queue));
		if (!queue)
			return;
		uint32_t qh = 0, qt = 0, last = TI_NONE;
		for (uint32_t i = 0; i < nm; i++)
			parent[members[i]] = TI_NONE;
		queue[qt++] = start;
		parent[start] = start;
		while (qh < qt && last == TI_NONE) {
			uint32_t v = queue[qh++];
			const ti_edge *e = ti_edges(s, v);
			for (uint32_t k = 0; k < ti_nedges(s, v); k++) {
				uint32_t w = e[k].to;
				if (!dl_edge(T->stuck, &e[k]) || T->scc[w] != id)
					continue;
				if (w == start && v != start) {
					last = v;
					break;
				}
				if (parent[w] == TI_NONE && qt < nm) {
					parent[w] = v;
					queue[qt++] = w;
				}
			}
		}
		free(queue);
		if (last == TI_NONE)
			return;
		uint32_t rev[TI_MAX_CHAIN];
		for (uint32_t v = last; n < TI_MAX_CHAIN; v = parent[v]) {
			rev[n++] = v;
			if (v == start)
				break;
		}
		for (uint32_t i = 0; i < n; i++)
			cyc[i] = rev[n - 1 - i];
	}
	/* edges of the cycle, keys, shape */
	const ti_edge *E[TI_MAX_CHAIN];
	const char *keys[TI_MAX_CHAIN];
	bool only_recv = true;
	int shape = 0;
	for (uint32_t i = 0; i < n; i++) {
		E[i] = edge_to(s, T, cyc[i], cyc[(i + 1) % n]);
		if (!E[i])
			return;
		keys[i] = ti_wait_key(s, cyc[i], E[i]->obj);
		only_recv &= E[i]->kind == TI_E_SENDER;
		int c = edge_class(s, E[i]);
		shape = !shape || shape == c ? c : TI_S_MIXED;
	}
	if (only_recv)
		return;
	if (n == 1 && shape != TI_S_CHANNEL)
		shape = TI_S_SELF;
	uint32_t rot = 0;
	for (uint32_t r = 1; r < n; r++)
		if (cmp_rot(keys, n, r, rot) < 0)
			rot = r;

	ti_finding *f = ti_finding_new(s, TI_F_DEADLOCK);
	if (!f)
		return;
	f->shape = shape;
	ti_step *st = ti_step_alloc(s, f, n);
	const char *rk[TI_MAX_CHAIN], *names[TI_MAX_CHAIN];
	uint32_t objs[TI_MAX_CHAIN], tasks[TI_MAX_CHAIN], nnames = 0;
	for (uint32_t i = 0; i < n && st; i++) {
		uint32_t j = (rot + i) % n;
		st[i].task = cyc[j];
		st[i].obj = E[j]->obj;
		st[i].edge = E[j]->kind;
		st[i].nto = 1;
		st[i].to = ti_alloc(&s->FA, sizeof(uint32_t));
		if (st[i].to)
			st[i].to[0] = cyc[(j + 1) % n];
		else
			st[i].nto = 0;
		rk[i] = keys[j];
		objs[i] = E[j]->obj;
		tasks[i] = cyc[j];
		if (E[j]->obj != TI_NONE)
			names[nnames++] = s->objs[E[j]->obj].name;
		uint64_t since = s->tasks[cyc[j]].wait.since;
		uint64_t age = ti_age(s, since);
		if (!f->duration || (age && age < f->duration))
			f->duration = age;
	}
	f->cycle = 1;
	ti_finding_tasks(s, f, tasks, n);
	ti_finding_tasks(s, f, members, nm);
	ti_finding_objs(s, f, objs, n);
	for (uint32_t i = 0; i < n; i++) { /* the other ops of a select */
		const ti_edge *e = ti_edges(s, cyc[i]);
		for (uint32_t k = 0; k < ti_nedges(s, cyc[i]); k++)
			if (e[k].arm && dl_edge(T->stuck, &e[k]))
				ti_finding_objs(s, f, &e[k].obj, 1);
	}
	ti_finding_sign_keys(f, rk, n);
	ti_sort_keys(names, nnames);
	uint32_t u = 0; /* unique names for the fix */
	for (uint32_t i = 0; i < nnames; i++)
		if (!u || strcmp(names[u - 1], names[i]))
			names[u++] = names[i];
	static const char *const what[] = {"", "self-deadlock", "lock-order cycle",
	                                   "channel cycle", "permits hold-and-wait",
	                                   "join cycle", "mixed cycle"};
	if (n == 1)
		f->title = ti_printf(&s->FA, "%s of task %lu", what[shape],
		                     (unsigned long)s->tasks[cyc[0]].id);
	else
		f->title = ti_printf(&s->FA, "%s between %u tasks", what[shape], nm);
	if (!f->title)
		f->title = "";
	fix_text(s, f, names, u);
	for (uint32_t i = 0; i < n; i++)
		if (ti_select_arms(&s->tasks[cyc[i]])) {
			const char *e = ti_printf(&s->FA, "%s; task %" PRIu64 " \"%s\" waits "
			                          "in select, and every op of its select waits "
			                          "on a task in the deadlock", f->explanation,
			                          s->tasks[cyc[i]].id, s->tasks[cyc[i]].name);
			if (e)
				f->explanation = e;
			break;
		}
}

void ti_find_deadlocks(tangle_session *s)
{
	uint32_t n = s->ntasks;
	if (!n)
		return;
	struct tarjan T = {0};
	T.index = calloc(n, sizeof(uint32_t));
	T.low = calloc(n, sizeof(uint32_t));
	T.scc = malloc(n * sizeof(uint32_t));
	T.stack = malloc(n * sizeof(uint32_t));
	T.cs_node = malloc(n * sizeof(uint32_t));
	T.cs_edge = malloc(n * sizeof(uint32_t));
	T.on = calloc(n, 1);
	T.stuck = malloc(n);
	uint32_t *count = NULL, *first = NULL, *members = NULL, *parent = NULL;
	uint32_t *fidx = NULL;
	if (!T.index || !T.low || !T.scc || !T.stack || !T.cs_node || !T.cs_edge || !T.on ||
	    !T.stuck || stuck_set(s, T.stuck))
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		if (T.index[i] || !T.stuck[i]) {
			if (!T.index[i])
				T.scc[i] = TI_NONE;
			continue;
		}
		bool any = false;
		const ti_edge *e = ti_edges(s, i);
		for (uint32_t k = 0; k < ti_nedges(s, i) && !any; k++)
			any = dl_edge(T.stuck, &e[k]);
		if (any)
			strongconnect(s, &T, i);
		else
			T.scc[i] = TI_NONE;
	}
	/* group members by component (counting sort), in id order */
	count = calloc((size_t)T.nscc + 1, sizeof(uint32_t));
	first = calloc((size_t)T.nscc + 1, sizeof(uint32_t));
	members = malloc(n * sizeof(uint32_t));
	parent = malloc(n * sizeof(uint32_t));
	fidx = calloc((size_t)T.nscc + 1, sizeof(uint32_t));
	if (!count || !first || !members || !parent || !fidx)
		goto out;
	for (uint32_t i = 0; i < n; i++)
		if (T.index[i])
			count[T.scc[i]]++;
	for (uint32_t c = 1; c <= T.nscc; c++)
		first[c] = first[c - 1] + count[c - 1];
	memset(count, 0, ((size_t)T.nscc + 1) * sizeof(uint32_t));
	for (uint32_t i = 0; i < n; i++)
		if (T.index[i])
			members[first[T.scc[i]] + count[T.scc[i]]++] = i;
	/* report components in the order of their lowest task id */
	for (uint32_t i = 0; i < n; i++) {
		if (!T.index[i])
			continue;
		uint32_t c = T.scc[i];
		const uint32_t *m = members + first[c];
		if (m[0] != i)
			continue;
		if (count[c] > 1 || edge_to(s, &T, i, i)) {
			uint32_t before = s->nfindings;
			report(s, &T, c, m, count[c], parent);
			if (s->nfindings > before)
				fidx[c] = s->nfindings; /* 1 + its index */
		}
	}
	/* tasks waiting into a cycle from outside it */
	for (uint32_t j = 0; j < n; j++) {
		const ti_edge *e = ti_edges(s, j);
		uint32_t last = TI_NONE;
		if (ti_select_arms(&s->tasks[j]) && !T.stuck[j])
			continue; /* another arm can still complete */
		for (uint32_t k = 0; k < ti_nedges(s, j); k++) {
			uint32_t w = e[k].to;
			if (!T.index[w] || !fidx[T.scc[w]] || T.scc[w] == last ||
			    (T.index[j] && T.scc[j] == T.scc[w]))
				continue;
			last = T.scc[w];
			s->findings[fidx[last] - 1].behind++;
		}
	}
out:
	free(T.index);
	free(T.low);
	free(T.scc);
	free(T.stack);
	free(T.cs_node);
	free(T.cs_edge);
	free(T.on);
	free(T.stuck);
	free(count);
	free(first);
	free(members);
	free(parent);
	free(fidx);
}
