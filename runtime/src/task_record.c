/*
 * task_record.c — what a task writes in its own debug record: labels,
 * spans and holds.
 *
 * Only the task itself writes these fields (readers may see a torn entry
 * mid-update and must treat it as such). Counts are stored after the entry
 * they cover is complete, so a reader never sees a counted entry that was
 * never written. Holds are debug bookkeeping only: nothing in the runtime
 * decides anything from them (TANGLE_DEBUG_TABLE=0 drops them).
 */
#include <string.h>

#include "scheduler.h"

static void copy_str(char *dst, const char *src, size_t cap)
{
	size_t i = 0;
	for (; i + 1 < cap && src[i]; i++)
		dst[i] = src[i];
	memset(dst + i, 0, cap - i);
}

int tangle_task_set_label(const char *key, const char *value)
{
	struct tangle_task *t = tangle__current();
	if (!t)
		return TANGLE_ENOTASK;
	if (!key || !*key)
		return TANGLE_EINVAL;
	char k[TANGLE_LABEL_KEY_MAX];
	copy_str(k, key, sizeof k);
	unsigned n = t->label_count, i;
	for (i = 0; i < n; i++)
		if (strcmp(t->labels[i].key, k) == 0)
			break;
	if (!value) {
		if (i == n)
			return TANGLE_OK;
		/* Keep the order: shift the later ones down. */
		for (; i + 1 < n; i++)
			t->labels[i] = t->labels[i + 1];
		DBG_STORE(t->label_count, (uint8_t)(n - 1));
		return TANGLE_OK;
	}
	if (i == n) {
		if (n == TANGLE_LABELS_MAX)
			return TANGLE_ENOMEM;
		copy_str(t->labels[i].key, k, TANGLE_LABEL_KEY_MAX);
		copy_str(t->labels[i].value, value, TANGLE_LABEL_VALUE_MAX);
		DBG_STORE(t->label_count, (uint8_t)(n + 1));
		return TANGLE_OK;
	}
	copy_str(t->labels[i].value, value, TANGLE_LABEL_VALUE_MAX);
	return TANGLE_OK;
}

int tangle_span_enter_at(const char *name, const tangle_site *site)
{
	struct tangle_task *t = tangle__current();
	if (!t)
		return TANGLE_ENOTASK;
	unsigned d = t->span_depth;
	if (d == UINT8_MAX)
		return TANGLE_EINVAL;
	if (d < TANGLE_SPANS_MAX) {
		t->spans[d].name = name;
		t->spans[d].site = site;
		t->spans[d].entered_at = tangle__clock();
	}
	DBG_STORE(t->span_depth, (uint8_t)(d + 1));
	return TANGLE_OK;
}

int tangle_span_exit(void)
{
	struct tangle_task *t = tangle__current();
	if (!t)
		return TANGLE_ENOTASK;
	if (!t->span_depth)
		return TANGLE_EINVAL;
	DBG_STORE(t->span_depth, (uint8_t)(t->span_depth - 1));
	return TANGLE_OK;
}

void tangle__hold_add(void *object, uint8_t mode, uint32_t count,
                      const tangle_site *site)
{
#if TANGLE_DEBUG_TABLE
	struct tangle_task *t = tangle__current();
	if (t)
		tangle__hold_add_to(t, object, mode, count, tangle__clock(), site);
#else
	(void)object, (void)mode, (void)count, (void)site;
#endif
}

void tangle__hold_remove(void *object, uint8_t mode, uint32_t count)
{
#if TANGLE_DEBUG_TABLE
	struct tangle_task *t = tangle__current();
	if (t)
		tangle__hold_remove_from(t, object, mode, count);
#else
	(void)object, (void)mode, (void)count;
#endif
}

void tangle__hold_add_to(struct tangle_task *t, void *object, uint8_t mode,
                         uint32_t count, uint64_t since, const tangle_site *site)
{
#if TANGLE_DEBUG_TABLE
	unsigned n = t->hold_count;
	if (mode == TANGLE_DEBUG_HOLD_PERMITS)
		for (unsigned i = 0; i < n; i++)
			if (t->holds[i].object == object && t->holds[i].mode == mode) {
				DBG_STORE(t->holds[i].count, t->holds[i].count + count);
				return;
			}
	if (n == TANGLE_HOLDS_MAX) {
		DBG_INC(t->hold_overflow);
		return;
	}
	tangle__hold_put(t, n, object, mode, count, since, site);
#else
	(void)t, (void)object, (void)mode, (void)count, (void)since, (void)site;
#endif
}

void tangle__hold_remove_from(struct tangle_task *t, void *object, uint8_t mode,
                              uint32_t count)
{
#if TANGLE_DEBUG_TABLE
	unsigned n = t->hold_count;
	for (unsigned i = n; i-- > 0;) {
		struct tangle_hold *h = &t->holds[i];
		if (h->object != object || h->mode != mode)
			continue;
		if (mode == TANGLE_DEBUG_HOLD_PERMITS && h->count > count) {
			DBG_STORE(h->count, h->count - count);
			return;
		}
		DBG_STORE(t->hold_count, (uint8_t)(n - 1));
		for (; i + 1 < n; i++)
			t->holds[i] = t->holds[i + 1];
		return;
	}
	if (t->hold_overflow)
		DBG_STORE(t->hold_overflow, t->hold_overflow - 1);
#else
	(void)t, (void)object, (void)mode, (void)count;
#endif
}
