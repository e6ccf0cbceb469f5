/*
 * linkmap.c — the loaded ELF files of a core that has no NT_FILE note.
 *
 * The kernel leaves NT_FILE out when the list of mappings would pass 4 MB
 * (about 65,000 mappings: a program with 100,000 task stacks has 200,000).
 * Then the executable is placed by AT_ENTRY, and the shared libraries come
 * from the dynamic linker's list (DT_DEBUG -> r_debug -> link_map), read
 * from the core's own bytes. Each file's PT_LOAD segments become mappings,
 * as NT_FILE would have listed them, so read-only data is read from the
 * files and libdwfl places every module.
 *
 * The list is target memory: at most MAX_LIBS entries, names bounded.
 */
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

#define MAX_LIBS 4096
#define PAGE 4096u

struct list {
	struct cli_mapping *m;
	int n, cap;
};

static int push(struct list *l, uint64_t start, uint64_t end, uint64_t offset,
                const char *path)
{
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 32;
		struct cli_mapping *m = realloc(l->m, (size_t)cap * sizeof *m);
		if (!m)
			return -1;
		l->m = m;
		l->cap = cap;
	}
	char *p = strdup(path);
	if (!p)
		return -1;
	l->m[l->n++] = (struct cli_mapping){start, end, offset, p, -1};
	return 0;
}

/* Add the file-backed part of each PT_LOAD of path, loaded with bias (or
 * for an executable: at entry). *dynamic gets PT_DYNAMIC's address. */
static int add_file(struct list *l, const char *path, uint64_t bias,
                    int is_exe, uint64_t entry, uint64_t *dynamic)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr eh;
	size_t n;
	int r = 0;
	if (!elf || !gelf_getehdr(elf, &eh) || elf_getphdrnum(elf, &n) != 0 ||
	    (eh.e_type != ET_DYN && eh.e_type != ET_EXEC))
		goto out;
	if (is_exe)
		bias = eh.e_type == ET_DYN ? entry - eh.e_entry : 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_DYNAMIC && dynamic)
			*dynamic = bias + ph.p_vaddr;
		if (ph.p_type != PT_LOAD || !ph.p_filesz)
			continue;
		uint64_t skew = ph.p_vaddr & (PAGE - 1);
		r = push(l, bias + ph.p_vaddr - skew, bias + ph.p_vaddr + ph.p_filesz,
		         ph.p_offset - skew, path);
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return r;
}

static int read_word(const struct cli_core *c, uint64_t addr, uint64_t *v)
{
	return cli_core_read_dumped(c, addr, v, sizeof *v) == sizeof *v ? 0 : -1;
}

/* The r_debug address from the executable's dynamic section, or 0. */
static uint64_t find_r_debug(const struct cli_core *c, uint64_t dynamic)
{
	for (int i = 0; dynamic && i < 1024; i++) {
		Elf64_Dyn d;
		if (cli_core_read_dumped(c, dynamic + i * sizeof d, &d, sizeof d) !=
		    sizeof d || d.d_tag == DT_NULL)
			break;
		if (d.d_tag == DT_DEBUG)
			return d.d_un.d_val;
	}
	return 0;
}

int cli_linkmap(const struct cli_core *c, const char *exe, uint64_t entry,
                struct cli_mapping **out)
{
	struct list l = {0};
	uint64_t dynamic = 0, r_debug, map;
	*out = NULL;
	elf_version(EV_CURRENT);
	if (add_file(&l, exe, 0, 1, entry, &dynamic) != 0)
		goto fail;
	r_debug = find_r_debug(c, dynamic);
	/* struct r_debug { int r_version; struct link_map *r_map; ... }
	 * struct link_map { l_addr, l_name, l_ld, l_next, l_prev } */
	if (r_debug && read_word(c, r_debug + 8, &map) == 0) {
		for (int i = 0; map && i < MAX_LIBS; i++) {
			uint64_t addr, name, next;
			char path[PATH_MAX];
			if (read_word(c, map, &addr) || read_word(c, map + 8, &name) ||
			    read_word(c, map + 24, &next))
				break;
			size_t len = name ? cli_core_read_dumped(c, name, path,
			                                        sizeof path - 1) : 0;
			path[len] = 0;
			if (len && path[0] == '/' && strlen(path) < len &&
			    add_file(&l, path, addr, 0, 0, NULL) != 0)
				goto fail;
			if (next == map)
				break;
			map = next;
		}
	}
	*out = l.m;
	return l.n;
fail:
	cli_mappings_free(l.m, l.n);
	return -1;
}

void cli_mappings_free(struct cli_mapping *m, int n)
{
	for (int i = 0; i < n; i++)
		free((char *)m[i].path);
	free(m);
}
