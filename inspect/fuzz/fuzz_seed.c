/*
 * fuzz_seed.c — writes a seed corpus for fuzz_decode: the memory of a few
 * synthetic tables (every hang pattern, both byte orders) made by the test
 * table builder, one file each, at the base fuzz_decode maps them at.
 */
#include <stdio.h>
#include <stdlib.h>

#include "scenarios.h"

static void save(tb *b, const char *dir, const char *name)
{
	tangle_reader r;
	tb_reader(b, &r);
	/* everything tb allocated, from the base up to the last string */
	size_t used = 0;
	for (size_t lo = 0, hi = 1u << 19; lo < hi;) { /* the readable prefix */
		size_t mid = (lo + hi + 1) / 2;
		char c;
		if (r.read(r.ctx, 0x7f1200000000ull + mid - 1, &c, 1) == 1)
			lo = mid;
		else
			hi = mid - 1;
		used = lo;
	}
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fwrite(tb_ptr(b, 0x7f1200000000ull), 1, used, f);
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	for (int big = 0; big < 2; big++) {
		char name[64];
		tb *b = tb_new(&(tb_opts){.seed = 1u + (unsigned)big, .big_endian = big, .size = 1u << 18, .slab_capacity = 4});
		sc_lock_order(b, 12, 0, "accounts", "ledger");
		sc_permits(b, 20);
		snprintf(name, sizeof(name), "locks-%d", big);
		save(b, dir, name);
		tb_free(b);
		b = tb_new(&(tb_opts){.seed = 3u + (unsigned)big, .big_endian = big, .size = 1u << 18, .slab_capacity = 4});
		sc_ring(b, 1);
		sc_join(b, 10);
		sc_self(b, 20);
		snprintf(name, sizeof(name), "ring-%d", big);
		save(b, dir, name);
		tb_free(b);
		b = tb_new(&(tb_opts){.seed = 5u + (unsigned)big, .big_endian = big, .size = 1u << 19, .slab_capacity = 4});
		sc_idle_server(b, 1, 20);
		snprintf(name, sizeof(name), "server-%d", big);
		save(b, dir, name);
		tb_free(b);
	}
	return 0;
}
