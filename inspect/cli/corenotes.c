/*
 * corenotes.c — decode the notes of a core and of an ELF image in memory.
 *
 * Input is target data: every length is checked against the buffer, counts
 * are capped, nothing is trusted to be NUL-terminated.
 */
#include "core.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MAPPINGS (1u << 20)

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

int cli_parse_nt_file(const void *desc, size_t size, struct cli_mapping **out)
{
	const unsigned char *d = desc;
	*out = NULL;
	if (size < 16)
		return -1;
	uint64_t count = get64(d), page = get64(d + 8);
	if (count > MAX_MAPPINGS || count > (size - 16) / 24 || page == 0 ||
	    (page & (page - 1)))
		return -1;
	struct cli_mapping *m = calloc(count ? count : 1, sizeof *m);
	if (!m)
		return -1;
	const unsigned char *e = d + 16;
	const char *names = (const char *)(e + count * 24);
	const char *stop = (const char *)d + size;
	for (uint64_t i = 0; i < count; i++, e += 24) {
		m[i].start = get64(e);
		m[i].end = get64(e + 8);
		m[i].offset = get64(e + 16) * page;
		m[i].fd = -1;
		const char *nul = memchr(names, 0, (size_t)(stop - names));
		if (!nul || m[i].end < m[i].start) {
			free(m);
			return -1;
		}
		m[i].path = names;
		names = nul + 1;
	}
	*out = m;
	return (int)count;
}

uint64_t cli_auxv_get(const void *desc, size_t size, uint64_t type)
{
	const unsigned char *d = desc;
	for (size_t i = 0; i + 16 <= size; i += 16) {
		uint64_t t = get64(d + i);
		if (t == AT_NULL)
			break;
		if (t == type)
			return get64(d + i + 8);
	}
	return 0;
}

size_t cli_notes_build_id(const void *notes, size_t size, size_t align,
                          const void **id)
{
	const unsigned char *p = notes;
	size_t off = 0;
	if (align != 8)
		align = 4;
	while (off + sizeof(Elf64_Nhdr) <= size) {
		Elf64_Nhdr h;
		memcpy(&h, p + off, sizeof h);
		size_t name = off + sizeof h;
		size_t desc = name + ((h.n_namesz + align - 1) & ~(align - 1));
		if (h.n_namesz > size || h.n_descsz > size || desc > size ||
		    h.n_descsz > size - desc)
			return 0;
		if (h.n_type == NT_GNU_BUILD_ID && h.n_namesz == 4 &&
		    memcmp(p + name, "GNU", 4) == 0 && h.n_descsz > 0) {
			*id = p + desc;
			return h.n_descsz;
		}
		off = desc + ((h.n_descsz + align - 1) & ~(align - 1));
	}
	return 0;
}

void cli_hex(const void *id, size_t len, char *buf, size_t size)
{
	const unsigned char *b = id;
	size_t w = 0;
	if (!size)
		return;
	for (size_t i = 0; i < len && w + 2 < size; i++, w += 2)
		snprintf(buf + w, 3, "%02x", b[i]);
	buf[w] = 0;
}
