/*
 * reader_buffer.c — a tangle_reader over memory segments of this process
 * (tests, fuzzing, benchmarks). Segments are kept by reference, sorted by
 * address; a read copies the contiguous readable prefix, so a read that
 * runs off a segment's end is short, as in a core file.
 */
#include <stdlib.h>
#include <string.h>

#include "ti.h"

struct buf_sym {
	char *name;
	uint64_t addr;
};

struct buf_ctx {
	tangle_segment *segs;
	size_t nsegs;
	struct buf_sym *syms;
	size_t nsyms;
};

static const tangle_segment *find_seg(const struct buf_ctx *c, uint64_t addr)
{
	size_t lo = 0, hi = c->nsegs;
	while (lo < hi) { /* last segment with address <= addr */
		size_t mid = lo + (hi - lo) / 2;
		if (c->segs[mid].address <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const tangle_segment *s = &c->segs[lo - 1];
	if (addr - s->address >= s->size)
		return NULL;
	return s;
}

static size_t buf_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct buf_ctx *c = ctx;
	size_t done = 0;
	while (done < len) {
		uint64_t a = addr + done;
		if (a < addr)
			break; /* wrapped */
		const tangle_segment *s = find_seg(c, a);
		if (!s)
			break;
		size_t off = (size_t)(a - s->address);
		size_t n = s->size - off;
		if (n > len - done)
			n = len - done;
		memcpy((char *)buf + done, (const char *)s->data + off, n);
		done += n;
	}
	return done;
}

static int buf_lookup(void *ctx, const char *symbol, uint64_t *addr)
{
	const struct buf_ctx *c = ctx;
	for (size_t i = 0; i < c->nsyms; i++) {
		if (strcmp(c->syms[i].name, symbol) == 0) {
			*addr = c->syms[i].addr;
			return 0;
		}
	}
	return -1;
}

static void buf_close(void *ctx)
{
	struct buf_ctx *c = ctx;
	for (size_t i = 0; i < c->nsyms; i++)
		free(c->syms[i].name);
	free(c->syms);
	free(c->segs);
	free(c);
}

static int seg_cmp(const void *a, const void *b)
{
	const tangle_segment *x = a, *y = b;
	return x->address < y->address ? -1 : x->address > y->address;
}

tangle_error *tangle_reader_buffer(const tangle_segment *segments,
                                   size_t count, tangle_reader *out)
{
	if (!out || (count && !segments))
		return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                        "tangle_reader_buffer: bad arguments");
	struct buf_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return &tangle_error_out_of_memory;
	c->segs = calloc(count ? count : 1, sizeof(*c->segs));
	if (!c->segs) {
		free(c);
		return &tangle_error_out_of_memory;
	}
	if (count)
		memcpy(c->segs, segments, count * sizeof(*segments));
	c->nsegs = count;
	qsort(c->segs, count, sizeof(*c->segs), seg_cmp);
	for (size_t i = 1; i < count; i++) {
		const tangle_segment *p = &c->segs[i - 1];
		if (p->address + p->size > c->segs[i].address) {
			uint64_t at = c->segs[i].address;
			buf_close(c);
			return tangle_error_new(TANGLE_INSPECT_EUSAGE, at,
			                        "tangle_reader_buffer: segments overlap");
		}
	}
	out->ctx = c;
	out->read = buf_read;
	out->lookup = buf_lookup;
	out->close = buf_close;
	return NULL;
}

tangle_error *tangle_reader_buffer_symbol(tangle_reader *reader,
                                          const char *symbol, uint64_t address)
{
	if (!reader || reader->read != buf_read || !symbol)
		return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                        "tangle_reader_buffer_symbol: not a buffer reader");
	struct buf_ctx *c = reader->ctx;
	struct buf_sym *s = realloc(c->syms, (c->nsyms + 1) * sizeof(*s));
	if (!s)
		return &tangle_error_out_of_memory;
	c->syms = s;
	s[c->nsyms].name = strdup(symbol);
	if (!s[c->nsyms].name)
		return &tangle_error_out_of_memory;
	s[c->nsyms].addr = address;
	c->nsyms++;
	return NULL;
}
