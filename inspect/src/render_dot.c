/*
 * render_dot.c — the wait-for graph in Graphviz DOT. Nodes: tasks that wait
 * on, hold or are part of something (idle tasks are left out, so a server
 * with many idle connections stays readable) and the objects they meet.
 * Edges: task -> object it waits for (labelled with the operation; a select
 * has one per op, "select send" / "select recv"), object -> task holding
 * it or that must act on it. Findings are drawn in red.
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

void ti_dot(tangle_session *s, FILE *out)
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
	fprintf(out, "digraph tangle {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n");
	for (uint32_t i = 0; i < s->ntasks; i++) {
		if (!tin[i])
			continue;
		const ti_task *t = &s->tasks[i];
		fprintf(out, "  t%" PRIu64 " [shape=box, label=\"task %" PRIu64 "\\n", t->id, t->id);
		label(out, t->name);
		fprintf(out, "\\n%s\"%s];\n", ti_task_state_name(t->state),
		        ti_task_in_findings(s, i) ? ", color=red, fontcolor=red" : "");
	}
	for (uint32_t i = 0; i < s->nobjs; i++) {
		if (!oin[i])
			continue;
		fprintf(out, "  o%u [shape=ellipse, label=\"%s\\n", i,
		        ti_obj_kind_name(s->objs[i].kind));
		label(out, s->objs[i].name);
		fprintf(out, "\"];\n");
	}
	for (uint32_t i = 0; i < s->ntasks; i++) {
		const ti_task *t = &s->tasks[i];
		const ti_edge *e = ti_edges(s, i);
		const char *red = ti_task_in_findings(s, i) ? ", color=red" : "";
		if (ti_waiting(t) && t->wait.obj != TI_NONE)
			fprintf(out, "  t%" PRIu64 " -> o%u [label=\"%s\"%s];\n", t->id,
			        t->wait.obj, ti_op_name(t->wait.op), red);
		for (uint32_t k = 0; k < ti_nedges(s, i); k++) {
			const ti_task *b = &s->tasks[e[k].to];
			bool arm = e[k].arm && e[k].obj != TI_NONE;
			if (arm && (k == 0 || e[k - 1].arm != e[k].arm)) /* one per op */
				fprintf(out, "  t%" PRIu64 " -> o%u [label=\"select %s\"%s];\n",
				        t->id, e[k].obj,
				        e[k].kind == TI_E_RECEIVER ? "send" : "recv", red);
			if (e[k].obj != TI_NONE && (e[k].obj == t->wait.obj || arm)) {
				uint64_t key = ((uint64_t)e[k].obj + 1) << 32 | e[k].to, v;
				if (ti_map_get(&drawn, key, &v))
					continue;
				ti_map_put(&drawn, key, 1);
				fprintf(out, "  o%u -> t%" PRIu64 " [label=\"%s\", style=dashed%s];\n",
				        e[k].obj, b->id, ti_edge_name(e[k].kind), red);
			} else
				fprintf(out, "  t%" PRIu64 " -> t%" PRIu64 " [label=\"%s\"%s];\n",
				        t->id, b->id, ti_edge_name(e[k].kind), red);
		}
	}
	fprintf(out, "}\n");
	ti_map_free(&drawn);
	free(tin);
	free(oin);
}
