/*
 * arena.c — the session's allocator, hash maps and vectors.
 *
 * An arena is a list of chunks freed together with the session; nothing
 * decoded is freed on its own. Maps are open-addressing with linear probing
 * over nonzero keys (0 marks an empty slot), grown at half load, so a
 * lookup is O(1) whatever the target holds.
 */
#include <stdlib.h>
#include <string.h>

#include "ti.h"

struct ti_chunk {
	struct ti_chunk *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

#define TI_CHUNK (256u << 10)

void *ti_alloc(ti_arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (size == 0)
		size = 16;
	struct ti_chunk *c = a->head;
	if (!c || c->size - c->used < size) {
		size_t want = size > TI_CHUNK / 4 ? size : TI_CHUNK;
		c = malloc(sizeof(*c) + want);
		if (!c) {
			a->failed = 1;
			return NULL;
		}
		c->size = want;
		c->used = 0;
		if (size > TI_CHUNK / 4 && a->head) {
			/* a big block: keep filling the current chunk */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	void *p = c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

char *ti_strndup(ti_arena *a, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = ti_alloc(a, len + 1);
	if (d)
		memcpy(d, s, len);
	return d;
}

char *ti_printf(ti_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *d = ti_alloc(a, (size_t)n + 1);
	if (!d)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(d, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return d;
}

void ti_arena_free(ti_arena *a)
{
	struct ti_chunk *c = a->head;
	while (c) {
		struct ti_chunk *n = c->next;
		free(c);
		c = n;
	}
	a->head = NULL;
}

static size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

static int map_grow(ti_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	uint64_t *keys = calloc(cap, sizeof(*keys));
	uint64_t *vals = malloc(cap * sizeof(*vals));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t j = slot_of(m->keys[i], cap);
		while (keys[j])
			j = (j + 1) & (cap - 1);
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	return 0;
}

int ti_map_put(ti_map *m, uint64_t key, uint64_t val)
{
	if (!key)
		return 0;
	if ((m->count + 1) * 2 > m->cap && map_grow(m))
		return -1;
	size_t j = slot_of(key, m->cap);
	while (m->keys[j] && m->keys[j] != key)
		j = (j + 1) & (m->cap - 1);
	if (!m->keys[j])
		m->count++;
	m->keys[j] = key;
	m->vals[j] = val;
	return 0;
}

int ti_map_get(const ti_map *m, uint64_t key, uint64_t *val)
{
	if (!key || !m->cap)
		return 0;
	size_t j = slot_of(key, m->cap);
	while (m->keys[j]) {
		if (m->keys[j] == key) {
			*val = m->vals[j];
			return 1;
		}
		j = (j + 1) & (m->cap - 1);
	}
	return 0;
}

void ti_map_free(ti_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

void *ti_vec_push(ti_vec *v, size_t elem)
{
	if (v->len == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *d = realloc(v->data, cap * elem);
		if (!d)
			return NULL;
		v->data = d;
		v->cap = cap;
	}
	void *p = (unsigned char *)v->data + v->len * elem;
	v->len++;
	memset(p, 0, elem);
	return p;
}

void ti_vec_free(ti_vec *v)
{
	free(v->data);
	memset(v, 0, sizeof(*v));
}

uint64_t ti_hash(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}
