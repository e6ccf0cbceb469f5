/*
 * cmd.c — the commands every frontend runs: argument parsing, dispatch and
 * exit status (0 no finding, 1 findings, 2 error). On an error nothing is
 * written to `out`; the error says why. tangle_session_run wraps a command
 * for frontends without a FILE * (ctypes).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

enum {
	O_JSON = 1, O_ALL = 2, O_TH = 4, O_STATE = 8, O_NAME = 16, O_LABEL = 32,
	O_GROUP = 64, O_LIMIT = 128, O_KIND = 256,
};

static tangle_error *number(const char *opt, const char *v, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long n = v && *v ? strtoull(v, &end, 10) : 0;
	if (!v || !*v || *end || errno || v[0] == '-')
		return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                        "%s wants a number, not '%s'", opt, v ? v : "");
	*out = n;
	return NULL;
}

/* Every option of every command; `value`: the next word is its value. */
static const struct {
	const char *name;
	unsigned flag;
	int value;
} known[] = {
	{"--json", O_JSON, 0}, {"--all", O_ALL, 0}, {"--group", O_GROUP, 0},
	{"--state", O_STATE, 1}, {"--name", O_NAME, 1}, {"--label", O_LABEL, 1},
	{"--limit", O_LIMIT, 1}, {"--kind", O_KIND, 1},
	{"--blocked-ms", O_TH, 1}, {"--held-ms", O_TH, 1},
	{"--granted-ms", O_TH, 1}, {"--stuck-ms", O_TH, 1},
};

int tangle_inspect_option_takes_value(const char *word)
{
	if (!word || word[0] != '-')
		return -1;
	if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0 || strchr(word, '='))
		return 0;
	for (size_t j = 0; j < sizeof(known) / sizeof(known[0]); j++)
		if (strcmp(word, known[j].name) == 0)
			return known[j].value;
	return -1;
}

static tangle_error *parse(const char *cmd, int argc, char **argv, unsigned allowed,
                           ti_opts *o)
{
	memset(o, 0, sizeof(*o));
	ti_thresholds_default(&o->th);
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (!a)
			continue;
		if (a[0] != '-' || strcmp(a, "-") == 0) {
			if (o->npos >= TI_MAX_POS)
				return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
				                        "%s: too many arguments", cmd);
			o->pos[o->npos++] = a;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			o->help = 1;
			continue;
		}
		char name[32];
		const char *val = strchr(a, '=');
		size_t n = val ? (size_t)(val - a) : strlen(a);
		snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) - 1 ? n : sizeof(name) - 1), a);
		if (val)
			val++;
		int k = -1;
		for (size_t j = 0; j < sizeof(known) / sizeof(known[0]); j++)
			if (strcmp(name, known[j].name) == 0)
				k = (int)j;
		if (k < 0 || !(known[k].flag & allowed))
			return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
			                        "%s: unknown option '%s' (try %s --help)",
			                        cmd, name, cmd);
		if (known[k].value && !val) {
			if (i + 1 >= argc || !argv[i + 1])
				return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
				                        "%s: %s needs a value", cmd, name);
			val = argv[++i];
		} else if (!known[k].value && val) {
			return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
			                        "%s: %s takes no value", cmd, name);
		}
		tangle_error *err = NULL;
		uint64_t ms = 0;
		switch (known[k].flag) {
		case O_JSON: o->json = 1; break;
		case O_ALL: o->all = 1; break;
		case O_GROUP: o->group = 1; break;
		case O_STATE: o->state = val; break;
		case O_NAME: o->name = val; break;
		case O_LABEL: o->label = val; break;
		case O_KIND: o->kind = val; break;
		case O_LIMIT: err = number(name, val, &o->limit); break;
		case O_TH:
			err = number(name, val, &ms);
			if (!err && ms > UINT64_MAX / 1000000)
				err = tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
				                       "%s: %s is too large", cmd, name);
			ms *= 1000000ull;
			if (strcmp(name, "--blocked-ms") == 0) o->th.blocked_ns = ms;
			else if (strcmp(name, "--held-ms") == 0) o->th.held_ns = ms;
			else if (strcmp(name, "--granted-ms") == 0) o->th.granted_ns = ms;
			else o->th.stuck_ns = ms;
			break;
		}
		if (err)
			return err;
	}
	return NULL;
}

static int status_of(const tangle_session *s, int only_deadlocks)
{
	for (uint32_t i = 0; i < s->nfindings; i++)
		if (!only_deadlocks || s->findings[i].kind == TI_F_DEADLOCK)
			return 1;
	return 0;
}

static tangle_error *task_arg(tangle_session *s, const char *cmd, const char *a,
                              uint32_t *out)
{
	uint64_t id = 0;
	tangle_error *bad = number(cmd, a, &id);
	if (bad) {
		tangle_error_free(bad);
		return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                        "%s: '%s' is not a task id", cmd, a);
	}
	*out = ti_task_index(s, id);
	if (*out == TI_NONE)
		return tangle_error_new(TANGLE_INSPECT_ENOTFOUND, 0,
		                        "%s: no task %" PRIu64, cmd, id);
	return NULL;
}

static int cmd_triage(tangle_session *s, const ti_opts *o, FILE *out)
{
	ti_render_opts r = {o->all, 0};
	if (o->json)
		ti_json_report(s, out, TI_JSON_TRIAGE);
	else
		ti_text_triage(s, out, &r);
	return status_of(s, 0);
}

static int cmd_deadlocks(tangle_session *s, const ti_opts *o, FILE *out)
{
	if (o->json) {
		ti_json_report(s, out, TI_JSON_DEADLOCKS);
		return status_of(s, 1);
	}
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->nfindings; i++) {
		if (s->findings[i].kind != TI_F_DEADLOCK)
			continue;
		ti_text_finding(s, out, &s->findings[i]);
		fputc('\n', out);
		n++;
	}
	fprintf(out, "%u deadlock%s among %u tasks\n", n, n == 1 ? "" : "s", s->ntasks);
	return status_of(s, 1);
}

static tangle_error *cmd_bt(tangle_session *s, const ti_opts *o, FILE *out, int *status)
{
	ti_render_opts r = {o->all, 0};
	uint32_t *ids = calloc(o->npos ? (size_t)o->npos : 1, sizeof(*ids));
	if (!ids)
		return &tangle_error_out_of_memory;
	bool all = o->npos == 0;
	for (int i = 0; i < o->npos; i++) {
		if (strcmp(o->pos[i], "all") == 0) {
			all = true;
			continue;
		}
		tangle_error *err = task_arg(s, "bt", o->pos[i], &ids[i]);
		if (err) {
			free(ids);
			return err;
		}
	}
	uint32_t n = all ? s->ntasks : (uint32_t)o->npos;
	if (o->json) {
		ti_json_head(s, out);
		fputs("  \"tasks\": [", out);
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t t = all ? i : ids[i];
		if (o->json) {
			fputs(i ? ",\n" : "\n", out);
			ti_json_bt(s, out, t, &r);
		} else {
			ti_text_bt(s, out, t, &r);
			fputc('\n', out);
		}
	}
	if (o->json) {
		fprintf(out, "%s],\n", n ? "\n  " : "");
		ti_json_tail(s, out);
	}
	free(ids);
	*status = status_of(s, 0);
	return NULL;
}

static tangle_error *cmd_why(tangle_session *s, const ti_opts *o, FILE *out, int *status)
{
	if (o->npos != 1)
		return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0, "why: needs one task id");
	uint32_t t;
	tangle_error *err = task_arg(s, "why", o->pos[0], &t);
	if (err)
		return err;
	ti_step *chain;
	int cycle;
	uint32_t n = ti_chain(s, &s->FA, t, &chain, &cycle);
	*status = 0;
	for (uint32_t i = 0; i < n; i++)
		if (ti_task_in_findings(s, chain[i].task))
			*status = 1;
	if (o->json) {
		ti_json_head(s, out);
		fputs("  \"task\": ", out);
		fprintf(out, "{\"id\": %" PRIu64 ", \"name\": ", s->tasks[t].id);
		ti_json_string(out, s->tasks[t].name);
		fprintf(out, "},\n  \"cycle\": %s,\n  \"chain\": ",
		        cycle == 1 ? "true" : "false");
		ti_json_chain(s, out, chain, n, cycle, 2);
		fputs(",\n", out);
		ti_json_tail(s, out);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++)
		ti_text_step(s, out, &chain[i], i == 0);
	if (cycle == 1)
		fprintf(out, "  (back to task %" PRIu64 ": a cycle)\n", s->tasks[t].id);
	else if (cycle == 2)
		fprintf(out, "  (the chain runs into a cycle above)\n");
	else if (n == TI_MAX_CHAIN)
		fprintf(out, "  (chain cut at %u steps)\n", TI_MAX_CHAIN);
	for (uint32_t i = 0; i < s->nfindings; i++) {
		const ti_finding *f = &s->findings[i];
		for (uint32_t k = 0; k < f->ntasks; k++)
			if (f->tasks[k] == t) {
				fprintf(out, "part of: %s  %s  [sig %s]\n", ti_kind_name(f->kind),
				        f->title, f->sig);
				break;
			}
	}
	return NULL;
}

int tangle_session_command(tangle_session *s, int argc, char **argv, FILE *out,
                           tangle_error **errp)
{
	tangle_error *err = NULL;
	int status = 0;
	if (errp)
		*errp = NULL;
	if (!s || !out || argc < 1 || !argv || !argv[0]) {
		err = tangle_error_new(TANGLE_INSPECT_EUSAGE, 0, "no command (try help)");
		goto fail;
	}
	const char *cmd = argv[0];
	static const struct { const char *name; unsigned allowed; } cmds[] = {
		{"triage", O_JSON | O_ALL | O_TH}, {"tasks", O_JSON | O_STATE | O_NAME |
		O_LABEL | O_GROUP | O_LIMIT | O_TH}, {"bt", O_JSON | O_ALL | O_TH},
		{"locks", O_JSON | O_KIND | O_TH}, {"why", O_JSON | O_TH},
		{"deadlocks", O_JSON | O_TH}, {"graph", O_JSON | O_TH}, {"help", 0},
	};
	unsigned allowed = 0;
	bool found = false;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, cmd) == 0) {
			allowed = cmds[i].allowed;
			found = true;
		}
	if (!found) {
		err = tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                       "unknown command '%s' (try help)", cmd);
		goto fail;
	}
	ti_opts o;
	err = parse(cmd, argc, argv, allowed, &o);
	if (err)
		goto fail;
	if (o.help) {
		fputs(tangle_inspect_usage(cmd), out);
		return 0;
	}
	if (strcmp(cmd, "help") == 0) {
		const char *u = ti_usage_find(o.npos ? o.pos[0] : NULL);
		if (!u) {
			err = tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
			                       "help: unknown command '%s'", o.pos[0]);
			goto fail;
		}
		fputs(u, out);
		return 0;
	}
	if (o.npos && strcmp(cmd, "bt") != 0 && strcmp(cmd, "why") != 0) {
		err = tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                       "%s: unexpected argument '%s'", cmd, o.pos[0]);
		goto fail;
	}
	err = ti_analyze(s, &o.th);
	if (err)
		goto fail;
	if (strcmp(cmd, "triage") == 0)
		return cmd_triage(s, &o, out);
	if (strcmp(cmd, "deadlocks") == 0)
		return cmd_deadlocks(s, &o, out);
	if (strcmp(cmd, "graph") == 0) {
		if (o.json)
			ti_json_graph(s, out);
		else
			ti_dot(s, out);
		return status_of(s, 0);
	}
	if (strcmp(cmd, "bt") == 0)
		err = cmd_bt(s, &o, out, &status);
	else if (strcmp(cmd, "why") == 0)
		err = cmd_why(s, &o, out, &status);
	else if (strcmp(cmd, "tasks") == 0)
		err = ti_cmd_tasks(s, &o, out, &status);
	else
		err = ti_cmd_locks(s, &o, out, &status);
	if (err)
		goto fail;
	return status;
fail:
	if (errp)
		*errp = err;
	else
		tangle_error_free(err);
	return 2;
}

char *tangle_session_run(tangle_session *s, int argc, char **argv, int *status)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (!out) {
		if (status)
			*status = 2;
		return strdup("out of memory");
	}
	tangle_error *err = NULL;
	int st = tangle_session_command(s, argc, argv, out, &err);
	fclose(out);
	if (st == 2) {
		free(buf);
		buf = strdup(err ? err->message : "error");
		tangle_error_free(err);
	}
	if (status)
		*status = st;
	return buf;
}
