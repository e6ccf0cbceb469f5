/*
 * test_cli_core.c — the core reader on a real core of the fixture: bytes
 * from the core's segments, read-only data from the mapped file, the
 * executable found from the core's notes, and the errors for a truncated
 * core, a file that is not a core, a missing and a wrong executable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_test.h"
#include "core.h"
#include "target.h"

static char dir[256], core[512], exe[PATH_MAX];
static struct fixture fx;

static int setup(void **state)
{
	(void)state;
	if (!realpath(CLI_FIXTURE, exe) || scratch_dir(dir) != 0 ||
	    fixture_start(exe, NULL, dir, &fx) != 0 || fixture_dump(&fx, dir, core) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	scratch_remove(dir);
	return 0;
}

static struct cli_core *open_ok(const char *exe_arg)
{
	struct cli_core *c = NULL;
	tangle_error *err = cli_core_open(core, exe_arg, &c);
	if (err)
		fail_msg("cli_core_open: %s", err->message);
	return c;
}

static void expect_error(const char *path, const char *exe_arg, int code,
                         const char *needle)
{
	struct cli_core *c = NULL;
	tangle_error *err = cli_core_open(path, exe_arg, &c);
	assert_non_null(err);
	assert_null(c);
	if (!strstr(err->message, needle))
		fail_msg("message '%s' lacks '%s'", err->message, needle);
	assert_int_equal(err->code, code);
	tangle_error_free(err);
}

static void reads_the_buffer(void **state)
{
	(void)state;
	struct cli_core *c = open_ok(NULL);
	size_t size = 1 << 20;
	unsigned char *buf = malloc(size);
	assert_int_equal(cli_core_read(c, fx.buf, buf, size), size);
	for (size_t i = 0; i < size; i++)
		if (buf[i] != (unsigned char)(i * 7 + 3))
			fail_msg("byte %zu is %u", i, buf[i]);
	/* An unaligned read in the middle. */
	assert_int_equal(cli_core_read(c, fx.buf + 4097, buf, 10), 10);
	assert_int_equal(buf[0], (unsigned char)(4097 * 7 + 3));
	/* Nothing is mapped at 16. */
	assert_int_equal(cli_core_read(c, 16, buf, 8), 0);
	/* A read that runs off the end of the address space stops. */
	assert_true(cli_core_read(c, UINT64_MAX - 3, buf, 8) <= 4);
	free(buf);
	cli_core_close(c);
}

static void reads_rodata_from_the_file(void **state)
{
	(void)state;
	static const char want[] = "tangle cli fixture: read-only bytes";
	char got[sizeof want];
	struct cli_core *c = open_ok(NULL);
	assert_int_equal(cli_core_read(c, fx.ro, got, sizeof got), sizeof got);
	assert_memory_equal(got, want, sizeof want);
	/* The kernel does not dump unwritten file-backed pages: the bytes
	 * came from the executable. */
	if (kernel_cores())
		assert_true(cli_core_read_dumped(c, fx.ro, got, sizeof got) < sizeof got);
	cli_core_close(c);
}

static void finds_the_executable(void **state)
{
	(void)state;
	struct cli_core *c = open_ok(NULL);
	assert_string_equal(cli_core_exe(c), exe);
	struct stat st;
	assert_int_equal(stat(core, &st), 0);
	assert_int_equal(cli_core_mtime_ns(c),
	                 (uint64_t)st.st_mtim.tv_sec * 1000000000u +
	                 (uint64_t)st.st_mtim.tv_nsec);
	cli_core_close(c);
	/* The right one given explicitly is accepted too. */
	c = open_ok(CLI_FIXTURE);
	cli_core_close(c);
}

static void refuses_a_truncated_core(void **state)
{
	(void)state;
	char cut[600];
	struct stat st;
	snprintf(cut, sizeof cut, "%s/truncated", dir);
	assert_int_equal(stat(core, &st), 0);
	/* inside the ELF header, at its end (no program headers), inside
	 * the program headers, in the notes or the first segment, inside the
	 * segments, one byte short */
	const long at[] = {20, 64, 200, 4096, (long)st.st_size / 2,
	                   (long)st.st_size - 1};
	static const char *const what[] = {"ELF header", "program headers",
	                                   "program headers", "", "segments",
	                                   "segments"};
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		assert_int_equal(copy_file(core, cut, at[i]), 0);
		char want[64];
		snprintf(want, sizeof want, "is truncated: %ld bytes, its %s", at[i],
		         what[i]);
		expect_error(cut, NULL, TANGLE_INSPECT_ECORRUPT, want);
	}
}

static void refuses_what_is_not_a_core(void **state)
{
	(void)state;
	expect_error(exe, NULL, TANGLE_INSPECT_EUSAGE, "is an executable, not a core");
	expect_error(__FILE__, NULL, TANGLE_INSPECT_EUSAGE, "is not a core file");
	expect_error("/nonexistent/core", NULL, TANGLE_INSPECT_ESYSTEM, "cannot open");
	char empty[600];
	snprintf(empty, sizeof empty, "%s/empty", dir);
	assert_int_equal(copy_file(core, empty, 0), 0);
	expect_error(empty, NULL, TANGLE_INSPECT_EUSAGE, "is empty");
}

static void refuses_the_wrong_executable(void **state)
{
	(void)state;
	/* This test program is an executable, but not the fixture. */
	expect_error(core, "/proc/self/exe", TANGLE_INSPECT_EUSAGE,
	             "is not the program that made this core");
	expect_error(core, __FILE__, TANGLE_INSPECT_EUSAGE, "is not an executable");
	expect_error(core, "/nonexistent/prog", TANGLE_INSPECT_ESYSTEM,
	             "cannot open executable");
}

static void says_when_the_executable_is_gone(void **state)
{
	(void)state;
	char d2[256], copy[600], core2[512];
	struct fixture f2;
	assert_int_equal(scratch_dir(d2), 0);
	snprintf(copy, sizeof copy, "%s/prog", d2);
	assert_int_equal(copy_file(exe, copy, -1), 0);
	assert_int_equal(fixture_start(copy, NULL, d2, &f2), 0);
	assert_int_equal(fixture_dump(&f2, d2, core2), 0);
	unlink(copy);
	struct cli_core *c = NULL;
	tangle_error *err = cli_core_open(core2, NULL, &c);
	assert_non_null(err);
	if (!strstr(err->message, "cannot find the executable") ||
	    !strstr(err->message, copy))
		fail_msg("message: %s", err->message);
	tangle_error_free(err);
	/* Given the executable, the core opens. */
	assert_null(cli_core_open(core2, exe, &c));
	cli_core_close(c);
	/* Another build where the core's program was: it says so. */
	assert_int_equal(copy_file(CLI_FIXTURE_OTHER, copy, -1), 0);
	err = cli_core_open(core2, NULL, &c);
	assert_non_null(err);
	if (!strstr(err->message, "which the core names, has changed since the dump"))
		fail_msg("message: %s", err->message);
	tangle_error_free(err);
	scratch_remove(d2);
}

/* A program replaced while it ran ("PATH (deleted)" in the core): the
 * file now at PATH is used if it is the same build. */
static void finds_a_program_replaced_while_it_ran(void **state)
{
	(void)state;
	char d4[256], copy[600], core4[512];
	struct fixture f4;
	assert_int_equal(scratch_dir(d4), 0);
	snprintf(copy, sizeof copy, "%s/prog", d4);
	assert_int_equal(copy_file(exe, copy, -1), 0);
	assert_int_equal(fixture_start(copy, NULL, d4, &f4), 0);
	unlink(copy);
	assert_int_equal(fixture_dump(&f4, d4, core4), 0);
	struct cli_core *c = NULL;
	tangle_error *err = cli_core_open(core4, NULL, &c);
	assert_non_null(err); /* nothing at PATH */
	tangle_error_free(err);
	assert_int_equal(copy_file(exe, copy, -1), 0);
	err = cli_core_open(core4, NULL, &c);
	if (err)
		fail_msg("%s", err->message);
	assert_string_equal(cli_core_exe(c), copy);
	char got[8];
	assert_int_equal(cli_core_read(c, f4.ro, got, 6), 6);
	assert_memory_equal(got, "tangle", 6);
	cli_core_close(c);
	scratch_remove(d4);
}

/* A core without NT_FILE, of a program started by a relative path: the
 * executable is found beside the core, the libraries from the dynamic
 * linker's list, read-only data from the files. */
static void reads_a_core_without_nt_file(void **state)
{
	(void)state;
	char d3[256], copy[600], core3[512];
	struct fixture f3;
	assert_int_equal(scratch_dir(d3), 0);
	snprintf(copy, sizeof copy, "%s/prog", d3);
	assert_int_equal(copy_file(exe, copy, -1), 0);
	assert_int_equal(fixture_start("./prog", NULL, d3, &f3), 0);
	assert_int_equal(fixture_dump(&f3, d3, core3), 0);
	if (!kernel_cores()) {
		scratch_remove(d3);
		skip();
	}
	assert_int_equal(core_drop_nt_file(core3), 0);
	struct cli_core *c = NULL;
	tangle_error *err = cli_core_open(core3, NULL, &c);
	if (err)
		fail_msg("%s", err->message);
	char want[700];
	snprintf(want, sizeof want, "%s/./prog", d3);
	assert_string_equal(cli_core_exe(c), want);
	int n;
	const struct cli_mapping *m = cli_core_mappings(c, &n);
	int libc = 0;
	for (int i = 0; i < n; i++)
		libc |= strstr(m[i].path, "libc.so") != NULL;
	assert_true(libc);
	char got[16];
	assert_int_equal(cli_core_read(c, f3.ro, got, 6), 6);
	assert_memory_equal(got, "tangle", 6);
	unsigned char b[4];
	assert_int_equal(cli_core_read(c, f3.buf + 1, b, 1), 1);
	assert_int_equal(b[0], 10);
	cli_core_close(c);
	/* Symbols and a thread's stack, through the libraries found. */
	struct cli_args a;
	struct cli_target t;
	memset(&a, 0, sizeof a);
	a.core = core3;
	assert_null(cli_target_open(&a, &t));
	assert_int_equal(t.options.root, f3.root);
	tangle_frame f[64];
	int nf = t.unwinder.thread(t.unwinder.ctx, (uint32_t)f3.tid, f, 64);
	int outer = 0, libc_frame = 0;
	for (int i = 0; i < nf; i++) {
		outer |= strcmp(f[i].function, "fixture_outer") == 0;
		libc_frame |= strcmp(f[i].function, "start_thread") == 0;
	}
	assert_true(outer && libc_frame);
	cli_target_close(&t);
	/* The wrong executable is still refused. */
	err = cli_core_open(core3, "/proc/self/exe", &c);
	assert_non_null(err);
	tangle_error_free(err);
	/* Moved away from its program: the message names the path it ran. */
	unlink(copy);
	err = cli_core_open(core3, NULL, &c);
	assert_non_null(err);
	if (!strstr(err->message, "it was ./prog"))
		fail_msg("message: %s", err->message);
	tangle_error_free(err);
	scratch_remove(d3);
}

static void parses_notes(void **state)
{
	(void)state;
	/* NT_FILE: count 2, page 4096, two ranges, two names. */
	uint64_t words[2 + 6] = {2, 4096, 0x1000, 0x3000, 0, 0x5000, 0x6000, 3};
	char desc[sizeof words + 16];
	memcpy(desc, words, sizeof words);
	memcpy(desc + sizeof words, "/a\0/bb\0", 7);
	struct cli_mapping *m;
	assert_int_equal(cli_parse_nt_file(desc, sizeof words + 7, &m), 2);
	assert_int_equal(m[1].start, 0x5000);
	assert_int_equal(m[1].offset, 3 * 4096);
	assert_string_equal(m[1].path, "/bb");
	free(m);
	/* Names missing: malformed. */
	assert_int_equal(cli_parse_nt_file(desc, sizeof words + 3, &m), -1);
	/* A huge count: malformed, not a huge allocation. */
	words[0] = UINT64_MAX / 2;
	memcpy(desc, words, sizeof words);
	assert_int_equal(cli_parse_nt_file(desc, sizeof desc, &m), -1);

	/* NT_PRSTATUS: pid at 32, registers at 112. */
	unsigned char pr[112 + 34 * 8];
	memset(pr, 0, sizeof pr);
	int32_t pid = 4711;
	memcpy(pr + 32, &pid, 4);
	for (uint64_t i = 0; i < 34; i++)
		memcpy(pr + 112 + i * 8, &(uint64_t){1000 + i}, 8);
	tangle_context ctx;
	uint32_t tid = 0;
	assert_int_equal(cli_prstatus_context(EM_AARCH64, pr, sizeof pr, &tid, &ctx), 0);
	assert_int_equal(tid, 4711);
	assert_int_equal(ctx.count, 31);
	assert_int_equal(ctx.regs[29].dwarf, 29);
	assert_int_equal(ctx.regs[29].value, 1029);
	assert_int_equal(ctx.sp, 1031);
	assert_int_equal(ctx.pc, 1032);
	assert_int_equal(cli_prstatus_context(EM_X86_64, pr, sizeof pr, &tid, &ctx), 0);
	assert_int_equal(ctx.pc, 1016);  /* rip */
	assert_int_equal(ctx.sp, 1019);  /* rsp */
	assert_int_equal(ctx.count, 15); /* DWARF 0..15 but rsp (7) */
	for (int i = 0; i < ctx.count; i++)
		if (ctx.regs[i].dwarf == 3) /* rbx, word 5 */
			assert_int_equal(ctx.regs[i].value, 1005);
	assert_int_equal(cli_prstatus_context(EM_X86_64, pr, 200, &tid, &ctx), -1);
	assert_int_equal(cli_prstatus_context(EM_386, pr, sizeof pr, &tid, &ctx), -1);

	uint64_t auxv[] = {3, 0x40, 9, 0x401000, 0, 0};
	assert_int_equal(cli_auxv_get(auxv, sizeof auxv, 9), 0x401000);
	assert_int_equal(cli_auxv_get(auxv, sizeof auxv, 31), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_the_buffer),
		cmocka_unit_test(reads_rodata_from_the_file),
		cmocka_unit_test(finds_the_executable),
		cmocka_unit_test(refuses_a_truncated_core),
		cmocka_unit_test(refuses_what_is_not_a_core),
		cmocka_unit_test(refuses_the_wrong_executable),
		cmocka_unit_test(says_when_the_executable_is_gone),
		cmocka_unit_test(finds_a_program_replaced_while_it_ran),
		cmocka_unit_test(reads_a_core_without_nt_file),
		cmocka_unit_test(parses_notes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
