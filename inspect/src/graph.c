/*
 * graph.c — the wait-for graph: task -> the tasks that must act before it
 * can go on. Edges come from the task's own active wait (its inline WAITER
 * in state WAITING):
 *   mutex      the owner (or the task it was handed to, unclaimed)
 *   rwlock     writer: every holder; reader: the writer, and the nearest
 *              writer queued ahead (the queue is fair)
 *   semaphore  the permit holders, and the waiter queued just ahead (FIFO);
 *              itself only if what it asks can never fit beside what it holds
 *   channel    send on a full channel: waiting receivers + last receiver;
 *              receive on an empty one: waiting senders + last sender
 *   join       the joined task while it has not finished
 *   select     per op (arm), the channel edges above of the waiter that the
 *              select queued on that channel; edge.arm = 1 + the op's index
 * and a runnable task waits for the task its worker is running. Edges are
 * "hard" when the wait has no deadline. A task's edges are an AND (it needs
 * them all to act) except a select's arms, which are an OR: find_deadlock.c
 * counts a select as stuck only when every arm is. Stored as CSR
 * (edge_start/edges), at most TI_MAX_EDGES per task, built in one pass:
 * O(tasks + queues).
 */
#include <stdlib.h>
#include <string.h>

#include "ti.h"

#define TI_MAX_EDGES 256

bool ti_waiting(const ti_task *t)
{
	return t->state == TANGLE_DEBUG_TASK_WAITING &&
	       t->wait.state == TANGLE_DEBUG_WAITER_WAITING;
}

uint32_t ti_task_index(const tangle_session *s, uint64_t id)
{
	uint64_t v;
	return ti_map_get(&s->task_by_id, id, &v) ? (uint32_t)v : TI_NONE;
}

const ti_hold *ti_hold_of(const tangle_session *s, uint32_t task, uint32_t obj)
{
	const ti_task *t = &s->tasks[task];
	for (uint32_t i = 0; i < t->nholds; i++)
		if (t->holds[i].obj == obj)
			return &t->holds[i];
	return NULL;
}

static bool granted_to(const tangle_session *s, uint32_t h, uint32_t obj)
{
	const ti_task *t = &s->tasks[h];
	if (s->objs[obj].handed == h && !ti_hold_of(s, h, obj))
		return true;
	return t->wait.state == TANGLE_DEBUG_WAITER_GRANTED && t->wait.obj == obj &&
	       t->wait.granted_at && t->last_ran_at < t->wait.granted_at &&
	       !ti_hold_of(s, h, obj);
}

static int holder_mode(const tangle_session *s, uint32_t h, uint32_t obj)
{
	const ti_hold *hd = ti_hold_of(s, h, obj);
	if (hd)
		return hd->mode;
	if (s->objs[obj].owner == h)
		return TANGLE_DEBUG_HOLD_EXCLUSIVE;
	const ti_wait *w = &s->tasks[h].wait;
	if (w->obj == obj && w->op == TANGLE_DEBUG_OP_READ)
		return TANGLE_DEBUG_HOLD_SHARED;
	if (w->obj == obj && w->op == TANGLE_DEBUG_OP_ACQUIRE)
		return TANGLE_DEBUG_HOLD_PERMITS;
	return TANGLE_DEBUG_HOLD_EXCLUSIVE;
}

static uint64_t permits_held(const tangle_session *s, uint32_t h, uint32_t obj)
{
	const ti_task *t = &s->tasks[h];
	uint64_t n = 0;
	for (uint32_t i = 0; i < t->nholds; i++)
		if (t->holds[i].obj == obj)
			n += t->holds[i].count ? t->holds[i].count : 1;
	return n;
}

struct ebuf {
	ti_edge e[TI_MAX_EDGES];
	uint32_t n;
};

static void add_arm(struct ebuf *b, uint32_t to, uint32_t obj, int kind,
                    int hard, uint32_t arm)
{
	if (to == TI_NONE || b->n >= TI_MAX_EDGES)
		return;
	for (uint32_t i = 0; i < b->n; i++)
		if (b->e[i].to == to && b->e[i].kind == kind && b->e[i].arm == arm)
			return;
	b->e[b->n++] = (ti_edge){to, obj, (uint8_t)kind, (uint8_t)hard, (uint8_t)arm};
}

static void add(struct ebuf *b, uint32_t to, uint32_t obj, int kind, int hard)
{
	add_arm(b, to, obj, kind, hard, 0);
}

static bool q_waiting(const ti_wait *w)
{
	return w->state == TANGLE_DEBUG_WAITER_WAITING && w->task != TI_NONE;
}

/* For each queued waiter: the conflicting waiter just ahead of it. */
static void queue_order(tangle_session *s)
{
	for (uint32_t i = 0; i < s->nobjs; i++) {
		ti_object *o = &s->objs[i];
		if (o->kind != TANGLE_DEBUG_OBJ_RWLOCK && o->kind != TANGLE_DEBUG_OBJ_SEM)
			continue;
		uint32_t prev = TI_NONE, prev_writer = TI_NONE;
		for (uint32_t k = 0; k < o->nq1; k++) {
			ti_wait *w = o->q1[k];
			if (!q_waiting(w))
				continue;
			if (o->kind == TANGLE_DEBUG_OBJ_RWLOCK && w->op == TANGLE_DEBUG_OP_READ)
				w->ahead = prev_writer;
			else
				w->ahead = prev;
			prev = w->task;
			if (w->op != TANGLE_DEBUG_OP_READ)
				prev_writer = w->task;
		}
	}
}

int32_t ti_task_worker(const tangle_session *s, const ti_task *t)
{
	if (t->worker >= 0 || t->rt >= s->nrts)
		return t->worker;
	/* never ran: with one worker, that is where it is queued */
	const ti_runtime *rt = &s->rts[t->rt];
	if (rt->nworkers == 1)
		return (int32_t)s->workers[rt->first_worker].index;
	return -1;
}

/* A channel waiter's edges: the other side of a full or empty channel. */
static void chan_edges(tangle_session *s, const ti_wait *w, struct ebuf *b,
                       int hard, uint32_t arm)
{
	const ti_object *o = &s->objs[w->obj];
	if (o->flags & TANGLE_DEBUG_OBJF_CLOSED)
		return;
	if (w->op == TANGLE_DEBUG_OP_SEND) {
		if (o->capacity <= 0 || o->value < o->capacity ||
		    (o->flags & TANGLE_DEBUG_OBJF_UNBOUNDED))
			return;
		for (uint32_t k = 0; k < o->nq2; k++)
			if (q_waiting(o->q2[k]))
				add_arm(b, o->q2[k]->task, w->obj, TI_E_RECEIVER, hard, arm);
		add_arm(b, ti_task_index(s, o->last_receiver), w->obj, TI_E_RECEIVER,
		        hard, arm);
	} else if (w->op == TANGLE_DEBUG_OP_RECV) {
		if (o->value > 0)
			return;
		for (uint32_t k = 0; k < o->nq1; k++)
			if (q_waiting(o->q1[k]))
				add_arm(b, o->q1[k]->task, w->obj, TI_E_SENDER, hard, arm);
		add_arm(b, ti_task_index(s, o->last_sender), w->obj, TI_E_SENDER, hard,
		        arm);
	}
}

/* The select arms of each task: waiters queued on channels that belong to
 * the task's current select (same group), in CSR by task. */
struct arms {
	uint32_t *start; /* ntasks + 1 */
	const ti_wait **w;
};

static bool is_arm(const tangle_session *s, const ti_wait *w)
{
	if (w->task == TI_NONE || w->obj == TI_NONE || !q_waiting(w) ||
	    w->kind != TANGLE_DEBUG_WAIT_CHAN)
		return false;
	const ti_task *t = &s->tasks[w->task];
	return ti_waiting(t) && ti_select_arms(t) && w->select &&
	       w->select == t->wait.select;
}

static int arms_index(tangle_session *s, struct arms *A)
{
	ti_wait **xs = s->extra_waits.data;
	size_t nx = s->extra_waits.len;
	A->start = calloc((size_t)s->ntasks + 2, sizeof(uint32_t));
	A->w = malloc((nx ? nx : 1) * sizeof(*A->w));
	if (!A->start || !A->w)
		return -1;
	for (size_t k = 0; k < nx; k++)
		if (is_arm(s, xs[k]))
			A->start[xs[k]->task + 2]++;
	for (uint32_t i = 0; i < s->ntasks; i++)
		A->start[i + 2] += A->start[i + 1];
	for (size_t k = 0; k < nx; k++)
		if (is_arm(s, xs[k]))
			A->w[A->start[xs[k]->task + 1]++] = xs[k];
	/* start[i]..start[i+1]: task i's arms. The runtime keeps one select's
	 * waiters in an array in op order: by address, arm k is op k. */
	for (uint32_t i = 0; i < s->ntasks; i++) {
		const ti_wait **w = A->w + A->start[i];
		uint32_t n = A->start[i + 1] - A->start[i];
		if (n > TI_MAX_ARMS)
			continue; /* never used: edges_of() refuses it */
		for (uint32_t a = 1; a < n; a++)
			for (uint32_t b = a; b > 0 && w[b - 1]->addr > w[b]->addr; b--) {
				const ti_wait *t = w[b];
				w[b] = w[b - 1];
				w[b - 1] = t;
			}
	}
	return 0;
}

static void edges_of(tangle_session *s, const struct arms *A, uint32_t i,
                     struct ebuf *b)
{
	const ti_task *t = &s->tasks[i];
	const ti_wait *w = &t->wait;
	int32_t worker = ti_task_worker(s, t);
	b->n = 0;
	if (t->state == TANGLE_DEBUG_TASK_RUNNABLE && worker >= 0 &&
	    t->rt < s->nrts) {
		const ti_runtime *rt = &s->rts[t->rt];
		for (uint32_t k = 0; k < rt->nworkers; k++) {
			const ti_worker *wk = &s->workers[rt->first_worker + k];
			if (wk->index == (uint32_t)worker &&
			    wk->state == TANGLE_DEBUG_WORKER_RUNNING && wk->task != i)
				add(b, wk->task, TI_NONE, TI_E_WORKER, 0);
		}
		return;
	}
	if (!ti_waiting(t))
		return;
	int hard = w->deadline == 0;
	if (w->kind == TANGLE_DEBUG_WAIT_JOIN) {
		if (w->target != TI_NONE &&
		    s->tasks[w->target].state != TANGLE_DEBUG_TASK_DONE &&
		    s->tasks[w->target].state != TANGLE_DEBUG_TASK_CANCELLED)
			add(b, w->target, TI_NONE, TI_E_JOINED, hard);
		return;
	}
	if (w->kind == TANGLE_DEBUG_WAIT_SELECT) {
		uint32_t narms = A->start[i + 1] - A->start[i];
		if (narms > ti_select_arms(t))
			return; /* more waiters than ops: not this select's */
		for (uint32_t k = 0; k < narms; k++) {
			const ti_wait *aw = A->w[A->start[i] + k];
			chan_edges(s, aw, b, aw->deadline == 0, k + 1);
		}
		return;
	}
	if (w->obj == TI_NONE)
		return;
	const ti_object *o = &s->objs[w->obj];
	switch (w->kind) {
	case TANGLE_DEBUG_WAIT_MUTEX:
	case TANGLE_DEBUG_WAIT_RWLOCK:
		for (uint32_t k = 0; k < o->nholders; k++) {
			uint32_t h = o->holders[k];
			if (w->op == TANGLE_DEBUG_OP_READ &&
			    holder_mode(s, h, w->obj) == TANGLE_DEBUG_HOLD_SHARED)
				continue;
			add(b, h, w->obj, granted_to(s, h, w->obj) ? TI_E_GRANTED : TI_E_OWNER,
			    hard);
		}
		add(b, w->ahead, w->obj, TI_E_AHEAD, hard);
		break;
	case TANGLE_DEBUG_WAIT_SEM:
		for (uint32_t k = 0; k < o->nholders; k++) {
			uint32_t h = o->holders[k];
			if (h == i && (o->capacity <= 0 ||
			               w->count + permits_held(s, i, w->obj) <= (uint64_t)o->capacity))
				continue; /* its own permits do not block it */
			add(b, h, w->obj, granted_to(s, h, w->obj) ? TI_E_GRANTED : TI_E_OWNER,
			    hard);
		}
		add(b, w->ahead, w->obj, TI_E_AHEAD, hard);
		break;
	case TANGLE_DEBUG_WAIT_CHAN:
		chan_edges(s, w, b, hard, 0);
		break;
	default:
		break;
	}
}

tangle_error *ti_graph(tangle_session *s)
{
	queue_order(s);
	free(s->edge_start);
	free(s->edges);
	s->edges = NULL;
	s->edge_start = calloc((size_t)s->ntasks + 1, sizeof(uint32_t));
	if (!s->edge_start)
		return &tangle_error_out_of_memory;
	struct ebuf *b = malloc(sizeof(*b));
	struct arms A = {0};
	ti_vec all = {0};
	if (!b || arms_index(s, &A)) {
		free(b);
		free(A.start);
		free(A.w);
		return &tangle_error_out_of_memory;
	}
	for (uint32_t i = 0; i < s->ntasks; i++) {
		edges_of(s, &A, i, b);
		s->edge_start[i] = (uint32_t)all.len;
		for (uint32_t k = 0; k < b->n; k++) {
			ti_edge *e = ti_vec_push(&all, sizeof(*e));
			if (!e) {
				free(b);
				free(A.start);
				free(A.w);
				ti_vec_free(&all);
				return &tangle_error_out_of_memory;
			}
			*e = b->e[k];
		}
	}
	s->edge_start[s->ntasks] = (uint32_t)all.len;
	s->edges = all.data;
	free(b);
	free(A.start);
	free(A.w);
	if (!s->edges) /* never NULL, so ti_edges() is always a valid pointer */
		s->edges = calloc(1, sizeof(ti_edge));
	return s->edges ? NULL : &tangle_error_out_of_memory;
}

uint32_t ti_chain(tangle_session *s, ti_arena *a, uint32_t start,
                  ti_step **out, int *cycle)
{
	ti_step steps[TI_MAX_CHAIN];
	uint32_t seen[TI_MAX_CHAIN], n = 0;
	uint32_t cur = start;
	*cycle = 0;
	while (n < TI_MAX_CHAIN) {
		ti_step *st = &steps[n];
		memset(st, 0, sizeof(*st));
		st->task = cur;
		st->obj = s->tasks[cur].wait.obj;
		seen[n++] = cur;
		uint32_t ne = ti_nedges(s, cur);
		const ti_edge *e = ti_edges(s, cur);
		if (ne == 0)
			break;
		st->edge = e[0].kind;
		if (e[0].obj != TI_NONE)
			st->obj = e[0].obj;
		uint32_t nto = ne > 16 ? 16 : ne;
		st->to = ti_alloc(a, nto * sizeof(uint32_t));
		if (!st->to)
			break;
		for (uint32_t k = 0; k < ne && st->nto < nto; k++) {
			bool dup = false;
			for (uint32_t j = 0; j < st->nto; j++)
				dup |= st->to[j] == e[k].to;
			if (!dup)
				st->to[st->nto++] = e[k].to;
		}
		/* next: back to the start closes a cycle; else the first unseen */
		uint32_t next = TI_NONE;
		for (uint32_t k = 0; k < st->nto; k++) {
			if (st->to[k] == start) {
				*cycle = 1;
				break;
			}
			bool was = false;
			for (uint32_t j = 0; j < n; j++)
				was |= seen[j] == st->to[k];
			if (!was && next == TI_NONE)
				next = st->to[k];
		}
		if (*cycle)
			break;
		if (next == TI_NONE) {
			*cycle = 2; /* it loops, but not through the start */
			break;
		}
		cur = next;
	}
	*out = ti_alloc(a, n * sizeof(ti_step));
	if (!*out)
		return 0;
	memcpy(*out, steps, n * sizeof(ti_step));
	return n;
}
