/*
 * fuzz_decode.c — libFuzzer target over the decoder and everything after
 * it. The input is the target's memory: one segment at FUZZ_BASE with the
 * root FUZZ_ROOT_OFFSET bytes in (where the test table builder puts it, so
 * fuzz_seed's tables are good seeds). Every command runs on what decodes;
 * nothing may crash, hang or leak whatever the bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tangle_debug.h"
#include "tangle_inspect.h"

#define FUZZ_BASE 0x7f1200000000ull
#define FUZZ_ROOT_OFFSET 64

static const char *const commands[][3] = {
	{"triage", NULL, NULL}, {"triage", "--json", NULL}, {"tasks", "--group", NULL},
	{"tasks", "--json", NULL}, {"locks", NULL, NULL}, {"bt", "all", NULL},
	{"graph", NULL, NULL}, {"why", "1", NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tangle_segment seg = {FUZZ_BASE, data, size};
	tangle_reader r;
	if (tangle_reader_buffer(&seg, 1, &r))
		return 0;
	tangle_session_options o = {.root = FUZZ_BASE + FUZZ_ROOT_OFFSET};
	tangle_session *s = NULL;
	tangle_error *err = tangle_session_open(&r, NULL, &o, &s);
	if (err) {
		tangle_error_free(err);
		r.close(r.ctx);
		return 0;
	}
	FILE *null = fopen("/dev/null", "w");
	for (size_t i = 0; null && i < sizeof(commands) / sizeof(commands[0]); i++) {
		char *argv[3];
		int argc = 0;
		for (int k = 0; k < 3 && commands[i][k]; k++)
			argv[argc++] = (char *)commands[i][k];
		tangle_error *e = NULL;
		tangle_session_command(s, argc, argv, null, &e);
		tangle_error_free(e);
	}
	if (null)
		fclose(null);
	size_t n = tangle_session_task_count(s);
	for (size_t i = 0; i < n && i < 64; i++) {
		tangle_task_info info;
		char buf[128];
		if (tangle_session_task_at(s, i, &info) == 0)
			tangle_session_describe(s, info.address, buf, sizeof(buf));
	}
	tangle_session_free(s);
	r.close(r.ctx);
	return 0;
}
