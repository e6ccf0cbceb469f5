/*
 * core.c — a core dump as target memory (see core.h).
 *
 * Invariants: the core file is mmap'd read-only for the life of the
 * cli_core and every segment lies inside it (a core cut inside its ELF
 * header or program headers, or whose PT_LOAD / PT_NOTE segments run past
 * its end, is refused as truncated). Segments and mappings are sorted
 * by address, so a read costs two binary searches and a memcpy; bulk reads
 * of task slabs are as fast as copying memory. Mapped files are opened
 * lazily, once each.
 */
#include "core.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exe.h"

struct seg {
	uint64_t vaddr, memsz, offset, filesz;
};

struct cli_core {
	int fd;
	Elf *elf;
	const unsigned char *map;
	size_t size;
	struct seg *segs;
	size_t nsegs;
	struct cli_mapping *maps;   /* sorted by start */
	int nmaps;
	int maps_owned;             /* from cli_linkmap: paths malloc'd */
	uint64_t execfn;            /* AT_EXECFN: the path it was started as */
	char execfn_path[PATH_MAX];
	unsigned char *nt_file;     /* copy of NT_FILE: maps[].path point here */
	uint64_t entry;             /* AT_ENTRY */
	uint64_t phdr;              /* AT_PHDR: the program's headers */
	uint64_t vdso;              /* AT_SYSINFO_EHDR: the vDSO's ELF image */
	char program[17];           /* NT_PRPSINFO pr_fname */
	const char *recorded_exe;   /* the executable's path in NT_FILE */
	char *exe;                  /* the executable used */
	uint64_t mtime_ns;
	unsigned machine;
	struct prstatus { size_t offset, size; } *threads; /* in the map */
	int nthreads, threads_cap;
	const char *path;
};

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static int map_cmp(const void *a, const void *b)
{
	const struct cli_mapping *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Index of the last element whose start is <= addr, or -1. */
#define LAST_AT_OR_BELOW(arr, n, field, addr, out)                          \
	do {                                                                \
		size_t lo_ = 0, hi_ = (n);                                  \
		while (lo_ < hi_) {                                         \
			size_t mid_ = lo_ + (hi_ - lo_) / 2;                \
			if ((arr)[mid_].field <= (addr))                    \
				lo_ = mid_ + 1;                             \
			else                                                \
				hi_ = mid_;                                 \
		}                                                           \
		(out) = (long)lo_ - 1;                                      \
	} while (0)

static size_t read_segment(const struct cli_core *c, uint64_t a, void *buf,
                           size_t len)
{
	long i;
	LAST_AT_OR_BELOW(c->segs, c->nsegs, vaddr, a, i);
	if (i < 0)
		return 0;
	const struct seg *s = &c->segs[i];
	if (a - s->vaddr >= s->filesz)
		return 0;
	uint64_t avail = s->filesz - (a - s->vaddr);
	size_t n = len < avail ? len : (size_t)avail;
	memcpy(buf, c->map + s->offset + (a - s->vaddr), n);
	return n;
}

const char *cli_mapping_file(const struct cli_core *c, const struct cli_mapping *m)
{
	if (c->recorded_exe && strcmp(m->path, c->recorded_exe) == 0)
		return c->exe; /* checked against the core's build id */
	size_t n = strlen(m->path), d = strlen(" (deleted)");
	if (n > d && strcmp(m->path + n - d, " (deleted)") == 0)
		return NULL;
	return m->path;
}

static size_t read_mapped(struct cli_core *c, uint64_t a, void *buf, size_t len)
{
	long i;
	LAST_AT_OR_BELOW(c->maps, (size_t)c->nmaps, start, a, i);
	if (i < 0)
		return 0;
	struct cli_mapping *m = &c->maps[i];
	if (a >= m->end)
		return 0;
	if (m->fd == -1) {
		const char *p = cli_mapping_file(c, m);
		m->fd = p ? open(p, O_RDONLY | O_CLOEXEC) : -1;
		if (m->fd < 0)
			m->fd = -2;
	}
	if (m->fd < 0)
		return 0;
	uint64_t avail = m->end - a;
	size_t n = len < avail ? len : (size_t)avail;
	ssize_t r = pread(m->fd, buf, n, (off_t)(m->offset + (a - m->start)));
	return r > 0 ? (size_t)r : 0;
}

size_t cli_core_read_dumped(const struct cli_core *c, uint64_t addr,
                            void *buf, size_t len)
{
	size_t done = 0;
	while (done < len && addr + done >= addr) {
		size_t n = read_segment(c, addr + done, (char *)buf + done,
		                        len - done);
		if (!n)
			break;
		done += n;
	}
	return done;
}

size_t cli_core_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct cli_core *c = ctx;
	size_t done = 0;
	while (done < len && addr + done >= addr) {
		uint64_t a = addr + done;
		size_t n = read_segment(c, a, (char *)buf + done, len - done);
		if (!n)
			n = read_mapped(c, a, (char *)buf + done, len - done);
		if (!n)
			break;
		done += n;
	}
	return done;
}

Elf *cli_core_elf(const struct cli_core *c) { return c->elf; }
const char *cli_core_exe(const struct cli_core *c) { return c->exe; }
uint64_t cli_core_mtime_ns(const struct cli_core *c) { return c->mtime_ns; }
unsigned cli_core_machine(const struct cli_core *c) { return c->machine; }
const char *cli_core_recorded_exe(const struct cli_core *c) { return c->recorded_exe; }
uint64_t cli_core_vdso(const struct cli_core *c) { return c->vdso; }

const struct cli_mapping *cli_core_mappings(const struct cli_core *c, int *count)
{
	*count = c->nmaps;
	return c->maps;
}

/* Remember where a thread's NT_PRSTATUS is (decoded on demand). */
static void add_thread(struct cli_core *c, const void *desc, size_t size)
{
	if (c->nthreads == c->threads_cap) {
		int cap = c->threads_cap ? 2 * c->threads_cap : 16;
		void *p = realloc(c->threads, (size_t)cap * sizeof *c->threads);
		if (!p)
			return;
		c->threads = p;
		c->threads_cap = cap;
	}
	c->threads[c->nthreads].offset = (size_t)((const unsigned char *)desc - c->map);
	c->threads[c->nthreads++].size = size;
}

int cli_core_thread_context(const struct cli_core *c, uint32_t tid,
                            tangle_context *out)
{
	for (int i = 0; i < c->nthreads; i++) {
		uint32_t t;
		if (cli_prstatus_context(c->machine, c->map + c->threads[i].offset,
		                         c->threads[i].size, &t, out) == 0 && t == tid)
			return 0;
	}
	return -1;
}

static void take_note(struct cli_core *c, const GElf_Nhdr *h, const char *name,
                      const void *desc)
{
	if (h->n_namesz == 5 && memcmp(name, "CORE", 5) == 0) {
		if (h->n_type == NT_PRSTATUS) {
			const unsigned char *p = desc;
			if (p >= c->map && p + h->n_descsz <= c->map + c->size)
				add_thread(c, desc, h->n_descsz);
		} else if (h->n_type == NT_FILE && !c->maps) {
			c->nt_file = malloc(h->n_descsz ? h->n_descsz : 1);
			if (!c->nt_file)
				return;
			memcpy(c->nt_file, desc, h->n_descsz);
			int n = cli_parse_nt_file(c->nt_file, h->n_descsz, &c->maps);
			c->nmaps = n > 0 ? n : 0;
		} else if (h->n_type == NT_AUXV) {
			c->entry = cli_auxv_get(desc, h->n_descsz, AT_ENTRY);
			c->execfn = cli_auxv_get(desc, h->n_descsz, AT_EXECFN);
			c->phdr = cli_auxv_get(desc, h->n_descsz, AT_PHDR);
			c->vdso = cli_auxv_get(desc, h->n_descsz, AT_SYSINFO_EHDR);
		} else if (h->n_type == NT_PRPSINFO &&
		           h->n_descsz >= sizeof(struct elf_prpsinfo)) {
			const size_t at = offsetof(struct elf_prpsinfo, pr_fname);
			const size_t n = sizeof ((struct elf_prpsinfo *)0)->pr_fname;
			memcpy(c->program, (const char *)desc + at, n);
			c->program[n] = 0;
		}
	}
}

/* Walk a PT_NOTE segment in the mapped core (inside it: checked by
 * read_phdrs). Core notes are 4-byte aligned. */
static void read_notes(struct cli_core *c, const GElf_Phdr *ph)
{
	const unsigned char *p = c->map + ph->p_offset;
	size_t size = ph->p_filesz, off = 0;
	while (off + sizeof(Elf64_Nhdr) <= size) {
		Elf64_Nhdr h;
		memcpy(&h, p + off, sizeof h);
		size_t name = off + sizeof h;
		size_t desc = name + ((h.n_namesz + 3u) & ~(size_t)3);
		if (h.n_namesz > size || h.n_descsz > size || desc > size ||
		    h.n_descsz > size - desc)
			break;
		GElf_Nhdr g = {h.n_namesz, h.n_descsz, h.n_type};
		take_note(c, &g, (const char *)p + name, p + desc);
		off = desc + ((h.n_descsz + 3u) & ~(size_t)3);
	}
}

static tangle_error *truncated(const struct cli_core *c, const char *what,
                               uint64_t need)
{
	return tangle_error_new(TANGLE_INSPECT_ECORRUPT, 0,
	                        "core file '%s' is truncated: %zu bytes, its %s "
	                        "need %llu (was the dump cut short, or the disk "
	                        "full?)", c->path, c->size, what,
	                        (unsigned long long)need);
}

/* Segments and notes; refuses a core cut inside its program headers or
 * whose PT_LOAD / PT_NOTE segments run past its end. */
static tangle_error *read_phdrs(struct cli_core *c)
{
	size_t n;
	GElf_Ehdr eh;
	if (!gelf_getehdr(c->elf, &eh))
		return tangle_error_new(TANGLE_INSPECT_ECORRUPT, 0,
		                        "'%s': cannot read its ELF header: %s",
		                        c->path, elf_errmsg(-1));
	/* e_phnum == PN_XNUM keeps the count in section 0, past the headers */
	if (eh.e_phnum == PN_XNUM && eh.e_shoff + sizeof(Elf64_Shdr) > c->size)
		return truncated(c, "section header 0", eh.e_shoff + sizeof(Elf64_Shdr));
	n = eh.e_phnum;
	if (eh.e_phnum == PN_XNUM && elf_getphdrnum(c->elf, &n) != 0)
		return tangle_error_new(TANGLE_INSPECT_ECORRUPT, 0,
		                        "'%s': cannot read its program headers: %s",
		                        c->path, elf_errmsg(-1));
	/* n < 2^32 and e_phentsize < 2^16: no overflow past e_phoff's */
	uint64_t table = (uint64_t)n * eh.e_phentsize;
	if (eh.e_phoff > UINT64_MAX - table || eh.e_phoff + table > c->size)
		return truncated(c, "program headers",
		                 eh.e_phoff > UINT64_MAX - table ? UINT64_MAX :
		                 eh.e_phoff + table);
	c->segs = calloc(n ? n : 1, sizeof *c->segs);
	if (!c->segs)
		return &tangle_error_out_of_memory;
	uint64_t need = 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(c->elf, (int)i, &ph))
			return tangle_error_new(TANGLE_INSPECT_ECORRUPT, 0,
			                        "'%s': cannot read program header %zu: %s",
			                        c->path, i, elf_errmsg(-1));
		if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
			continue;
		uint64_t end = ph.p_offset > UINT64_MAX - ph.p_filesz ? UINT64_MAX :
		               ph.p_offset + ph.p_filesz;
		if (end > need)
			need = end;
	}
	if (need > c->size)
		return truncated(c, "segments", need);
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(c->elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_LOAD && ph.p_memsz) {
			struct seg *s = &c->segs[c->nsegs++];
			s->vaddr = ph.p_vaddr;
			s->memsz = ph.p_memsz;
			s->offset = ph.p_offset;
			s->filesz = ph.p_filesz < ph.p_memsz ? ph.p_filesz : ph.p_memsz;
		} else if (ph.p_type == PT_NOTE) {
			read_notes(c, &ph);
		}
	}
	qsort(c->segs, c->nsegs, sizeof *c->segs, seg_cmp);
	if (c->nmaps)
		qsort(c->maps, (size_t)c->nmaps, sizeof *c->maps, map_cmp);
	return NULL;
}

/* AT_EXECFN's string from the core; a relative path is tried beside the
 * core first (where a test or a crash handler keeps the program). */
static const char *execfn_path(struct cli_core *c)
{
	char s[PATH_MAX];
	size_t n = c->execfn ? cli_core_read_dumped(c, c->execfn, s, sizeof s - 1) : 0;
	s[n] = 0;
	if (!n || strlen(s) == n || !s[0])
		return NULL;
	if (s[0] != '/') {
		const char *slash = strrchr(c->path, '/');
		int dir = slash ? (int)(slash - c->path) : 1;
		int w = snprintf(c->execfn_path, sizeof c->execfn_path, "%.*s/%s",
		                 dir, slash ? c->path : ".", s);
		if (w > 0 && (size_t)w < sizeof c->execfn_path &&
		    access(c->execfn_path, F_OK) == 0)
			return c->execfn_path;
	}
	snprintf(c->execfn_path, sizeof c->execfn_path, "%s", s);
	return c->execfn_path;
}

static tangle_error *open_elf(struct cli_core *c)
{
	elf_version(EV_CURRENT);
	c->elf = elf_begin(c->fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr eh;
	if (!c->elf || elf_kind(c->elf) != ELF_K_ELF || !gelf_getehdr(c->elf, &eh)) {
		unsigned char magic[SELFMAG];
		if (c->size < sizeof(Elf64_Ehdr) &&
		    pread(c->fd, magic, SELFMAG, 0) == SELFMAG &&
		    memcmp(magic, ELFMAG, SELFMAG) == 0)
			return truncated(c, "ELF header", sizeof(Elf64_Ehdr));
		return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                        "'%s' is not a core file (not ELF)", c->path);
	}
	if (eh.e_type == ET_EXEC || eh.e_type == ET_DYN)
		return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                        "'%s' is an executable, not a core file "
		                        "(tangle COMMAND CORE [EXE])", c->path);
	if (eh.e_type != ET_CORE)
		return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                        "'%s' is not a core file", c->path);
	if (gelf_getclass(c->elf) != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return tangle_error_new(TANGLE_INSPECT_EUNSUPPORTED, 0,
		                        "'%s': only 64-bit little-endian cores are "
		                        "supported", c->path);
	c->machine = eh.e_machine;
	return NULL;
}

tangle_error *cli_core_open(const char *path, const char *exe,
                            struct cli_core **out)
{
	*out = NULL;
	struct cli_core *c = calloc(1, sizeof *c);
	if (!c)
		return &tangle_error_out_of_memory;
	c->path = path;
	tangle_error *err = NULL;
	struct stat st;

	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0 || fstat(c->fd, &st) != 0) {
		err = tangle_error_new(TANGLE_INSPECT_ESYSTEM, 0, "cannot open '%s': %s",
		                       path, strerror(errno));
		goto fail;
	}
	c->size = (size_t)st.st_size;
	c->mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u +
	              (uint64_t)st.st_mtim.tv_nsec;
	if (c->size == 0) {
		err = tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                       "core file '%s' is empty", path);
		goto fail;
	}
	if ((err = open_elf(c)))
		goto fail;
	c->map = mmap(NULL, c->size, PROT_READ, MAP_PRIVATE, c->fd, 0);
	if (c->map == MAP_FAILED) {
		c->map = NULL;
		err = tangle_error_new(TANGLE_INSPECT_ESYSTEM, 0, "cannot map '%s': %s",
		                       path, strerror(errno));
		goto fail;
	}
	if ((err = read_phdrs(c)))
		goto fail;

	/* The executable: the file mapped at the entry point (NT_FILE), or
	 * the path it was started as (AT_EXECFN). */
	for (int i = 0; i < c->nmaps; i++)
		if (c->entry >= c->maps[i].start && c->entry < c->maps[i].end)
			c->recorded_exe = c->maps[i].path;
	if (!c->nmaps)
		c->recorded_exe = execfn_path(c);
	if ((err = cli_exe_resolve(c->path, c->recorded_exe, c->program, exe,
	                           &c->exe)))
		goto fail;
	if (!c->nmaps) {
		int n = cli_linkmap(c, c->exe, c->entry, &c->maps);
		if (n > 0) {
			c->nmaps = n;
			c->maps_owned = 1;
			qsort(c->maps, (size_t)n, sizeof *c->maps, map_cmp);
			c->recorded_exe = c->exe;
		}
	}
	if ((err = cli_exe_check_build_id(c, c->phdr, c->maps, c->nmaps,
	                                  c->recorded_exe, c->exe, exe != NULL)))
		goto fail;
	*out = c;
	return NULL;
fail:
	cli_core_close(c);
	return err;
}

void cli_core_close(struct cli_core *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nmaps; i++)
		if (c->maps[i].fd >= 0)
			close(c->maps[i].fd);
	if (c->maps_owned)
		cli_mappings_free(c->maps, c->nmaps);
	else
		free(c->maps);
	free(c->nt_file);
	free(c->segs);
	free(c->threads);
	free(c->exe);
	if (c->map)
		munmap((void *)c->map, c->size);
	if (c->elf)
		elf_end(c->elf);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}
