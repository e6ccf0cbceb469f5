/*
 * layout.c — reading fields by description. The table's layout gives, for
 * each (record, field) id, an offset and a size; integers are read at that
 * width in the table's byte order. Ids this engine does not know are
 * ignored; fields that are absent read as 0. A field wider than 8 bytes
 * reads its low 8 bytes (fields may grow).
 */
#include <string.h>

#include "ti.h"

uint64_t ti_uint(const ti_layout *L, const uint8_t *p, size_t size)
{
	uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (!L->big_endian) { /* the common case: the host's own order */
		uint16_t v16;
		uint32_t v32;
		switch (size) {
		case 1: return p[0];
		case 2: memcpy(&v16, p, 2); return v16;
		case 4: memcpy(&v32, p, 4); return v32;
		case 8: memcpy(&v, p, 8); return v;
		default: break;
		}
	}
#endif
	if (size > 8) {
		if (L->big_endian)
			p += size - 8;
		size = 8;
	}
	if (L->big_endian) {
		for (size_t i = 0; i < size; i++)
			v = (v << 8) | p[i];
	} else {
		for (size_t i = size; i-- > 0;)
			v = (v << 8) | p[i];
	}
	return v;
}

uint64_t ti_get(const ti_layout *L, const uint8_t *rec, int r, int f)
{
	const ti_field *fd = &L->f[r][f];
	if (!fd->size)
		return 0;
	return ti_uint(L, rec + fd->off, fd->size);
}

int64_t ti_get_signed(const ti_layout *L, const uint8_t *rec, int r, int f)
{
	const ti_field *fd = &L->f[r][f];
	if (!fd->size)
		return 0;
	uint64_t v = ti_uint(L, rec + fd->off, fd->size);
	unsigned bits = fd->size >= 8 ? 64 : fd->size * 8;
	if (bits < 64 && (v >> (bits - 1)) & 1)
		v |= ~0ull << bits;
	return (int64_t)v;
}

int ti_get_chars(const ti_layout *L, const uint8_t *rec, int r, int f,
                 char *dst, size_t dstlen)
{
	const ti_field *fd = &L->f[r][f];
	dst[0] = 0;
	if (!fd->size || dstlen == 0)
		return 0;
	size_t n = fd->size < dstlen - 1 ? fd->size : dstlen - 1;
	const uint8_t *p = rec + fd->off;
	size_t len = 0;
	while (len < n && p[len])
		len++;
	for (size_t i = 0; i < len; i++) /* keep output one line, printable */
		dst[i] = (p[i] < 0x20 || p[i] == 0x7f) ? '?' : (char)p[i];
	dst[len] = 0;
	return memchr(p, 0, fd->size) == NULL;
}
