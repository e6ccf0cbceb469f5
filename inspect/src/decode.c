/*
 * decode.c — the root, its layout, runtimes, workers, slabs and tasks.
 *
 * Order: header (magic, version, sizes) -> the whole root in one read ->
 * layout (validated: every field inside its record, arrays at least one
 * element wide) -> runtimes (list, visited set) -> each runtime's workers
 * (one bulk read) -> slabs (list, visited set across runtimes) -> each
 * slab's task records (one bulk read). Objects and queues: decode_objects.c.
 *
 * What is refused outright (an error): no root, a bad magic, an unknown
 * major version, a header or layout that cannot describe anything. What is
 * reported and skipped (a problem): everything below the root.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ti.h"

#define HDR_SIZE 32
#define LAYOUT_ENTRY 16

size_t ti_read(tangle_session *s, uint64_t addr, void *buf, size_t len)
{
	if (!addr || !len)
		return 0;
	if (addr + len < addr) /* wraps: only the part below 2^64 */
		len = (size_t)(UINT64_MAX - addr);
	size_t n = s->r->read(s->r->ctx, addr, buf, len);
	return n > len ? len : n;
}

void ti_problem_add(tangle_session *s, uint64_t addr, const char *fmt, ...)
{
	if (s->nproblems >= TI_MAX_PROBLEMS) {
		s->problems_dropped++;
		return;
	}
	if (s->nproblems % 64 == 0) {
		ti_problem *p = realloc(s->problems,
		                        (s->nproblems + 64) * sizeof(*p));
		if (!p) {
			s->problems_dropped++;
			return;
		}
		s->problems = p;
	}
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *what = ti_strndup(&s->A, msg, sizeof(msg));
	if (!what) {
		s->problems_dropped++;
		return;
	}
	s->problems[s->nproblems].addr = addr;
	s->problems[s->nproblems].what = what;
	s->nproblems++;
}

int ti_visit_begin(tangle_session *s)
{
	s->visit_gen++;
	return 0;
}

int ti_visit(tangle_session *s, uint64_t addr)
{
	uint64_t gen;
	if (ti_map_get(&s->visited, addr, &gen) && gen == s->visit_gen)
		return 1;
	if (ti_map_put(&s->visited, addr, s->visit_gen))
		return 1; /* out of memory: stop the walk as if it looped */
	return 0;
}

const char *ti_read_string(tangle_session *s, uint64_t addr)
{
	uint64_t v;
	if (!addr)
		return "";
	if (ti_map_get(&s->strings, addr, &v))
		return (const char *)(uintptr_t)v;
	char buf[TI_MAX_STRING];
	size_t n = ti_read(s, addr, buf, sizeof(buf) - 1);
	const char *str;
	if (n == 0) {
		str = "<unreadable>";
	} else {
		buf[n] = 0;
		size_t len = strlen(buf);
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
				buf[i] = '?';
		str = ti_strndup(&s->A, buf, len);
		if (!str)
			return "";
	}
	ti_map_put(&s->strings, addr, (uint64_t)(uintptr_t)str);
	return str;
}

const ti_site *ti_read_site(tangle_session *s, uint64_t addr)
{
	uint64_t v;
	if (!addr)
		return NULL;
	if (ti_map_get(&s->sites, addr, &v))
		return (const ti_site *)(uintptr_t)v;
	const ti_layout *L = &s->L;
	uint32_t size = L->rec_size[TANGLE_DR_SITE];
	uint8_t buf[TI_MAX_RECORD];
	ti_site *site = ti_alloc(&s->A, sizeof(*site));
	if (!site)
		return NULL;
	site->addr = addr;
	site->file = "";
	site->function = "";
	if (size && ti_read(s, addr, buf, size) == size) {
		site->file = ti_read_string(s, ti_get(L, buf, TANGLE_DR_SITE,
		                                      TANGLE_DF_SITE_FILE));
		site->function = ti_read_string(s, ti_get(L, buf, TANGLE_DR_SITE,
		                                          TANGLE_DF_SITE_FUNCTION));
		site->line = (uint32_t)ti_get(L, buf, TANGLE_DR_SITE,
		                              TANGLE_DF_SITE_LINE);
	} else {
		site->file = "<unreadable>";
	}
	ti_map_put(&s->sites, addr, (uint64_t)(uintptr_t)site);
	return site;
}

/* ---- header and layout ----------------------------------------------------- */

static tangle_error *parse_layout(tangle_session *s, const uint8_t *root,
                                  uint32_t root_size, uint32_t off,
                                  uint32_t count)
{
	ti_layout *L = &s->L;
	static const int arrays[][3] = {
		/* record, field, element record */
		{TANGLE_DR_TASK, TANGLE_DF_TASK_WAIT, TANGLE_DR_WAITER},
		{TANGLE_DR_TASK, TANGLE_DF_TASK_HOLDS, TANGLE_DR_HOLD},
		{TANGLE_DR_TASK, TANGLE_DF_TASK_LABELS, TANGLE_DR_LABEL},
		{TANGLE_DR_TASK, TANGLE_DF_TASK_SPANS, TANGLE_DR_SPAN},
	};
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < count; i++) {
			const uint8_t *e = root + off + (size_t)i * LAYOUT_ENTRY;
			uint32_t rec = (uint32_t)ti_uint(L, e, 2);
			uint32_t field = (uint32_t)ti_uint(L, e + 2, 2);
			uint32_t eoff = (uint32_t)ti_uint(L, e + 4, 4);
			uint32_t esize = (uint32_t)ti_uint(L, e + 8, 4);
			if (rec >= TI_NREC || rec == 0 || field >= TI_NFIELD)
				continue; /* an id this engine does not know */
			if ((field == TANGLE_DF_RECORD) != (pass == 0))
				continue;
			if (pass == 0) {
				/* the root can be read only as far as root_size */
				if (rec == TANGLE_DR_ROOT && esize > root_size)
					esize = root_size;
				if (esize == 0 || esize > TI_MAX_RECORD) {
					ti_problem_add(s, s->root, "layout: record %u has a bad size %u",
					               rec, esize);
					continue;
				}
				if (!L->rec_size[rec])
					L->rec_size[rec] = esize;
				continue;
			}
			uint32_t rsize = L->rec_size[rec];
			if (!rsize || esize == 0 || (uint64_t)eoff + esize > rsize) {
				ti_problem_add(s, s->root,
				               "layout: field %u.%u (offset %u, size %u) is outside its record",
				               rec, field, eoff, esize);
				continue;
			}
			if (L->f[rec][field].size)
				continue; /* the first entry wins */
			L->f[rec][field].off = eoff;
			L->f[rec][field].size = esize;
		}
	}
	for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
		ti_field *fd = &L->f[arrays[i][0]][arrays[i][1]];
		uint32_t elem = L->rec_size[arrays[i][2]];
		if (fd->size && (!elem || fd->size < elem)) {
			ti_problem_add(s, s->root,
			               "layout: field %d.%d is narrower than its element record",
			               arrays[i][0], arrays[i][1]);
			fd->size = 0;
		}
	}
	/* Pointers must be pointer-sized at most 8 bytes; the rest is read as
	 * integers of the given width. */
	if (!L->rec_size[TANGLE_DR_TASK] || !ti_has(L, TANGLE_DR_TASK, TANGLE_DF_TASK_ID) ||
	    !ti_has(L, TANGLE_DR_TASK, TANGLE_DF_TASK_STATE))
		return tangle_error_new(TANGLE_INSPECT_ECORRUPT, s->root,
		                        "debug table layout has no task record with id and state");
	if (!ti_has(L, TANGLE_DR_ROOT, TANGLE_DF_ROOT_RUNTIMES) ||
	    !L->rec_size[TANGLE_DR_RUNTIME])
		return tangle_error_new(TANGLE_INSPECT_ECORRUPT, s->root,
		                        "debug table layout has no runtime list");
	return NULL;
}

static tangle_error *read_root(tangle_session *s)
{
	uint8_t h[HDR_SIZE];
	size_t n = ti_read(s, s->root, h, sizeof(h));
	if (n < sizeof(h))
		return tangle_error_new(TANGLE_INSPECT_EREAD, s->root,
		                        "cannot read the debug table root at 0x%" PRIx64,
		                        s->root);
	if (memcmp(h, TANGLE_DEBUG_MAGIC, 8) != 0)
		return tangle_error_new(TANGLE_INSPECT_ENOTABLE, s->root,
		                        "no tangle debug table at 0x%" PRIx64 " (bad magic)",
		                        s->root);
	ti_layout *L = &s->L;
	uint8_t endian = h[29];
	if (endian != TANGLE_DEBUG_LITTLE && endian != TANGLE_DEBUG_BIG)
		return tangle_error_new(TANGLE_INSPECT_ECORRUPT, s->root,
		                        "debug table header has a bad byte order mark %u",
		                        endian);
	L->big_endian = endian == TANGLE_DEBUG_BIG;
	s->major = (uint16_t)ti_uint(L, h + 8, 2);
	s->minor = (uint16_t)ti_uint(L, h + 10, 2);
	if (s->major != TANGLE_DEBUG_ABI_MAJOR)
		return tangle_error_new(TANGLE_INSPECT_EVERSION, s->root,
		                        "debug table ABI version %u.%u cannot be read by this "
		                        "tangle, which reads ABI version %u.x (up to %u.%u)",
		                        s->major, s->minor, TANGLE_DEBUG_ABI_MAJOR,
		                        TANGLE_DEBUG_ABI_MAJOR, TANGLE_DEBUG_ABI_MINOR);
	uint32_t header_size = (uint32_t)ti_uint(L, h + 12, 4);
	uint32_t root_size = (uint32_t)ti_uint(L, h + 16, 4);
	uint32_t lay_off = (uint32_t)ti_uint(L, h + 20, 4);
	uint32_t lay_count = (uint32_t)ti_uint(L, h + 24, 4);
	L->ptr_size = h[28];
	if (L->ptr_size != 4 && L->ptr_size != 8)
		return tangle_error_new(TANGLE_INSPECT_ECORRUPT, s->root,
		                        "debug table header: pointer size %u", L->ptr_size);
	if (header_size < HDR_SIZE || root_size < header_size ||
	    root_size > TI_MAX_ROOT || lay_count > TI_MAX_LAYOUT ||
	    lay_off < header_size ||
	    (uint64_t)lay_off + (uint64_t)lay_count * LAYOUT_ENTRY > root_size)
		return tangle_error_new(TANGLE_INSPECT_ECORRUPT, s->root,
		                        "debug table header is inconsistent (header %u, root %u, "
		                        "layout %u entries at %u)",
		                        header_size, root_size, lay_count, lay_off);
	uint8_t *root = malloc(root_size);
	if (!root)
		return &tangle_error_out_of_memory;
	if (ti_read(s, s->root, root, root_size) < root_size) {
		free(root);
		return tangle_error_new(TANGLE_INSPECT_EREAD, s->root,
		                        "debug table root at 0x%" PRIx64 " is truncated "
		                        "(%u bytes expected)", s->root, root_size);
	}
	tangle_error *err = parse_layout(s, root, root_size, lay_off, lay_count);
	if (err) {
		free(root);
		return err;
	}
	const int R = TANGLE_DR_ROOT;
	if (!L->rec_size[R])
		L->rec_size[R] = root_size;
	s->start_mono = ti_get(L, root, R, TANGLE_DF_ROOT_START_MONO);
	s->start_real = ti_get(L, root, R, TANGLE_DF_ROOT_START_REAL);
	s->sync_mono = ti_get(L, root, R, TANGLE_DF_ROOT_SYNC_MONO);
	s->sync_real = ti_get(L, root, R, TANGLE_DF_ROOT_SYNC_REAL);
	s->arch = (uint16_t)ti_get(L, root, R, TANGLE_DF_ROOT_ARCH);
	s->resume_pc = ti_get(L, root, R, TANGLE_DF_ROOT_RESUME_PC);
	s->entry_pc = ti_get(L, root, R, TANGLE_DF_ROOT_ENTRY_PC);
	s->pid = (uint32_t)ti_get(L, root, R, TANGLE_DF_ROOT_PID);
	s->seq = ti_get(L, root, R, TANGLE_DF_ROOT_SEQ);
	uint64_t slots = ti_get(L, root, R, TANGLE_DF_ROOT_CTX_SLOTS);
	const ti_field *regs = &L->f[R][TANGLE_DF_ROOT_CTX_REGS];
	if (slots > TANGLE_DEBUG_CTX_MAX || slots * 2 > regs->size) {
		if (slots)
			ti_problem_add(s, s->root, "root: %" PRIu64 " context slots do not fit", slots);
		slots = 0;
	}
	s->ctx_slots = (uint16_t)slots;
	for (unsigned i = 0; i < slots; i++)
		s->ctx_regs[i] = (uint16_t)ti_uint(L, root + regs->off + 2 * i, 2);
	s->rt_head = ti_get(L, root, R, TANGLE_DF_ROOT_RUNTIMES);
	s->obj_head = ti_get(L, root, R, TANGLE_DF_ROOT_OBJECTS);
	s->obj_count = ti_get(L, root, R, TANGLE_DF_ROOT_OBJECT_COUNT);
	free(root);
	return NULL;
}

/* ---- runtimes, workers, slabs, tasks ----------------------------------------- */

static void decode_workers(tangle_session *s, ti_runtime *rt, uint64_t base,
                           uint32_t count, uint32_t stride, ti_vec *workers)
{
	const ti_layout *L = &s->L;
	const int W = TANGLE_DR_WORKER;
	uint32_t size = L->rec_size[W];
	rt->first_worker = (uint32_t)workers->len;
	if (!base || !count || !size)
		return;
	if (count > TI_MAX_WORKERS) {
		ti_problem_add(s, base, "runtime %" PRIu64 ": %u workers, only %u read",
		               rt->id, count, TI_MAX_WORKERS);
		count = TI_MAX_WORKERS;
	}
	if (stride < size) {
		if (stride)
			ti_problem_add(s, base, "runtime %" PRIu64 ": worker stride %u < record size %u",
			               rt->id, stride, size);
		stride = size;
	}
	if ((uint64_t)count * stride > (16u << 20))
		count = (16u << 20) / stride;
	uint8_t *buf = malloc((size_t)count * stride);
	if (!buf)
		return;
	size_t got = ti_read(s, base, buf, (size_t)count * stride);
	uint32_t ok = (uint32_t)(got / stride);
	if (got % stride >= size)
		ok++;
	if (ok > count)
		ok = count;
	if (ok < count)
		ti_problem_add(s, base, "runtime %" PRIu64 ": workers %u..%u unreadable",
		               rt->id, ok, count - 1);
	for (uint32_t i = 0; i < ok; i++) {
		const uint8_t *r = buf + (size_t)i * stride;
		ti_worker *w = ti_vec_push(workers, sizeof(*w));
		if (!w)
			break;
		w->rt = (uint32_t)(rt - s->rts);
		w->index = ti_has(L, W, TANGLE_DF_WORKER_INDEX) ?
		           (uint32_t)ti_get(L, r, W, TANGLE_DF_WORKER_INDEX) : i;
		w->tid = (uint32_t)ti_get(L, r, W, TANGLE_DF_WORKER_TID);
		w->state = (uint8_t)ti_get(L, r, W, TANGLE_DF_WORKER_STATE);
		w->current = ti_get(L, r, W, TANGLE_DF_WORKER_CURRENT);
		w->current_id = ti_get(L, r, W, TANGLE_DF_WORKER_CURRENT_ID);
		w->running_since = ti_get(L, r, W, TANGLE_DF_WORKER_RUNNING_SINCE);
		w->queue_len = (uint32_t)ti_get(L, r, W, TANGLE_DF_WORKER_QUEUE_LEN);
		w->switches = ti_get(L, r, W, TANGLE_DF_WORKER_SWITCHES);
		w->idle_since = ti_get(L, r, W, TANGLE_DF_WORKER_IDLE_SINCE);
		w->task = TI_NONE;
		rt->nworkers++;
	}
	free(buf);
}

void ti_decode_wait(tangle_session *s, const uint8_t *rec, uint64_t addr,
                    ti_wait *w)
{
	const ti_layout *L = &s->L;
	const int W = TANGLE_DR_WAITER;
	w->addr = addr;
	w->next = ti_get(L, rec, W, TANGLE_DF_WAITER_NEXT);
	w->task_addr = ti_get(L, rec, W, TANGLE_DF_WAITER_TASK);
	w->state = (uint8_t)ti_get(L, rec, W, TANGLE_DF_WAITER_STATE);
	w->kind = (uint8_t)ti_get(L, rec, W, TANGLE_DF_WAITER_KIND);
	w->op = (uint8_t)ti_get(L, rec, W, TANGLE_DF_WAITER_OP);
	w->count = (uint32_t)ti_get(L, rec, W, TANGLE_DF_WAITER_COUNT);
	w->object = ti_get(L, rec, W, TANGLE_DF_WAITER_OBJECT);
	w->since = ti_get(L, rec, W, TANGLE_DF_WAITER_SINCE);
	w->deadline = ti_get(L, rec, W, TANGLE_DF_WAITER_DEADLINE);
	w->granted_at = ti_get(L, rec, W, TANGLE_DF_WAITER_GRANTED_AT);
	w->select = ti_get(L, rec, W, TANGLE_DF_WAITER_SELECT);
	w->site = NULL;
	w->what = NULL;
	w->task = w->obj = w->target = w->ahead = TI_NONE;
	if (w->kind == TANGLE_DEBUG_WAIT_NONE && w->state == TANGLE_DEBUG_WAITER_NONE)
		return; /* no wait: no strings to read */
	w->site = ti_read_site(s, ti_get(L, rec, W, TANGLE_DF_WAITER_SITE));
	uint64_t what = ti_get(L, rec, W, TANGLE_DF_WAITER_WHAT);
	if (what)
		w->what = ti_read_string(s, what);
}

static void decode_task(tangle_session *s, const uint8_t *r, uint64_t addr,
                        ti_task *t)
{
	const ti_layout *L = &s->L;
	const int T = TANGLE_DR_TASK;
	char name[64];
	t->addr = addr;
	t->id = ti_get(L, r, T, TANGLE_DF_TASK_ID);
	t->generation = (uint32_t)ti_get(L, r, T, TANGLE_DF_TASK_GENERATION);
	t->state = (uint8_t)ti_get(L, r, T, TANGLE_DF_TASK_STATE);
	t->flags = (uint8_t)ti_get(L, r, T, TANGLE_DF_TASK_FLAGS);
	ti_get_chars(L, r, T, TANGLE_DF_TASK_NAME, name, sizeof(name));
	t->name = ti_strndup(&s->A, name, sizeof(name));
	if (!t->name)
		t->name = "";
	t->parent_id = ti_get(L, r, T, TANGLE_DF_TASK_PARENT_ID);
	t->spawn_site = ti_read_site(s, ti_get(L, r, T, TANGLE_DF_TASK_SPAWN_SITE));
	t->runtime = ti_get(L, r, T, TANGLE_DF_TASK_RUNTIME);
	t->worker = ti_has(L, T, TANGLE_DF_TASK_WORKER) ?
	            (int32_t)ti_get_signed(L, r, T, TANGLE_DF_TASK_WORKER) : -1;
	t->spawned_at = ti_get(L, r, T, TANGLE_DF_TASK_SPAWNED_AT);
	t->last_ran_at = ti_get(L, r, T, TANGLE_DF_TASK_LAST_RAN_AT);
	t->run_ns = ti_get(L, r, T, TANGLE_DF_TASK_RUN_NS);
	t->resumes = ti_get(L, r, T, TANGLE_DF_TASK_RESUMES);
	t->woken_at = ti_get(L, r, T, TANGLE_DF_TASK_WOKEN_AT);
	t->woken_by = ti_get(L, r, T, TANGLE_DF_TASK_WOKEN_BY);
	t->wakes = ti_get(L, r, T, TANGLE_DF_TASK_WAKES);
	t->has_live_wakers = ti_has(L, T, TANGLE_DF_TASK_LIVE_WAKERS);
	t->live_wakers = (uint32_t)ti_get(L, r, T, TANGLE_DF_TASK_LIVE_WAKERS);
	t->hold_overflow = (uint32_t)ti_get(L, r, T, TANGLE_DF_TASK_HOLD_OVERFLOW);
	t->saved_sp = ti_get(L, r, T, TANGLE_DF_TASK_SAVED_SP);
	t->stack_lo = ti_get(L, r, T, TANGLE_DF_TASK_STACK_LO);
	t->stack_hi = ti_get(L, r, T, TANGLE_DF_TASK_STACK_HI);
	t->finished_at = ti_get(L, r, T, TANGLE_DF_TASK_FINISHED_AT);

	const ti_field *wf = &L->f[T][TANGLE_DF_TASK_WAIT];
	if (wf->size)
		ti_decode_wait(s, r + wf->off, addr + wf->off, &t->wait);
	else
		t->wait.task = t->wait.obj = t->wait.target = t->wait.ahead = TI_NONE;

	/* labels */
	const ti_field *lf = &L->f[T][TANGLE_DF_TASK_LABELS];
	uint32_t lsize = L->rec_size[TANGLE_DR_LABEL];
	uint64_t n = ti_get(L, r, T, TANGLE_DF_TASK_LABEL_COUNT);
	if (lf->size && n) {
		uint64_t slots = lf->size / lsize;
		if (n > slots)
			n = slots;
		if (n > 16)
			n = 16;
		t->labels = ti_alloc(&s->A, n * sizeof(*t->labels));
		for (uint32_t i = 0; t->labels && i < n; i++) {
			const uint8_t *e = r + lf->off + (size_t)i * lsize;
			char k[64], v[128];
			ti_get_chars(L, e, TANGLE_DR_LABEL, TANGLE_DF_LABEL_KEY, k, sizeof(k));
			ti_get_chars(L, e, TANGLE_DR_LABEL, TANGLE_DF_LABEL_VALUE, v, sizeof(v));
			t->labels[i].key = ti_strndup(&s->A, k, sizeof(k));
			t->labels[i].value = ti_strndup(&s->A, v, sizeof(v));
			if (!t->labels[i].key || !t->labels[i].value)
				break;
			t->nlabels++;
		}
	}
	/* spans */
	const ti_field *sf = &L->f[T][TANGLE_DF_TASK_SPANS];
	uint32_t ssize = L->rec_size[TANGLE_DR_SPAN];
	n = ti_get(L, r, T, TANGLE_DF_TASK_SPAN_DEPTH);
	t->span_depth = n > 255 ? 255 : (uint8_t)n;
	if (sf->size && n) {
		uint64_t slots = sf->size / ssize;
		if (n > slots)
			n = slots;
		if (n > 64)
			n = 64;
		t->spans = ti_alloc(&s->A, n * sizeof(*t->spans));
		for (uint32_t i = 0; t->spans && i < n; i++) {
			const uint8_t *e = r + sf->off + (size_t)i * ssize;
			const int S = TANGLE_DR_SPAN;
			t->spans[i].name = ti_read_string(s, ti_get(L, e, S, TANGLE_DF_SPAN_NAME));
			t->spans[i].site = ti_read_site(s, ti_get(L, e, S, TANGLE_DF_SPAN_SITE));
			t->spans[i].entered_at = ti_get(L, e, S, TANGLE_DF_SPAN_ENTERED_AT);
			t->nspans++;
		}
	}
	/* holds */
	const ti_field *hf = &L->f[T][TANGLE_DF_TASK_HOLDS];
	uint32_t hsize = L->rec_size[TANGLE_DR_HOLD];
	n = ti_get(L, r, T, TANGLE_DF_TASK_HOLD_COUNT);
	if (hf->size && n) {
		uint64_t slots = hf->size / hsize;
		if (n > slots) {
			ti_problem_add(s, addr, "task %" PRIu64 ": hold count %" PRIu64
			               " exceeds its %" PRIu64 " slots", t->id, n, slots);
			n = slots;
		}
		if (n > 64)
			n = 64;
		t->holds = ti_alloc(&s->A, n * sizeof(*t->holds));
		for (uint32_t i = 0; t->holds && i < n; i++) {
			const uint8_t *e = r + hf->off + (size_t)i * hsize;
			const int H = TANGLE_DR_HOLD;
			ti_hold *h = &t->holds[t->nholds];
			h->object = ti_get(L, e, H, TANGLE_DF_HOLD_OBJECT);
			if (!h->object)
				continue;
			h->mode = (uint8_t)ti_get(L, e, H, TANGLE_DF_HOLD_MODE);
			h->count = (uint32_t)ti_get(L, e, H, TANGLE_DF_HOLD_COUNT);
			h->since = ti_get(L, e, H, TANGLE_DF_HOLD_SINCE);
			h->site = ti_read_site(s, ti_get(L, e, H, TANGLE_DF_HOLD_SITE));
			h->obj = TI_NONE;
			t->nholds++;
		}
	}
}

struct slab_buf {
	uint8_t *data;
	size_t cap;
};

static void decode_slab(tangle_session *s, ti_runtime *rt, uint64_t slab,
                        const uint8_t *srec, ti_vec *tasks, struct slab_buf *sb)
{
	const ti_layout *L = &s->L;
	const int SL = TANGLE_DR_SLAB;
	uint32_t size = L->rec_size[TANGLE_DR_TASK];
	uint64_t cap = ti_get(L, srec, SL, TANGLE_DF_SLAB_CAPACITY);
	uint64_t stride = ti_has(L, SL, TANGLE_DF_SLAB_STRIDE) ?
	                  ti_get(L, srec, SL, TANGLE_DF_SLAB_STRIDE) : size;
	uint64_t base = ti_get(L, srec, SL, TANGLE_DF_SLAB_TASKS);
	if (!cap || !base)
		return;
	if (stride < size || stride > TI_MAX_RECORD) {
		ti_problem_add(s, slab, "slab: stride %" PRIu64 " does not fit task records of %u bytes",
		               stride, size);
		return;
	}
	if (cap * stride > TI_MAX_SLAB_BYTES) {
		ti_problem_add(s, slab, "slab: capacity %" PRIu64 " too large, read %" PRIu64,
		               cap, TI_MAX_SLAB_BYTES / stride);
		cap = TI_MAX_SLAB_BYTES / stride;
	}
	if (tasks->len + cap > TI_MAX_TASKS) {
		ti_problem_add(s, slab, "slab: more than %u tasks in all; rest not read",
		               TI_MAX_TASKS);
		cap = TI_MAX_TASKS > tasks->len ? TI_MAX_TASKS - tasks->len : 0;
		if (!cap)
			return;
	}
	size_t bytes = (size_t)(cap * stride);
	if (sb->cap < bytes) { /* one buffer for every slab: no page faults */
		free(sb->data);
		sb->data = malloc(bytes);
		sb->cap = sb->data ? bytes : 0;
	}
	uint8_t *buf = sb->data;
	if (!buf) {
		ti_problem_add(s, slab, "slab: out of memory for %zu bytes", bytes);
		return;
	}
	size_t got = ti_read(s, base, buf, bytes);
	uint64_t ok = got / stride;
	if (got % stride >= size)
		ok++;
	if (ok > cap)
		ok = cap;
	if (ok < cap)
		ti_problem_add(s, base, "slab at 0x%" PRIx64 ": task records %" PRIu64
		               "..%" PRIu64 " unreadable", slab, ok, cap - 1);
	for (uint64_t i = 0; i < ok; i++) {
		const uint8_t *r = buf + i * stride;
		uint64_t state = ti_get(L, r, TANGLE_DR_TASK, TANGLE_DF_TASK_STATE);
		uint64_t addr = base + i * stride;
		if (state == TANGLE_DEBUG_TASK_FREE)
			continue;
		uint64_t id = ti_get(L, r, TANGLE_DR_TASK, TANGLE_DF_TASK_ID);
		if (state > TANGLE_DEBUG_TASK_CANCELLED || id == 0) {
			ti_problem_add(s, addr, "task record at 0x%" PRIx64 " unreadable "
			               "(state %" PRIu64 ", id %" PRIu64 ")", addr, state, id);
			continue;
		}
		uint64_t dup;
		if (ti_map_get(&s->task_by_id, id, &dup)) {
			ti_problem_add(s, addr, "task record at 0x%" PRIx64 ": id %" PRIu64
			               " seen twice", addr, id);
			continue;
		}
		ti_task *t = ti_vec_push(tasks, sizeof(*t));
		if (!t)
			break;
		if (ti_map_put(&s->task_by_id, id, tasks->len - 1))
			break;
		decode_task(s, r, addr, t);
		t->rt = (uint32_t)(rt - s->rts);
	}
}

static void decode_runtime(tangle_session *s, ti_runtime *rt, const uint8_t *r,
                           ti_vec *workers)
{
	const ti_layout *L = &s->L;
	const int RT = TANGLE_DR_RUNTIME;
	char name[64];
	rt->id = ti_get(L, r, RT, TANGLE_DF_RUNTIME_ID);
	ti_get_chars(L, r, RT, TANGLE_DF_RUNTIME_NAME, name, sizeof(name));
	rt->name = ti_strndup(&s->A, name, sizeof(name));
	if (!rt->name)
		rt->name = "";
	rt->flavor = (uint8_t)ti_get(L, r, RT, TANGLE_DF_RUNTIME_FLAVOR);
	rt->worker_count = (uint32_t)ti_get(L, r, RT, TANGLE_DF_RUNTIME_WORKER_COUNT);
	rt->slab_count = (uint32_t)ti_get(L, r, RT, TANGLE_DF_RUNTIME_SLAB_COUNT);
	rt->tasks_live = ti_get(L, r, RT, TANGLE_DF_RUNTIME_TASKS_LIVE);
	rt->tasks_spawned = ti_get(L, r, RT, TANGLE_DF_RUNTIME_TASKS_SPAWNED);
	rt->created_at = ti_get(L, r, RT, TANGLE_DF_RUNTIME_CREATED_AT);
	rt->stack_size = ti_get(L, r, RT, TANGLE_DF_RUNTIME_STACK_SIZE);
	rt->global_queue = ti_get(L, r, RT, TANGLE_DF_RUNTIME_GLOBAL_QUEUE);
	rt->blocking_busy = (uint32_t)ti_get(L, r, RT, TANGLE_DF_RUNTIME_BLOCKING_BUSY);
	rt->blocking_queued = (uint32_t)ti_get(L, r, RT, TANGLE_DF_RUNTIME_BLOCKING_QUEUED);
	uint64_t stride = ti_get(L, r, RT, TANGLE_DF_RUNTIME_WORKER_STRIDE);
	decode_workers(s, rt, ti_get(L, r, RT, TANGLE_DF_RUNTIME_WORKERS),
	               rt->worker_count, stride > TI_MAX_RECORD ? 1 : (uint32_t)stride,
	               workers);
}

static int cmp_task_id(const void *a, const void *b)
{
	const ti_task *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

tangle_error *ti_decode(tangle_session *s)
{
	tangle_error *err = read_root(s);
	if (err)
		return err;
	const ti_layout *L = &s->L;
	uint64_t rt_head = s->rt_head;

	/* runtimes */
	ti_vec rts = {0}, workers = {0}, tasks = {0}, heads = {0};
	uint8_t rec[TI_MAX_RECORD];
	uint32_t rsize = L->rec_size[TANGLE_DR_RUNTIME];
	ti_visit_begin(s);
	for (uint64_t p = rt_head; p;) {
		if (ti_visit(s, p)) {
			ti_problem_add(s, p, "runtime list loops back to 0x%" PRIx64, p);
			break;
		}
		if (rts.len >= TI_MAX_RUNTIMES) {
			ti_problem_add(s, p, "more than %u runtimes; rest not read",
			               TI_MAX_RUNTIMES);
			break;
		}
		if (ti_read(s, p, rec, rsize) < rsize) {
			ti_problem_add(s, p, "runtime record at 0x%" PRIx64 " unreadable", p);
			break;
		}
		ti_runtime *rt = ti_vec_push(&rts, sizeof(*rt));
		uint64_t *head = ti_vec_push(&heads, sizeof(*head));
		if (!rt || !head)
			goto oom;
		rt->addr = p;
		*head = ti_get(L, rec, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_SLABS);
		p = ti_get(L, rec, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_NEXT);
	}
	s->rts = rts.data;
	s->nrts = (uint32_t)rts.len;
	for (uint32_t i = 0; i < s->nrts; i++) {
		ti_runtime *rt = &s->rts[i];
		if (ti_read(s, rt->addr, rec, rsize) < rsize)
			continue;
		decode_runtime(s, rt, rec, &workers);
	}
	s->workers = workers.data;
	s->nworkers = (uint32_t)workers.len;

	/* slabs: one visited set across every runtime */
	uint32_t ssize = L->rec_size[TANGLE_DR_SLAB];
	struct slab_buf sb = {0};
	ti_visit_begin(s);
	for (uint32_t i = 0; i < s->nrts && ssize; i++) {
		for (uint64_t p = ((uint64_t *)heads.data)[i]; p;) {
			if (ti_visit(s, p)) {
				ti_problem_add(s, p, "slab list loops back to 0x%" PRIx64, p);
				break;
			}
			if (s->nslabs >= TI_MAX_SLABS) {
				ti_problem_add(s, p, "more than %u slabs; rest not read",
				               TI_MAX_SLABS);
				break;
			}
			if (ti_read(s, p, rec, ssize) < ssize) {
				ti_problem_add(s, p, "slab record at 0x%" PRIx64 " unreadable", p);
				break;
			}
			s->nslabs++;
			decode_slab(s, &s->rts[i], p, rec, &tasks, &sb);
			p = ti_get(L, rec, TANGLE_DR_SLAB, TANGLE_DF_SLAB_NEXT);
		}
	}
	ti_vec_free(&heads);
	free(sb.data);
	s->tasks = tasks.data;
	s->ntasks = (uint32_t)tasks.len;
	if (s->A.failed)
		return &tangle_error_out_of_memory;

	/* id order; then the maps */
	bool sorted = true; /* slabs usually hold tasks in id order already */
	for (uint32_t i = 1; i < s->ntasks && sorted; i++)
		sorted = s->tasks[i - 1].id < s->tasks[i].id;
	if (!sorted) {
		qsort(s->tasks, s->ntasks, sizeof(*s->tasks), cmp_task_id);
		ti_map_free(&s->task_by_id);
	}
	for (uint32_t i = 0; i < s->ntasks; i++) {
		ti_task *t = &s->tasks[i];
		if ((!sorted && ti_map_put(&s->task_by_id, t->id, i)) ||
		    ti_map_put(&s->task_by_addr, t->addr, i))
			return &tangle_error_out_of_memory;
		t->wait.task = i;
	}
	for (uint32_t i = 0; i < s->nworkers; i++) {
		ti_worker *w = &s->workers[i];
		uint64_t v;
		if (w->current && ti_map_get(&s->task_by_addr, w->current, &v))
			w->task = (uint32_t)v;
		else if (w->current_id && ti_map_get(&s->task_by_id, w->current_id, &v))
			w->task = (uint32_t)v;
	}
	err = ti_decode_objects(s);
	if (err)
		return err;
	return s->A.failed ? &tangle_error_out_of_memory : NULL;
oom:
	ti_vec_free(&heads);
	s->rts = rts.data;
	s->nrts = (uint32_t)rts.len;
	return &tangle_error_out_of_memory;
}
