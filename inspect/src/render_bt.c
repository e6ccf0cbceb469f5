/*
 * render_bt.c — async backtraces: one task's header (state, duration,
 * parent, spawn site, labels, spans) and its frames from the frontend's
 * unwinder — a suspended task from its saved context, a running task from
 * its worker thread. The runtime's own frames (functions tangle_*, files
 * under runtime/src/) are trimmed unless asked; the frame where the task
 * waits is marked with what it waits for. Without an unwinder, the wait
 * site stands in for the frames. Text and JSON (`bt --json`) come from the
 * same unwinding, trimming and marking.
 */
#include <inttypes.h>
#include <string.h>

#include "ti.h"

#define TI_BT_FRAMES 64

int tangle_inspect_runtime_frame(const char *function, const char *file)
{
	return (function && strncmp(function, "tangle_", 7) == 0) ||
	       (file && strstr(file, "runtime/src/") != NULL);
}

static bool runtime_frame(const tangle_frame *f)
{
	return tangle_inspect_runtime_frame(f->function, f->file);
}

/* "mutex "ledger"", "send on channel "jobs"", "sleep"... */
static void awaiting(const tangle_session *s, const ti_task *t, char *buf, size_t len)
{
	const ti_wait *w = &t->wait;
	char o[128];
	ti_fmt_obj(o, sizeof(o), s, w->obj);
	switch (w->kind) {
	case TANGLE_DEBUG_WAIT_MUTEX:
	case TANGLE_DEBUG_WAIT_NOTIFY:
		snprintf(buf, len, "%s", o);
		break;
	case TANGLE_DEBUG_WAIT_RWLOCK:
		snprintf(buf, len, "%s %s", w->op == TANGLE_DEBUG_OP_READ ?
		         "read-lock" : "write-lock", o);
		break;
	case TANGLE_DEBUG_WAIT_SEM:
		snprintf(buf, len, "%u permit%s of %s", w->count, w->count == 1 ? "" : "s", o);
		break;
	case TANGLE_DEBUG_WAIT_CHAN:
		snprintf(buf, len, "%s %s", w->op == TANGLE_DEBUG_OP_SEND ? "send on" :
		         "receive from", o);
		break;
	case TANGLE_DEBUG_WAIT_JOIN:
		if (w->target != TI_NONE)
			snprintf(buf, len, "join task %" PRIu64 " \"%s\"",
			         s->tasks[w->target].id, s->tasks[w->target].name);
		else
			snprintf(buf, len, "join");
		break;
	case TANGLE_DEBUG_WAIT_IO:
		snprintf(buf, len, "I/O on fd %u", w->count);
		break;
	case TANGLE_DEBUG_WAIT_PARK:
		snprintf(buf, len, "park \"%s\"", w->what ? w->what : "");
		break;
	case TANGLE_DEBUG_WAIT_BLOCKING:
		snprintf(buf, len, "a blocking call");
		break;
	default:
		snprintf(buf, len, "%s", ti_wait_kind_name(w->kind));
	}
}

static void header(tangle_session *s, FILE *out, const ti_task *t)
{
	char d[32], site[160];
	uint64_t since = 0;
	if (t->state == TANGLE_DEBUG_TASK_WAITING)
		since = t->wait.since;
	else if (t->state == TANGLE_DEBUG_TASK_RUNNING)
		since = t->last_ran_at;
	else if (t->state == TANGLE_DEBUG_TASK_RUNNABLE)
		since = t->woken_at;
	else
		since = t->finished_at;
	for (uint32_t k = 0; k < s->nworkers && t->state == TANGLE_DEBUG_TASK_RUNNING; k++)
		if (s->workers[k].task == (uint32_t)(t - s->tasks) && s->workers[k].running_since)
			since = s->workers[k].running_since;
	fprintf(out, "task %" PRIu64 " \"%s\"  %s", t->id, t->name,
	        ti_task_state_name(t->state));
	if (since) {
		ti_fmt_dur(d, sizeof(d), ti_age(s, since));
		fprintf(out, " %s", d);
	}
	ti_fmt_site(site, sizeof(site), t->spawn_site);
	if (t->parent_id)
		fprintf(out, "  spawned by task %" PRIu64, t->parent_id);
	else if (*site)
		fprintf(out, "  spawned");
	if (*site)
		fprintf(out, " at %s", site);
	fputc('\n', out);
	if (t->nlabels) {
		fprintf(out, "  labels:");
		for (uint32_t i = 0; i < t->nlabels; i++)
			fprintf(out, " %s=%s", t->labels[i].key, t->labels[i].value);
		fputc('\n', out);
	}
	if (t->nspans) {
		fprintf(out, "  spans:");
		for (uint32_t i = 0; i < t->nspans; i++)
			fprintf(out, "%s%s", i ? " > " : " ", t->spans[i].name);
		if (t->span_depth > t->nspans)
			fprintf(out, " > ... (%u deeper)", t->span_depth - t->nspans);
		ti_fmt_dur(d, sizeof(d), ti_age(s, t->spans[t->nspans - 1].entered_at));
		fprintf(out, "  (innermost entered %s ago)\n", d);
	}
	for (uint32_t i = 0; i < t->nholds; i++) {
		const ti_hold *h = &t->holds[i];
		char o[128];
		ti_fmt_obj(o, sizeof(o), s, h->obj);
		ti_fmt_dur(d, sizeof(d), ti_age(s, h->since));
		ti_fmt_site(site, sizeof(site), h->site);
		fprintf(out, "  holds %s (%s", o, ti_hold_mode_name(h->mode));
		if (h->mode == TANGLE_DEBUG_HOLD_PERMITS)
			fprintf(out, " %u", h->count);
		fprintf(out, ") for %s%s%s\n", d, *site ? " at " : "", site);
	}
	if (t->hold_overflow)
		fprintf(out, "  holds %u more not recorded\n", t->hold_overflow);
}

static void frames(FILE *out, tangle_frame *fr, int n, const ti_render_opts *o,
                   const char *fn, const char *mark);

/* At most TI_BT_FRAMES frames, with the frontend's strings terminated. */
static int terminate(tangle_frame *fr, int n)
{
	if (n > TI_BT_FRAMES)
		n = TI_BT_FRAMES;
	for (int i = 0; i < n; i++) {
		fr[i].function[sizeof(fr[i].function) - 1] = 0;
		fr[i].file[sizeof(fr[i].file) - 1] = 0;
	}
	return n;
}

void ti_text_worker(tangle_session *s, FILE *out, uint32_t wi, const ti_render_opts *o)
{
	const ti_worker *w = &s->workers[wi];
	tangle_frame fr[TI_BT_FRAMES];
	int n = -1;
	fprintf(out, "worker %u (tid %u)  %s\n", w->index, w->tid,
	        ti_worker_state_name(w->state));
	if (s->uw && s->uw->thread)
		n = s->uw->thread(s->uw->ctx, w->tid, fr, TI_BT_FRAMES);
	if (n <= 0)
		fprintf(out, "  (%s: frames not shown)\n",
		        s->uw ? "its thread cannot be unwound" : "no unwinder");
	else
		frames(out, fr, terminate(fr, n), o, "", "");
}

/* "<- awaiting ..." for a waiting task, "" otherwise. */
static void mark_of(const tangle_session *s, const ti_task *t, char *mark, size_t len)
{
	mark[0] = 0;
	if (t->state == TANGLE_DEBUG_TASK_WAITING && t->wait.kind != TANGLE_DEBUG_WAIT_NONE)
		awaiting(s, t, mark, len);
}

/* The frames of task ti from the frontend's unwinder, innermost first:
 * from its saved context when suspended, from its worker thread when
 * running. Returns how many (<= TI_BT_FRAMES), or <= 0 with *why set;
 * *tid is the thread's id for a running task, else 0. */
static int unwind(tangle_session *s, uint32_t ti, tangle_frame *buf, const char **why,
                  uint32_t *tid)
{
	const ti_task *t = &s->tasks[ti];
	int n = -1;
	*why = "no unwinder";
	*tid = 0;
	if (s->uw && t->state == TANGLE_DEBUG_TASK_RUNNING) {
		for (uint32_t k = 0; k < s->nworkers; k++)
			if (s->workers[k].task == ti)
				*tid = s->workers[k].tid;
		*why = "its worker thread cannot be unwound";
		if (*tid && s->uw->thread)
			n = s->uw->thread(s->uw->ctx, *tid, buf, TI_BT_FRAMES);
	} else if (s->uw && s->uw->task) {
		tangle_context ctx;
		*why = "no saved context";
		if (ti_task_context(s, ti, &ctx) == 0) {
			*why = "cannot unwind its stack";
			n = s->uw->task(s->uw->ctx, &ctx, buf, TI_BT_FRAMES);
		}
	}
	return terminate(buf, n);
}

/* The frame where the task waits: the wait site's function, else the
 * first one kept; -1 when it does not wait. */
static int marked_frame(const tangle_frame *fr, int n, const ti_render_opts *o,
                        const char *fn, const char *mark)
{
	if (!*mark)
		return -1;
	for (int i = 0; i < n; i++)
		if (*fn && strcmp(fr[i].function, fn) == 0)
			return i;
	for (int i = 0; i < n; i++)
		if (o->all_frames || !runtime_frame(&fr[i]))
			return i;
	return -1;
}

void ti_text_bt(tangle_session *s, FILE *out, uint32_t ti, const ti_render_opts *o)
{
	const ti_task *t = &s->tasks[ti];
	header(s, out, t);
	char a[180], mark[200] = "";
	mark_of(s, t, a, sizeof(a));
	if (*a)
		snprintf(mark, sizeof(mark), "<- awaiting %s", a);
	tangle_frame frames_buf[TI_BT_FRAMES];
	const char *why;
	uint32_t tid;
	int n = unwind(s, ti, frames_buf, &why, &tid);
	if (n <= 0) {
		char site[160];
		ti_fmt_site(site, sizeof(site), t->wait.site);
		if (t->state == TANGLE_DEBUG_TASK_WAITING && *site)
			fprintf(out, "  at %s  %s  (%s: frames not shown)\n", site, mark, why);
		else if (t->state == TANGLE_DEBUG_TASK_WAITING ||
		         t->state == TANGLE_DEBUG_TASK_RUNNING ||
		         t->state == TANGLE_DEBUG_TASK_RUNNABLE)
			fprintf(out, "  (%s: frames not shown)\n", why);
		return;
	}
	frames(out, frames_buf, n, o, t->wait.site ? t->wait.site->function : "", mark);
}

void ti_json_bt(tangle_session *s, FILE *out, uint32_t ti, const ti_render_opts *o)
{
	const ti_task *t = &s->tasks[ti];
	char a[180];
	mark_of(s, t, a, sizeof(a));
	tangle_frame fr[TI_BT_FRAMES];
	const char *why;
	uint32_t tid;
	int n = unwind(s, ti, fr, &why, &tid);
	ti_json_task_open(s, out, ti, 4);
	if (n <= 0) {
		fputs(", \"frames_from\": null, \"tid\": null, \"frames_error\": ", out);
		ti_json_string(out, why);
		fputs(", \"frames\": [], \"runtime_frames\": 0}", out);
		return;
	}
	fprintf(out, ", \"frames_from\": \"%s\", \"tid\": ", tid ? "thread" : "context");
	if (tid)
		fprintf(out, "%u", tid);
	else
		fputs("null", out);
	fputs(", \"frames_error\": null, \"frames\": [", out);
	int marked = marked_frame(fr, n, o, t->wait.site ? t->wait.site->function : "", a);
	int num = 0, hidden = 0;
	for (int i = 0; i < n; i++) {
		const tangle_frame *f = &fr[i];
		if (!o->all_frames && runtime_frame(f)) {
			hidden++;
			continue;
		}
		fprintf(out, "%s\n      {\"index\": %d, \"function\": ", num ? "," : "", num);
		num++;
		if (*f->function)
			ti_json_string(out, f->function);
		else
			fputs("null", out);
		fputs(", \"file\": ", out);
		if (*f->file)
			ti_json_string(out, f->file);
		else
			fputs("null", out);
		fprintf(out, ", \"line\": %u, \"inlined\": %s, \"pc\": \"0x%" PRIx64 "\", "
		        "\"awaiting\": ", f->line, f->inlined ? "true" : "false", f->pc);
		if (i == marked)
			ti_json_string(out, a);
		else
			fputs("null", out);
		fputc('}', out);
	}
	fprintf(out, "%s], \"runtime_frames\": %d}", num ? "\n    " : "", hidden);
}

static void frames(FILE *out, tangle_frame *fr, int n, const ti_render_opts *o,
                   const char *fn, const char *mark)
{
	int marked = marked_frame(fr, n, o, fn, mark);
	int num = 0;
	for (int i = 0; i < n; i++) {
		tangle_frame *f = &fr[i];
		if (!o->all_frames && runtime_frame(f))
			continue;
		fprintf(out, "  #%d ", num++);
		if (*f->function)
			fprintf(out, "%s", f->function);
		else
			fprintf(out, "0x%" PRIx64, f->pc);
		if (*f->file)
			fprintf(out, " at %s:%u", ti_basename(f->file), f->line);
		if (f->inlined)
			fprintf(out, " (inlined)");
		if (i == marked)
			fprintf(out, "      %s", mark);
		fputc('\n', out);
	}
	if (num == 0)
		fprintf(out, "  (only runtime frames; --all shows them)\n");
}
