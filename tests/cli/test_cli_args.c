/*
 * test_cli_args.c — the command line: commands, targets found among the
 * positional arguments by what the files are, options passed to the
 * engine in order, help, version and usage errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cli_test.h"

static char dir[256], core[300], exe[300], text[300];

static void write_elf(const char *path, unsigned type)
{
	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof eh);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = (Elf64_Half)type;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, &eh, sizeof eh), sizeof eh);
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	if (scratch_dir(dir) != 0)
		return -1;
	snprintf(core, sizeof core, "%s/core", dir);
	snprintf(exe, sizeof exe, "%s/prog", dir);
	snprintf(text, sizeof text, "%s/notes.txt", dir);
	write_elf(core, ET_CORE);
	write_elf(exe, ET_DYN);
	FILE *f = fopen(text, "w");
	fputs("not elf\n", f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	scratch_remove(dir);
	return 0;
}

/* Parse a NULL-terminated list; expect success. */
#define PARSE(a, ...)                                                       \
	do {                                                                \
		char *argv_[] = {"tangle", __VA_ARGS__, NULL};              \
		int argc_ = (int)(sizeof argv_ / sizeof argv_[0]) - 1;      \
		tangle_error *e_ = cli_args_parse(argc_, argv_, (a));       \
		if (e_)                                                     \
			fail_msg("parse: %s", e_->message);                 \
	} while (0)

static void expect_usage_error(const char *needle, int argc, char **argv)
{
	struct cli_args a;
	tangle_error *e = cli_args_parse(argc, argv, &a);
	assert_non_null(e);
	assert_int_equal(e->code, TANGLE_INSPECT_EUSAGE);
	if (!strstr(e->message, needle))
		fail_msg("message '%s' lacks '%s'", e->message, needle);
	tangle_error_free(e);
	cli_args_free(&a);
}
#define USAGE_ERROR(needle, ...)                                            \
	do {                                                                \
		char *argv_[] = {"tangle", __VA_ARGS__, NULL};              \
		expect_usage_error(needle,                                  \
		                   (int)(sizeof argv_ / sizeof argv_[0]) - 1, argv_); \
	} while (0)

static void assert_argv(const struct cli_args *a, int n, ...)
{
	va_list ap;
	va_start(ap, n);
	assert_int_equal(a->argc, n);
	for (int i = 0; i < n; i++)
		assert_string_equal(a->argv[i], va_arg(ap, const char *));
	assert_null(a->argv[n]);
	va_end(ap);
}

static void core_and_exe(void **state)
{
	(void)state;
	struct cli_args a;
	PARSE(&a, "triage", core);
	assert_int_equal(a.action, CLI_RUN);
	assert_string_equal(a.command, "triage");
	assert_string_equal(a.core, core);
	assert_null(a.exe);
	assert_argv(&a, 1, "triage");
	cli_args_free(&a);

	PARSE(&a, "triage", "--json", core, exe);
	assert_string_equal(a.core, core);
	assert_string_equal(a.exe, exe);
	assert_argv(&a, 2, "triage", "--json");
	cli_args_free(&a);

	/* By kind, not by position: the executable first works too. */
	PARSE(&a, "tasks", exe, core, "--state", "waiting");
	assert_string_equal(a.core, core);
	assert_string_equal(a.exe, exe);
	assert_argv(&a, 3, "tasks", "--state", "waiting");
	cli_args_free(&a);
}

static void command_arguments_stay_in_order(void **state)
{
	(void)state;
	struct cli_args a;
	/* The e2e harness' form: tangle bt CORE EXE ID. */
	PARSE(&a, "bt", core, exe, "12");
	assert_argv(&a, 2, "bt", "12");
	cli_args_free(&a);
	PARSE(&a, "bt", "12", "13", core, "--all");
	assert_string_equal(a.core, core);
	assert_argv(&a, 4, "bt", "12", "13", "--all");
	cli_args_free(&a);
	PARSE(&a, "bt", "all", core);
	assert_argv(&a, 2, "bt", "all");
	cli_args_free(&a);
	/* Explicit options, and `--` ends the CLI's own options. */
	PARSE(&a, "why", "--core", core, "--exe=/x/prog", "7");
	assert_string_equal(a.core, core);
	assert_string_equal(a.exe, "/x/prog");
	assert_argv(&a, 2, "why", "7");
	cli_args_free(&a);
	PARSE(&a, "tasks", core, "--", "-p");
	assert_int_equal(a.pid, 0);
	assert_argv(&a, 2, "tasks", "-p");
	cli_args_free(&a);
	/* Options before the command go to the engine after it. */
	PARSE(&a, "--json", "locks", core);
	assert_argv(&a, 2, "locks", "--json");
	cli_args_free(&a);
}

static void live_process(void **state)
{
	(void)state;
	struct cli_args a;
	PARSE(&a, "triage", "-p", "1234");
	assert_int_equal(a.pid, 1234);
	assert_null(a.core);
	assert_int_equal(a.no_stop, 0);
	assert_argv(&a, 1, "triage");
	cli_args_free(&a);
	PARSE(&a, "tasks", "-p1234", "--no-stop", "--group");
	assert_int_equal(a.pid, 1234);
	assert_int_equal(a.no_stop, 1);
	assert_argv(&a, 2, "tasks", "--group");
	cli_args_free(&a);
	PARSE(&a, "-p", "99", "bt", "3");
	assert_string_equal(a.command, "bt");
	assert_int_equal(a.pid, 99);
	assert_argv(&a, 2, "bt", "3");
	cli_args_free(&a);
	/* A live target takes no file: an executable stays an argument. */
	PARSE(&a, "why", "--pid=42", "5");
	assert_int_equal(a.pid, 42);
	cli_args_free(&a);
}

static void help_and_version(void **state)
{
	(void)state;
	struct cli_args a;
	char *none[] = {"tangle", NULL};
	assert_null(cli_args_parse(1, none, &a));
	assert_int_equal(a.action, CLI_HELP);
	assert_null(a.command);
	cli_args_free(&a);
	PARSE(&a, "--help");
	assert_int_equal(a.action, CLI_HELP);
	cli_args_free(&a);
	PARSE(&a, "help");
	assert_int_equal(a.action, CLI_HELP);
	assert_null(a.command);
	cli_args_free(&a);
	PARSE(&a, "help", "bt");
	assert_int_equal(a.action, CLI_HELP);
	assert_string_equal(a.command, "bt");
	cli_args_free(&a);
	PARSE(&a, "triage", "--help");
	assert_int_equal(a.action, CLI_HELP);
	assert_string_equal(a.command, "triage");
	cli_args_free(&a);
	PARSE(&a, "--version");
	assert_int_equal(a.action, CLI_VERSION);
	cli_args_free(&a);
}

static void usage_errors(void **state)
{
	(void)state;
	USAGE_ERROR("unknown command 'frobnicate'", "frobnicate", core);
	USAGE_ERROR("unknown command 'nope'", "help", "nope");
	USAGE_ERROR("no target", "triage");
	USAGE_ERROR("no target", "bt", "12");
	USAGE_ERROR("is an executable, not a core file", "bt", exe, "12");
	USAGE_ERROR("cannot open 'core.4711'", "triage", "core.4711");
	USAGE_ERROR("cannot open './gone/core'", "triage", "./gone/core");
	USAGE_ERROR("-p wants a process id, not 'abc'", "triage", "-p", "abc");
	USAGE_ERROR("-p wants a process id", "triage", "-p");
	USAGE_ERROR("-p wants a process id, not '0'", "triage", "-p", "0");
	USAGE_ERROR("not both", "triage", core, "-p", "12");
	USAGE_ERROR("--no-stop applies to a live process", "triage", core, "--no-stop");
	USAGE_ERROR("--core wants a file", "triage", "--core");
}

static void a_file_that_is_no_core_is_still_the_target(void **state)
{
	(void)state;
	/* So that the core reader can say what is wrong with it. */
	struct cli_args a;
	PARSE(&a, "triage", text);
	assert_string_equal(a.core, text);
	assert_argv(&a, 1, "triage");
	cli_args_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(core_and_exe),
		cmocka_unit_test(command_arguments_stay_in_order),
		cmocka_unit_test(live_process),
		cmocka_unit_test(help_and_version),
		cmocka_unit_test(usage_errors),
		cmocka_unit_test(a_file_that_is_no_core_is_still_the_target),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
