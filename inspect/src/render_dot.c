/*
 * render_dot.c — the wait-for graph in Graphviz DOT. Nodes: tasks that wait
 * on, hold or are part of something (idle tasks are left out, so a server
 * with many idle connections stays readable) and the objects they meet.
 * Edges: task -> object it waits for (labelled with the operation; a select
 * has one per op, "select send" / "select recv"), object -> task holding
 * it or that must act on it. Findings are drawn in red. `graph --json`
 * writes the same nodes and edges as JSON (docs/json.md).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "ti.h"

static void label(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
}

/* One graph, two spellings: DOT, or JSON nodes and edges (graph --json). */
struct gout {
	tangle_session *s;
	FILE *out;
	int json;
	uint32_t n;      /* items written in the current JSON array */
};

static void node_task(struct gout *g, uint32_t i)
{
	const ti_task *t = &g->s->tasks[i];
	bool red = ti_task_in_findings(g->s, i);
	if (!g->json) {
		fprintf(g->out, "  t%" PRIu64 " [shape=box, label=\"task %" PRIu64 "\\n",
		        t->id, t->id);
		label(g->out, t->name);
		fprintf(g->out, "\\n%s\"%s];\n", ti_task_state_name(t->state),
		        red ? ", color=red, fontcolor=red" : "");
		return;
	}
	fprintf(g->out, "%s\n    {\"id\": \"t%" PRIu64 "\", \"type\": \"task\", "
	        "\"task\": {\"id\": %" PRIu64 ", \"name\": ", g->n++ ? "," : "", t->id, t->id);
	ti_json_string(g->out, t->name);
	fprintf(g->out, "}, \"object\": null, \"state\": \"%s\", \"finding\": %s}",
	        ti_task_state_name(t->state), red ? "true" : "false");
}

static void node_obj(struct gout *g, uint32_t i)
{
	const ti_object *o = &g->s->objs[i];
	if (!g->json) {
		fprintf(g->out, "  o%u [shape=ellipse, label=\"%s\\n", i,
		        ti_obj_kind_name(o->kind));
		label(g->out, o->name);
		fprintf(g->out, "\"];\n");
		return;
	}
	fprintf(g->out, "%s\n    {\"id\": \"o%u\", \"type\": \"object\", \"task\": null, "
	        "\"object\": {\"kind\": \"%s\", \"name\": ", g->n++ ? "," : "", i,
	        ti_obj_kind_name(o->kind));
	ti_json_string(g->out, o->name);
	fprintf(g->out, ", \"address\": \"0x%" PRIx64 "\"}, \"state\": null, "
	        "\"finding\": false}", o->addr);
}

/* from/to: 't' + task id or 'o' + object index; dashed: object -> task. */
static void edge(struct gout *g, char fk, uint64_t from, char tk, uint64_t to,
                 const char *what, const char *what2, bool red)
{
	if (!g->json) {
		fprintf(g->out, "  %c%" PRIu64 " -> %c%" PRIu64 " [label=\"%s%s\"%s%s];\n",
		        fk, from, tk, to, what, what2, fk == 'o' ? ", style=dashed" : "",
		        red ? ", color=red" : "");
		return;
	}
	fprintf(g->out, "%s\n    {\"from\": \"%c%" PRIu64 "\", \"to\": \"%c%" PRIu64 "\", "
	        "\"label\": \"%s%s\", \"finding\": %s}", g->n++ ? "," : "", fk, from, tk,
	        to, what, what2, red ? "true" : "false");
}

static void graph(tangle_session *s, FILE *out, int json)
{
	uint8_t *tin = calloc(s->ntasks ? s->ntasks : 1, 1);
	uint8_t *oin = calloc(s->nobjs ? s->nobjs : 1, 1);
	if (!tin || !oin) {
		free(tin);
		free(oin);
		return;
	}
	for (uint32_t i = 0; i < s->ntasks; i++) {
		if (ti_nedges(s, i) || s->tasks[i].nholds || ti_task_in_findings(s, i))
			tin[i] = 1;
		const ti_edge *e = ti_edges(s, i);
		for (uint32_t k = 0; k < ti_nedges(s, i); k++) {
			tin[e[k].to] = 1;
			if (e[k].obj != TI_NONE)
				oin[e[k].obj] = 1;
		}
		for (uint32_t h = 0; h < s->tasks[i].nholds; h++)
			if (s->tasks[i].holds[h].obj != TI_NONE)
				oin[s->tasks[i].holds[h].obj] = 1;
	}
	ti_map drawn = {0}; /* (object, holder) edges already drawn */
	struct gout g = {s, out, json, 0};
	if (json) {
		ti_json_head(s, out);
		fputs("  \"nodes\": [", out);
	} else {
		fprintf(out, "digraph tangle {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n");
	}
	for (uint32_t i = 0; i < s->ntasks; i++)
		if (tin[i])
			node_task(&g, i);
	for (uint32_t i = 0; i < s->nobjs; i++)
		if (oin[i])
			node_obj(&g, i);
	if (json) {
		fprintf(out, "%s],\n  \"edges\": [", g.n ? "\n  " : "");
		g.n = 0;
	}
	for (uint32_t i = 0; i < s->ntasks; i++) {
		const ti_task *t = &s->tasks[i];
		const ti_edge *e = ti_edges(s, i);
		bool red = ti_task_in_findings(s, i);
		if (ti_waiting(t) && t->wait.obj != TI_NONE)
			edge(&g, 't', t->id, 'o', t->wait.obj, ti_op_name(t->wait.op), "", red);
		for (uint32_t k = 0; k < ti_nedges(s, i); k++) {
			const ti_task *b = &s->tasks[e[k].to];
			bool arm = e[k].arm && e[k].obj != TI_NONE;
			if (arm && (k == 0 || e[k - 1].arm != e[k].arm)) /* one per op */
				edge(&g, 't', t->id, 'o', e[k].obj, "select ",
				     e[k].kind == TI_E_RECEIVER ? "send" : "recv", red);
			if (e[k].obj != TI_NONE && (e[k].obj == t->wait.obj || arm)) {
				uint64_t key = ((uint64_t)e[k].obj + 1) << 32 | e[k].to, v;
				if (ti_map_get(&drawn, key, &v))
					continue;
				ti_map_put(&drawn, key, 1);
				edge(&g, 'o', e[k].obj, 't', b->id, ti_edge_name(e[k].kind), "", red);
			} else {
				edge(&g, 't', t->id, 't', b->id, ti_edge_name(e[k].kind), "", red);
			}
		}
	}
	if (json) {
		fprintf(out, "%s],\n", g.n ? "\n  " : "");
		ti_json_tail(s, out);
	} else {
		fprintf(out, "}\n");
	}
	ti_map_free(&drawn);
	free(tin);
	free(oin);
}

void ti_dot(tangle_session *s, FILE *out)
{
	graph(s, out, 0);
}

void ti_json_graph(tangle_session *s, FILE *out)
{
	graph(s, out, 1);
}
