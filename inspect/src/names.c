/*
 * names.c — how enum values, durations, sites and waits are spelled in
 * every output. One place, so text, JSON and DOT agree.
 */
#include <inttypes.h>
#include <string.h>

#include "ti.h"

#define NAME(tab, i) \
	((i) >= 0 && (size_t)(i) < sizeof(tab) / sizeof(tab[0]) && tab[i] ? tab[i] : "unknown")

const char *ti_task_state_name(int state)
{
	static const char *const n[] = {"free", "runnable", "running",
	                                "waiting", "done", "cancelled"};
	return NAME(n, state);
}

const char *ti_wait_kind_name(int kind)
{
	static const char *const n[] = {"none", "mutex", "rwlock", "semaphore",
	                                "channel", "notify", "join", "sleep",
	                                "io", "blocking", "park", "select",
	                                "yield"};
	return NAME(n, kind);
}

const char *ti_obj_kind_name(int kind)
{
	static const char *const n[] = {"none", "mutex", "rwlock", "semaphore",
	                                "channel", "notify", "task"};
	return NAME(n, kind);
}

const char *ti_op_name(int op)
{
	static const char *const n[] = {"none", "lock", "read", "write",
	                                "acquire", "send", "recv", "wait",
	                                "join", "sleep", "io-read", "io-write",
	                                "io-rw", "call", "park", "select",
	                                "yield"};
	return NAME(n, op);
}

const char *ti_waiter_state_name(int state)
{
	static const char *const n[] = {"none", "waiting", "granted",
	                                "timedout", "cancelled", "closed",
	                                "woken"};
	return NAME(n, state);
}

const char *ti_worker_state_name(int state)
{
	static const char *const n[] = {"starting", "running", "searching",
	                                "idle", "polling", "stopped"};
	return NAME(n, state);
}

const char *ti_hold_mode_name(int mode)
{
	static const char *const n[] = {"none", "exclusive", "shared",
	                                "permits"};
	return NAME(n, mode);
}

const char *ti_edge_name(int edge)
{
	static const char *const n[] = {"none", "owner", "granted", "ahead",
	                                "receiver", "sender", "joined",
	                                "worker"};
	return NAME(n, edge);
}

void ti_fmt_dur(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000000ull)
		snprintf(buf, len, "%" PRIu64 "us", ns / 1000);
	else if (ns < 1000000000ull)
		snprintf(buf, len, "%" PRIu64 "ms", ns / 1000000);
	else if (ns < 60000000000ull)
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "s", ns / 1000000000,
		         ns / 100000000 % 10);
	else if (ns < 3600000000000ull)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s",
		         (uint64_t)(ns / 60000000000ull), (uint64_t)(ns / 1000000000 % 60));
	else
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m",
		         (uint64_t)(ns / 3600000000000ull), (uint64_t)(ns / 60000000000ull % 60));
}

uint64_t ti_age(const tangle_session *s, uint64_t t)
{
	if (!t || t >= s->now)
		return 0;
	return s->now - t;
}

const char *ti_basename(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

/* Frontends name a target "CORE (EXE)", "CORE" or "pid N", with paths that
 * differ between them; JSON keeps base names only: "core (prog)". */
void ti_fmt_target(char *buf, size_t len, const char *target)
{
	size_t n = strlen(target);
	const char *open = n && target[n - 1] == ')' ? strstr(target, " (") : NULL;
	if (!open) {
		snprintf(buf, len, "%s", ti_basename(target));
		return;
	}
	char core[512], exe[512];
	snprintf(core, sizeof(core), "%.*s", (int)(open - target), target);
	snprintf(exe, sizeof(exe), "%.*s", (int)(n - (size_t)(open - target) - 3),
	         open + 2);
	snprintf(buf, len, "%s (%s)", ti_basename(core), ti_basename(exe));
}

void ti_fmt_site(char *buf, size_t len, const ti_site *site)
{
	buf[0] = 0;
	if (!site)
		return;
	const char *file = ti_basename(site->file);
	if (*file && strcmp(file, site->function) == 0)
		file = ""; /* a site named after a function, not a file */
	char line[16] = "";
	if (site->line)
		snprintf(line, sizeof(line), ":%u", site->line);
	if (*file && *site->function)
		snprintf(buf, len, "%s%s %s", file, line, site->function);
	else if (*file)
		snprintf(buf, len, "%s%s", file, line);
	else if (*site->function)
		snprintf(buf, len, "%s", site->function);
}

void ti_fmt_obj(char *buf, size_t len, const tangle_session *s, uint32_t obj)
{
	if (obj == TI_NONE) {
		snprintf(buf, len, "?");
		return;
	}
	const ti_object *o = &s->objs[obj];
	if (*o->name)
		snprintf(buf, len, "%s \"%s\"", ti_obj_kind_name(o->kind), o->name);
	else
		snprintf(buf, len, "%s at 0x%" PRIx64, ti_obj_kind_name(o->kind),
		         o->addr);
}

void ti_fmt_wait(char *buf, size_t len, const tangle_session *s,
                 const ti_task *t)
{
	buf[0] = 0;
	const ti_wait *w = &t->wait;
	if (t->state != TANGLE_DEBUG_TASK_WAITING || w->kind == TANGLE_DEBUG_WAIT_NONE)
		return;
	char what[128] = "";
	switch (w->kind) {
	case TANGLE_DEBUG_WAIT_JOIN:
		if (w->target != TI_NONE)
			snprintf(what, sizeof(what), "join task %" PRIu64 " \"%s\"",
			         s->tasks[w->target].id, s->tasks[w->target].name);
		else
			snprintf(what, sizeof(what), "join task at 0x%" PRIx64,
			         w->object);
		break;
	case TANGLE_DEBUG_WAIT_SLEEP:
		snprintf(what, sizeof(what), "sleep");
		break;
	case TANGLE_DEBUG_WAIT_IO:
		snprintf(what, sizeof(what), "%s fd %u", ti_op_name(w->op), w->count);
		break;
	case TANGLE_DEBUG_WAIT_BLOCKING:
		snprintf(what, sizeof(what), "blocking call");
		break;
	case TANGLE_DEBUG_WAIT_PARK:
		snprintf(what, sizeof(what), "park \"%s\"", w->what ? w->what : "");
		break;
	case TANGLE_DEBUG_WAIT_SELECT:
		snprintf(what, sizeof(what), "select");
		break;
	case TANGLE_DEBUG_WAIT_YIELD:
		snprintf(what, sizeof(what), "yield");
		break;
	default: {
		char o[96];
		ti_fmt_obj(o, sizeof(o), s, w->obj);
		snprintf(what, sizeof(what), "%s %s", ti_op_name(w->op), o);
	}
	}
	const char *st = w->state == TANGLE_DEBUG_WAITER_WAITING ? "" :
	                 ti_waiter_state_name(w->state);
	snprintf(buf, len, "%s%s%s", what, *st ? " " : "", *st ? st : "");
}

const char *ti_fit(char *buf, size_t len, const char *src, int width)
{
	size_t n = strlen(src);
	if (width <= 0 || len == 0)
		return "";
	if (n <= (size_t)width) {
		snprintf(buf, len, "%s", src);
		return buf;
	}
	snprintf(buf, len, "%.*s~", width - 1, src);
	return buf;
}
