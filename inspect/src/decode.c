/*
 * decode.c — the root, its layout, runtimes, workers, slabs and tasks.
 *
 * Order: header (magic, version, sizes) -> the whole root in one read ->
 * layout (validated: every field inside its record, arrays at least one
 * element wide) -> runtimes (list, visited set) -> each runtime's workers
 * (one bulk read) -> slabs (list, visited set across runtimes) -> each
 * slab's task records (one bulk read): decode_task.c. Objects and queues:
 * decode_objects.c.
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
	/* 1.x tables read by their layout too: what 2.0 changed (mutex
	 * holds, the worker's current id and run start) is told apart by
	 * which fields the layout has. */
	if (s->major < 1 || s->major > TANGLE_DEBUG_ABI_MAJOR)
		return tangle_error_new(TANGLE_INSPECT_EVERSION, s->root,
		                        "debug table ABI version %u.%u cannot be read by this "
		                        "tangle, which reads ABI version 1.x to %u.x (up to %u.%u)",
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
		ti_decode_runtime(s, rt, rec, &workers);
	}
	s->workers = workers.data;
	s->nworkers = (uint32_t)workers.len;

	/* slabs: one visited set across every runtime */
	uint32_t ssize = L->rec_size[TANGLE_DR_SLAB];
	struct ti_slab_buf sb = {0};
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
			ti_decode_slab(s, &s->rts[i], p, rec, &tasks, &sb);
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
		/* Since 2.0 the runtime stores neither: they are the
		 * current task's ID and LAST_RAN_AT. */
		if (w->task == TI_NONE)
			continue;
		if (!ti_has(&s->L, TANGLE_DR_WORKER, TANGLE_DF_WORKER_CURRENT_ID))
			w->current_id = s->tasks[w->task].id;
		if (!ti_has(&s->L, TANGLE_DR_WORKER, TANGLE_DF_WORKER_RUNNING_SINCE))
			w->running_since = s->tasks[w->task].last_ran_at;
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
