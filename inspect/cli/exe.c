/*
 * exe.c — find and check the executable of a core (see exe.h).
 *
 * The core's build id is read from the core's own bytes only (never the
 * mapped-file fallback, which would read the candidate file and agree with
 * anything).
 */
#include "exe.h"

#include <elf.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUILD_ID_MAX 64
#define DELETED " (deleted)"
#define DELETED_LEN (sizeof DELETED - 1)

tangle_error *cli_exe_resolve(const char *core_path, const char *recorded,
                              const char *program, const char *given,
                              char **out)
{
	struct stat st;
	*out = NULL;
	if (given) {
		if (stat(given, &st) != 0)
			return tangle_error_new(TANGLE_INSPECT_ESYSTEM, 0,
			                        "cannot open executable '%s': %s", given,
			                        strerror(errno));
		*out = strdup(given);
		return *out ? NULL : &tangle_error_out_of_memory;
	}
	if (recorded && stat(recorded, &st) == 0 && S_ISREG(st.st_mode)) {
		*out = strdup(recorded);
		return *out ? NULL : &tangle_error_out_of_memory;
	}
	/* Replaced while it ran: the kernel recorded "PATH (deleted)". What
	 * is at PATH now may be the same build; the build id check says. */
	size_t n = recorded ? strlen(recorded) : 0;
	if (n > DELETED_LEN && strcmp(recorded + n - DELETED_LEN, DELETED) == 0) {
		char *path = strndup(recorded, n - DELETED_LEN);
		if (!path)
			return &tangle_error_out_of_memory;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			*out = path;
			return NULL;
		}
		free(path);
	}
	if (recorded)
		return tangle_error_new(TANGLE_INSPECT_ENOTFOUND, 0,
		                        "cannot find the executable of '%s': it was "
		                        "%s, which is not there; give it after the "
		                        "core (tangle COMMAND CORE EXE)",
		                        core_path, recorded);
	return tangle_error_new(TANGLE_INSPECT_ENOTFOUND, 0,
	                        "'%s' does not say where its executable%s%s%s is; "
	                        "give it after the core (tangle COMMAND CORE EXE)",
	                        core_path, *program ? " (" : "", program,
	                        *program ? ")" : "");
}

int cli_file_build_id(const char *path, unsigned char *id, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr eh;
	int n = -1;
	if (elf && elf_kind(elf) == ELF_K_ELF && gelf_getehdr(elf, &eh) &&
	    (eh.e_type == ET_EXEC || eh.e_type == ET_DYN)) {
		const void *p;
		ssize_t len = dwelf_elf_gnu_build_id(elf, &p);
		n = 0;
		if (len > 0) {
			n = (int)((size_t)len < max ? (size_t)len : max);
			memcpy(id, p, (size_t)n);
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return n;
}

/* The build id in the dumped ELF headers of the mapping at base. */
static size_t core_build_id(const struct cli_core *c, uint64_t base,
                            unsigned char *id, size_t max)
{
	Elf64_Ehdr eh;
	if (cli_core_read_dumped(c, base, &eh, sizeof eh) != sizeof eh ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 256)
		return 0;
	Elf64_Phdr ph[256];
	size_t size = eh.e_phnum * sizeof(Elf64_Phdr);
	if (cli_core_read_dumped(c, base + eh.e_phoff, ph, size) != size)
		return 0;
	uint64_t first = UINT64_MAX;
	for (int i = 0; i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < first)
			first = ph[i].p_vaddr;
	if (first == UINT64_MAX)
		return 0;
	uint64_t bias = base - (first & ~(uint64_t)0xfff);
	for (int i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_NOTE || ph[i].p_filesz > 4096)
			continue;
		unsigned char notes[4096];
		size_t n = cli_core_read_dumped(c, bias + ph[i].p_vaddr, notes,
		                                ph[i].p_filesz);
		const void *p;
		size_t len = cli_notes_build_id(notes, n, ph[i].p_align, &p);
		if (len) {
			len = len < max ? len : max;
			memcpy(id, p, len);
			return len;
		}
	}
	return 0;
}

tangle_error *cli_exe_check_build_id(const struct cli_core *c, uint64_t at_phdr,
                                     const struct cli_mapping *maps, int nmaps,
                                     const char *recorded, const char *exe,
                                     int given)
{
	unsigned char want[BUILD_ID_MAX], have[BUILD_ID_MAX];
	size_t nwant = 0;
	/* The program headers follow the ELF header on the first page. */
	if (at_phdr)
		nwant = core_build_id(c, at_phdr & ~(uint64_t)0xfff, want, sizeof want);
	for (int i = 0; recorded && i < nmaps && !nwant; i++)
		if (maps[i].offset == 0 && strcmp(maps[i].path, recorded) == 0)
			nwant = core_build_id(c, maps[i].start, want, sizeof want);
	int nhave = cli_file_build_id(exe, have, sizeof have);
	if (nhave < 0)
		return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                        "'%s' is not an executable (ELF program or "
		                        "shared object)", exe);
	if (!nwant)
		return NULL;
	if ((size_t)nhave == nwant && memcmp(want, have, nwant) == 0)
		return NULL;
	char hw[2 * BUILD_ID_MAX + 1], hh[2 * BUILD_ID_MAX + 1];
	cli_hex(want, nwant, hw, sizeof hw);
	cli_hex(have, (size_t)nhave, hh, sizeof hh);
	if (!given)
		return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                        "'%s', which the core names, has changed since "
		                        "the dump: its build id is %s, the core's "
		                        "program has %s; give the build that made the "
		                        "core (tangle COMMAND CORE EXE)",
		                        exe, nhave ? hh : "missing", hw);
	return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
	                        "'%s' is not the program that made this core: its "
	                        "build id is %s, the core's program has %s",
	                        exe, nhave ? hh : "missing", hw);
}
