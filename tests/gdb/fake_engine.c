/*
 * fake_engine.c — a stand-in for libtangle-inspect over toy_tasks (the
 * hand-made tasks of toy_tasks.c), implementing just enough of
 * tangle_inspect.h to test the gdb frontend's side of the contract on its
 * own: the reader (bulk reads, short reads, symbol lookup), the unwinder
 * callbacks (task frames through gdb's unwinding, thread frames by tid),
 * "now", and the task list, describe and run entry points.
 *
 * Commands: tasks, bt [ID...|all], read ADDR LEN (how many bytes the reader
 * returned), thread TID, now, fail (status 2), help.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TANGLE_INSPECT_BUILDING
#include "tangle_inspect.h"

struct tangle_session {
	tangle_reader reader;
	tangle_unwinder unwinder;
	tangle_session_options options;
	uint64_t toy_tasks;
	tangle_task_info tasks[2];
	size_t count;
};

tangle_error tangle_error_out_of_memory = {TANGLE_INSPECT_ENOMEM, 0,
                                           (char *)"out of memory"};

tangle_error *tangle_error_new(int code, uint64_t address, const char *fmt,
                               ...)
{
	tangle_error *e = calloc(1, sizeof(*e));
	va_list ap;
	if (!e)
		return &tangle_error_out_of_memory;
	e->code = code;
	e->address = address;
	va_start(ap, fmt);
	if (vasprintf(&e->message, fmt, ap) < 0)
		e->message = NULL;
	va_end(ap);
	return e;
}

void tangle_error_free(tangle_error *e)
{
	if (e && e != &tangle_error_out_of_memory) {
		free(e->message);
		free(e);
	}
}

void tangle_inspect_free(void *p) { free(p); }

const char *tangle_inspect_usage(const char *command)
{
	if (command && strcmp(command, "tasks") == 0)
		return "usage: tasks [--state STATE]\n  fake tasks usage\n";
	return "usage: fake engine commands: tasks bt read thread now fail\n";
}

static uint64_t rd64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

tangle_error *tangle_session_open(const tangle_reader *reader,
                                  const tangle_unwinder *unwinder,
                                  const tangle_session_options *options,
                                  tangle_session **out)
{
	uint64_t addr;
	unsigned char raw[2][24];
	if (!reader->lookup || reader->lookup(reader->ctx, "toy_tasks", &addr))
		return tangle_error_new(TANGLE_INSPECT_ENOTABLE, 0,
		                        "fake: no toy_tasks in this program");
	if (reader->read(reader->ctx, addr, raw, sizeof(raw)) != sizeof(raw))
		return tangle_error_new(TANGLE_INSPECT_EREAD, addr,
		                        "fake: cannot read toy_tasks");
	tangle_session *s = calloc(1, sizeof(*s));
	if (!s)
		return &tangle_error_out_of_memory;
	s->reader = *reader;
	if (unwinder)
		s->unwinder = *unwinder;
	s->options = *options;
	s->toy_tasks = addr;
	for (int i = 0; i < 2; i++) {
		tangle_task_info *t = &s->tasks[s->count++];
		uint64_t sp = rd64(raw[i]), name = rd64(raw[i] + 16);
		unsigned char ctx[7 * 8];
		static const uint16_t regs[6] = {15, 14, 13, 12, 3, 6};
		t->id = (uint64_t)(uint32_t)rd64(raw[i] + 8);
		t->address = addr + 24 * (uint64_t)i;
		t->state = 3;
		t->suspended = 1;
		snprintf(t->wait, sizeof(t->wait), "toy wait %d", i);
		reader->read(reader->ctx, name, t->name, sizeof(t->name) - 1);
		if (reader->read(reader->ctx, sp, ctx, sizeof(ctx)) != sizeof(ctx))
			continue;
		t->context.arch = 62;
		t->context.count = 6;
		for (int r = 0; r < 6; r++) {
			t->context.regs[r].dwarf = regs[r];
			t->context.regs[r].value = rd64(ctx + 8 * r);
		}
		t->context.pc = rd64(ctx + 48);
		t->context.sp = sp + 56;
		t->context.saved_sp = sp;
	}
	*out = s;
	return NULL;
}

void tangle_session_free(tangle_session *s) { free(s); }

size_t tangle_session_task_count(const tangle_session *s) { return s->count; }

int tangle_session_task_at(const tangle_session *s, size_t i,
                           tangle_task_info *out)
{
	if (i >= s->count)
		return -1;
	*out = s->tasks[i];
	return 0;
}

int tangle_session_task_by_id(const tangle_session *s, uint64_t id,
                              tangle_task_info *out)
{
	for (size_t i = 0; i < s->count; i++)
		if (s->tasks[i].id == id) {
			*out = s->tasks[i];
			return 0;
		}
	return -1;
}

int tangle_session_describe(const tangle_session *s, uint64_t address,
                            char *buf, size_t len)
{
	for (size_t i = 0; i < s->count; i++)
		if (s->tasks[i].address == address) {
			snprintf(buf, len, "task %" PRIu64 " \"%s\" waiting: %s",
			         s->tasks[i].id, s->tasks[i].name, s->tasks[i].wait);
			return 0;
		}
	if (len)
		buf[0] = 0;
	return -1;
}

static void print_frames(FILE *f, const tangle_frame *fr, int n)
{
	for (int i = 0; i < n; i++) {
		const char *base = strrchr(fr[i].file, '/');
		fprintf(f, "  #%d %s at %s:%u%s\n", i, fr[i].function,
		        base ? base + 1 : fr[i].file, fr[i].line,
		        fr[i].inlined ? " (inlined)" : "");
	}
}

static int run(tangle_session *s, int argc, char **argv, FILE *f)
{
	tangle_frame fr[32];
	if (argc < 1 || strcmp(argv[0], "help") == 0) {
		fputs(tangle_inspect_usage(NULL), f);
		return 0;
	}
	if (strcmp(argv[0], "tasks") == 0) {
		for (size_t i = 0; i < s->count; i++)
			fprintf(f, "%" PRIu64 " %s %s\n", s->tasks[i].id,
			        s->tasks[i].name, s->tasks[i].wait);
		return 0;
	}
	if (strcmp(argv[0], "bt") == 0) {
		for (size_t i = 0; i < s->count; i++) {
			int n = s->unwinder.task ? s->unwinder.task(
				s->unwinder.ctx, &s->tasks[i].context, fr, 32) : -1;
			fprintf(f, "task %" PRIu64 " \"%s\": %d frames\n",
			        s->tasks[i].id, s->tasks[i].name, n);
			print_frames(f, fr, n);
		}
		return 1;
	}
	if (strcmp(argv[0], "thread") == 0 && argc == 2) {
		int n = s->unwinder.thread(s->unwinder.ctx,
		                           (uint32_t)strtoul(argv[1], NULL, 0), fr, 32);
		fprintf(f, "thread %s: %d frames\n", argv[1], n);
		print_frames(f, fr, n);
		return 0;
	}
	if (strcmp(argv[0], "read") == 0 && argc == 3) {
		size_t len = strtoul(argv[2], NULL, 0);
		void *buf = malloc(len);
		size_t n = buf ? s->reader.read(s->reader.ctx,
		                                strtoull(argv[1], NULL, 0), buf, len) : 0;
		free(buf);
		fprintf(f, "read %zu\n", n);
		return 0;
	}
	if (strcmp(argv[0], "now") == 0) {
		fprintf(f, "now %d %" PRIu64 " torn %d target %s\n",
		        s->options.now_kind, s->options.now, s->options.torn,
		        s->options.target ? s->options.target : "(null)");
		return 0;
	}
	return -1;
}

char *tangle_session_run(tangle_session *s, int argc, char **argv,
                         int *status)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	int st = run(s, argc, argv, f);
	if (st < 0) {
		rewind(f);
		fprintf(f, "fake: unknown command: %s", argc ? argv[0] : "");
		st = 2;
	}
	fclose(f);
	*status = st;
	return buf;
}
