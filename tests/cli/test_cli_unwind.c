/*
 * test_cli_unwind.c — symbols and native unwinding on a real core of the
 * fixture: the debug root by symbol and (stripped) by section, a thread's
 * frames with an inlined call expanded and the line it blocks at, and the
 * same stack unwound as a "task" from a context built from that thread's
 * registers; the vDSO, read from the core, as a module with its symbols.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/user.h>

#include "args.h"
#include "cli_test.h"
#include "symbols.h"
#include "target.h"

static char dir[256], core[512], dir2[256], core2[512], dir3[256], core3[512];
static struct fixture fx, fx2, fx3;

static int setup(void **state)
{
	(void)state;
	if (scratch_dir(dir) != 0 || fixture_start(CLI_FIXTURE, NULL, dir, &fx) != 0 ||
	    fixture_dump(&fx, dir, core) != 0)
		return -1;
	if (scratch_dir(dir2) != 0 ||
	    fixture_start(CLI_FIXTURE_STRIPPED, NULL, dir2, &fx2) != 0 ||
	    fixture_dump(&fx2, dir2, core2) != 0)
		return -1;
	if (scratch_dir(dir3) != 0 ||
	    fixture_start(CLI_FIXTURE_NOARANGES, NULL, dir3, &fx3) != 0 ||
	    fixture_dump(&fx3, dir3, core3) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	scratch_remove(dir);
	scratch_remove(dir2);
	scratch_remove(dir3);
	return 0;
}

static void open_target(struct cli_target *t, const char *path)
{
	struct cli_args a;
	memset(&a, 0, sizeof a);
	a.core = path;
	tangle_error *err = cli_target_open(&a, t);
	if (err)
		fail_msg("cli_target_open: %s", err->message);
}

static void finds_symbols(void **state)
{
	(void)state;
	struct cli_target t;
	open_target(&t, core);
	assert_int_equal(t.options.root, fx.root);
	assert_int_equal(t.options.now_kind, TANGLE_NOW_REAL);
	uint64_t addr;
	assert_int_equal(t.reader.lookup(t.reader.ctx, "fixture_buf", &addr), 0);
	assert_int_equal(addr, fx.buf);
	assert_int_equal(t.reader.lookup(t.reader.ctx, "no_such_symbol_here", &addr), -1);
	cli_target_close(&t);
}

static void finds_the_root_of_a_stripped_program(void **state)
{
	(void)state;
	struct cli_target t;
	open_target(&t, core2);
	assert_int_equal(t.options.root, fx2.root);
	uint64_t addr;
	/* Stripped: no symbol for the buffer any more. */
	assert_int_equal(t.reader.lookup(t.reader.ctx, "fixture_buf", &addr), -1);
	cli_target_close(&t);
}

/* Index of the first frame named fn at or after from, or -1. */
static int find(const tangle_frame *f, int n, int from, const char *fn)
{
	for (int i = from; i < n; i++)
		if (strcmp(f[i].function, fn) == 0)
			return i;
	return -1;
}

static void check_fixture_stack(const tangle_frame *f, int n, int line)
{
	int a = find(f, n, 0, "fixture_inlined");
	if (a < 0) {
		for (int i = 0; i < n; i++)
			print_message("#%d %s %s:%u%s\n", i, f[i].function, f[i].file,
			              f[i].line, f[i].inlined ? " (inlined)" : "");
		fail_msg("no fixture_inlined frame");
	}
	assert_int_equal(f[a].inlined, 1);
	assert_int_equal(f[a].line, line);
	assert_non_null(strstr(f[a].file, "fixture.c"));
	int b = find(f, n, a, "fixture_inner");
	assert_int_equal(b, a + 1);
	assert_int_equal(f[b].inlined, 0);
	assert_int_equal(f[b].pc, f[a].pc);
	assert_true(f[b].line > 0 && f[b].line != f[a].line);
	int c = find(f, n, b, "fixture_outer");
	assert_int_equal(c, b + 1);
	assert_true(find(f, n, c, "fixture_thread") > c);
}

static void unwinds_a_thread(void **state)
{
	(void)state;
	struct cli_target t;
	open_target(&t, core);
	tangle_frame f[CLI_MAX_FRAMES];
	int n = t.unwinder.thread(t.unwinder.ctx, (uint32_t)fx.tid, f, CLI_MAX_FRAMES);
	assert_true(n > 3);
	check_fixture_stack(f, n, fx.line);
	/* Bounded by max. */
	assert_int_equal(t.unwinder.thread(t.unwinder.ctx, (uint32_t)fx.tid, f, 2), 2);
	/* No such thread. */
	assert_int_equal(t.unwinder.thread(t.unwinder.ctx, 999999, f, 8), -1);
	cli_target_close(&t);
}

/* clang emits no .debug_aranges by default: lines and inlined calls are
 * found all the same. */
static void unwinds_a_thread_without_aranges(void **state)
{
	(void)state;
	struct cli_target t;
	open_target(&t, core3);
	tangle_frame f[CLI_MAX_FRAMES];
	int n = t.unwinder.thread(t.unwinder.ctx, (uint32_t)fx3.tid, f, CLI_MAX_FRAMES);
	assert_true(n > 3);
	check_fixture_stack(f, n, fx3.line);
	cli_target_close(&t);
}

#if defined(__x86_64__)
/* The registers of thread tid in the core, as a task context. */
static int thread_context(Elf *elf, pid_t tid, tangle_context *ctx)
{
	size_t n;
	if (elf_getphdrnum(elf, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset,
		                                   ph.p_filesz, ELF_T_NHDR);
		size_t off = 0, no, doff;
		GElf_Nhdr h;
		while (d && off < d->d_size &&
		       (off = gelf_getnote(d, off, &h, &no, &doff)) > 0) {
			if (h.n_type != NT_PRSTATUS ||
			    h.n_descsz < sizeof(struct elf_prstatus))
				continue;
			struct elf_prstatus ps;
			memcpy(&ps, (char *)d->d_buf + doff, sizeof ps);
			if (ps.pr_pid != tid)
				continue;
			struct user_regs_struct r;
			memcpy(&r, &ps.pr_reg, sizeof r);
			memset(ctx, 0, sizeof *ctx);
			ctx->arch = EM_X86_64;
			ctx->pc = r.rip;
			ctx->sp = r.rsp;
			const struct { uint16_t dwarf; uint64_t v; } regs[] = {
				{3, r.rbx}, {6, r.rbp}, {12, r.r12},
				{13, r.r13}, {14, r.r14}, {15, r.r15},
			};
			for (size_t k = 0; k < 6; k++) {
				ctx->regs[k].dwarf = regs[k].dwarf;
				ctx->regs[k].value = regs[k].v;
			}
			ctx->count = 6;
			return 0;
		}
	}
	return -1;
}
#endif

static void unwinds_a_task_from_its_context(void **state)
{
	(void)state;
#if defined(__x86_64__)
	struct cli_target t;
	open_target(&t, core);
	tangle_context ctx;
	assert_int_equal(thread_context(cli_core_elf(t.core), fx.tid, &ctx), 0);
	tangle_frame f[CLI_MAX_FRAMES];
	int n = t.unwinder.task(t.unwinder.ctx, &ctx, f, CLI_MAX_FRAMES);
	assert_true(n > 3);
	check_fixture_stack(f, n, fx.line);
	/* Again: the tasks Dwfl is reused, the result is the same. */
	tangle_frame g[CLI_MAX_FRAMES];
	assert_int_equal(t.unwinder.task(t.unwinder.ctx, &ctx, g, CLI_MAX_FRAMES), n);
	assert_memory_equal(f, g, sizeof f[0] * (size_t)n);
	cli_target_close(&t);
#else
	skip();
#endif
}

/* The vDSO is in no file (NT_FILE does not list it): its image is read
 * from the core, so its functions have names and CFI. */
static void reports_the_vdso(void **state)
{
	(void)state;
	struct cli_target t;
	open_target(&t, core);
	uint64_t vdso = cli_core_vdso(t.core);
	assert_true(vdso != 0);
	Dwfl_Module *m = dwfl_addrmodule(t.dwfl, vdso);
	assert_non_null(m);
	const char *name = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL,
	                                    NULL);
	assert_string_equal(name, "[vdso]");
#if defined(__x86_64__)
	const char *fn = "__vdso_clock_gettime";
#else
	const char *fn = "__kernel_clock_gettime";
#endif
	uint64_t addr;
	assert_int_equal(t.reader.lookup(t.reader.ctx, fn, &addr), 0);
	assert_true(addr > vdso && addr < vdso + (1u << 20));
	assert_ptr_equal(dwfl_addrmodule(t.dwfl, addr), m);
	cli_target_close(&t);
}

static void survives_bad_contexts(void **state)
{
	(void)state;
	struct cli_target t;
	open_target(&t, core);
	tangle_frame f[CLI_MAX_FRAMES];
	tangle_context ctx;
	memset(&ctx, 0, sizeof ctx);
	ctx.arch = EM_X86_64;
	/* No pc: cannot unwind. */
	assert_int_equal(t.unwinder.task(t.unwinder.ctx, &ctx, f, CLI_MAX_FRAMES), -1);
	/* An unknown architecture. */
	ctx.pc = fx.buf;
	ctx.arch = 0x7777;
	assert_int_equal(t.unwinder.task(t.unwinder.ctx, &ctx, f, CLI_MAX_FRAMES), -1);
	/* Garbage: a pc in data and a stack of a repeating pattern (the
	 * fixture's buffer) must end, bounded, without a hang. */
	ctx.arch = EM_X86_64;
	ctx.pc = 0x1234;
	ctx.sp = fx.buf + 4096;
	int n = t.unwinder.task(t.unwinder.ctx, &ctx, f, CLI_MAX_FRAMES);
	assert_true(n >= -1 && n <= CLI_MAX_FRAMES);
	ctx.pc = fx.buf;
	n = t.unwinder.task(t.unwinder.ctx, &ctx, f, CLI_MAX_FRAMES);
	assert_true(n >= -1 && n <= CLI_MAX_FRAMES);
	cli_target_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_symbols),
		cmocka_unit_test(finds_the_root_of_a_stripped_program),
		cmocka_unit_test(unwinds_a_thread),
		cmocka_unit_test(unwinds_a_thread_without_aranges),
		cmocka_unit_test(unwinds_a_task_from_its_context),
		cmocka_unit_test(reports_the_vdso),
		cmocka_unit_test(survives_bad_contexts),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
