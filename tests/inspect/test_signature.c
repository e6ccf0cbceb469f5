/*
 * test_signature.c — signatures name the bug, not the run: the same hang at
 * other addresses, with other task ids, another layout and byte order, or
 * entered from the other task gives the same signature; another bug gives
 * another one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scenarios.h"

typedef void (*build_fn)(tb *b, uint64_t id, int variant);

static void lock_order(tb *b, uint64_t id, int v)
{
	sc_lock_order(b, id, v & 1, "accounts", "ledger");
}
static void lock_order_other(tb *b, uint64_t id, int v)
{
	sc_lock_order(b, id, v & 1, "users", "sessions");
}
static void self(tb *b, uint64_t id, int v) { (void)v; sc_self(b, id); }
static void ring(tb *b, uint64_t id, int v) { (void)v; sc_ring(b, id); }
static void permits(tb *b, uint64_t id, int v) { (void)v; sc_permits(b, id); }
static void join(tb *b, uint64_t id, int v) { (void)v; sc_join(b, id); }

static void sig_of(build_fn fn, uint64_t base, unsigned seed, int big, uint64_t id,
                   int variant, char *sig)
{
	tb *b = tb_new(&(tb_opts){.base = base, .seed = seed, .big_endian = big});
	/* unrelated tasks before, so record positions differ too */
	for (uint64_t i = 0; i < (uint64_t)variant * 3; i++)
		tb_task(b, 1000 + i, "idle", TANGLE_DEBUG_TASK_RUNNABLE);
	fn(b, id, variant);
	tangle_error *err = NULL;
	tangle_session *s = tb_open(b, NOW + (uint64_t)variant * TB_S(7), &err);
	assert_null(err);
	assert_int_equal(tb_count(s, "deadlock", sig), 1);
	tangle_session_free(s);
	tb_free(b);
}

static void test_stable(void **state)
{
	(void)state;
	build_fn fns[] = {lock_order, self, ring, permits, join};
	for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]); f++) {
		char first[9], sig[9];
		sig_of(fns[f], 0x7f0000000000ull, 1, 0, 12, 0, first);
		sig_of(fns[f], 0x5500aa000000ull, 9, 1, 500, 1, sig);
		assert_string_equal(first, sig);
		sig_of(fns[f], 0x10000000ull, 0, 0, 77777, 2, sig);
		assert_string_equal(first, sig);
		sig_of(fns[f], 0x7ffd00000000ull, 3, 0, 3, 3, sig);
		assert_string_equal(first, sig);
	}
}

static void test_distinct(void **state)
{
	(void)state;
	build_fn fns[] = {lock_order, lock_order_other, self, ring, permits, join};
	char sigs[6][9];
	for (size_t f = 0; f < 6; f++)
		sig_of(fns[f], 0x7f0000000000ull, 1, 0, 12, 0, sigs[f]);
	for (size_t i = 0; i < 6; i++)
		for (size_t j = i + 1; j < 6; j++)
			if (strcmp(sigs[i], sigs[j]) == 0)
				fail_msg("scenarios %zu and %zu share signature %s", i, j, sigs[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stable),
		cmocka_unit_test(test_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
