/*
 * symbols.c — Dwfl construction and symbol lookup (see symbols.h).
 */
#include "symbols.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tangle_debug.h"

static char *debuginfo_path;

static const Dwfl_Callbacks core_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static const Dwfl_Callbacks live_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

/* Report each mapped ELF file once, at the mapping of its first page. */
static int report_mapped_files(Dwfl *dwfl, const struct cli_core *core)
{
	int n, reported = 0;
	const struct cli_mapping *m = cli_core_mappings(core, &n);
	for (int i = 0; i < n; i++) {
		if (m[i].offset != 0 || m[i].path[0] != '/')
			continue;
		int seen = 0;
		for (int j = 0; j < i && !seen; j++)
			seen = m[j].offset == 0 && strcmp(m[j].path, m[i].path) == 0;
		if (seen)
			continue;
		const char *file = cli_mapping_file(core, &m[i]);
		int fd = file ? open(file, O_RDONLY | O_CLOEXEC) : -1;
		if (fd < 0)
			continue;
		unsigned char magic[SELFMAG];
		if (pread(fd, magic, SELFMAG, 0) != SELFMAG ||
		    memcmp(magic, ELFMAG, SELFMAG) != 0) {
			close(fd);
			continue;
		}
		if (dwfl_report_elf(dwfl, m[i].path, file, fd, m[i].start, false))
			reported++; /* fd is the library's now */
		else
			close(fd);
	}
	return reported;
}

/* The vDSO is in no file, so NT_FILE does not name it; its image is in
 * the core (the kernel dumps it). Report it from a copy in a memfd so that
 * frames in it (clock_gettime, gettimeofday; on aarch64 the signal
 * return) get a name and its CFI, and unwinding goes on past them. */
#define VDSO_MAX (1u << 20)

static uint64_t vdso_size(const struct cli_core *core, uint64_t base)
{
	Elf64_Ehdr eh;
	if (cli_core_read_dumped(core, base, &eh, sizeof eh) != sizeof eh ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr))
		return 0;
	/* the image ends with its section headers, or its last segment */
	uint64_t size = eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize;
	for (unsigned i = 0; i < eh.e_phnum && i < 64; i++) {
		Elf64_Phdr ph;
		if (cli_core_read_dumped(core, base + eh.e_phoff + i * sizeof ph, &ph,
		                         sizeof ph) != sizeof ph)
			return 0;
		if (ph.p_type == PT_LOAD && ph.p_offset + ph.p_filesz > size)
			size = ph.p_offset + ph.p_filesz;
	}
	return size <= VDSO_MAX ? size : 0;
}

static void report_vdso(Dwfl *dwfl, const struct cli_core *core)
{
	uint64_t base = cli_core_vdso(core), size = base ? vdso_size(core, base) : 0;
	if (!size)
		return;
	void *image = malloc(size);
	int fd = image ? memfd_create("tangle-vdso", MFD_CLOEXEC) : -1;
	if (fd >= 0 && cli_core_read_dumped(core, base, image, size) == size &&
	    write(fd, image, size) == (ssize_t)size &&
	    dwfl_report_elf(dwfl, "[vdso]", "[vdso]", fd, base, false))
		fd = -1; /* libdwfl's now */
	if (fd >= 0)
		close(fd);
	free(image);
}

tangle_error *cli_dwfl_core(const struct cli_core *core, Dwfl **out)
{
	*out = NULL;
	Dwfl *dwfl = dwfl_begin(&core_callbacks);
	if (!dwfl)
		return tangle_error_new(TANGLE_INSPECT_ENOMEM, 0, "libdwfl: %s",
		                        dwfl_errmsg(-1));
	dwfl_report_begin(dwfl);
	int nmaps, n;
	cli_core_mappings(core, &nmaps);
	if (nmaps > 0) {
		n = report_mapped_files(dwfl, core);
		report_vdso(dwfl, core);
	} else
		n = dwfl_core_file_report(dwfl, cli_core_elf(core), cli_core_exe(core));
	if (n < 0 || dwfl_report_end(dwfl, NULL, NULL) != 0) {
		tangle_error *err = tangle_error_new(
			TANGLE_INSPECT_ECORRUPT, 0,
			"cannot find the modules of the core: %s", dwfl_errmsg(-1));
		dwfl_end(dwfl);
		return err;
	}
	*out = dwfl;
	return NULL;
}

tangle_error *cli_dwfl_live(pid_t pid, Dwfl **out)
{
	*out = NULL;
	Dwfl *dwfl = dwfl_begin(&live_callbacks);
	if (!dwfl)
		return tangle_error_new(TANGLE_INSPECT_ENOMEM, 0, "libdwfl: %s",
		                        dwfl_errmsg(-1));
	dwfl_report_begin(dwfl);
	int r = dwfl_linux_proc_report(dwfl, pid);
	if (r != 0 || dwfl_report_end(dwfl, NULL, NULL) != 0) {
		tangle_error *err = tangle_error_new(
			TANGLE_INSPECT_ESYSTEM, 0,
			"cannot read the modules of process %d: %s", (int)pid,
			r > 0 ? strerror(r) : dwfl_errmsg(-1));
		dwfl_end(dwfl);
		return err;
	}
	*out = dwfl;
	return NULL;
}

struct lookup {
	const tangle_reader *mem;
	const char *symbol;
	int check_magic;
	int section;   /* second pass: look for TANGLE_DEBUG_SECTION */
	uint64_t addr;
	int found;
	uint64_t fallback; /* the symbol, without the magic: the engine will
	                      say what is wrong with it */
	int have_fallback;
};

static int has_magic(const struct lookup *l, uint64_t addr)
{
	char magic[sizeof TANGLE_DEBUG_MAGIC];
	if (!l->check_magic)
		return 1;
	return l->mem->read(l->mem->ctx, addr, magic, sizeof magic) == sizeof magic &&
	       memcmp(magic, TANGLE_DEBUG_MAGIC, sizeof magic) == 0;
}

static int by_symbol(Dwfl_Module *mod, struct lookup *l)
{
	int n = dwfl_module_getsymtab(mod);
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr,
		                                           NULL, NULL, NULL);
		if (!name || sym.st_shndx == SHN_UNDEF || strcmp(name, l->symbol))
			continue;
		if (GELF_ST_BIND(sym.st_info) == STB_LOCAL)
			continue;
		if (has_magic(l, addr)) {
			l->addr = addr;
			return 1;
		}
		if (!l->have_fallback) {
			l->fallback = addr;
			l->have_fallback = 1;
		}
	}
	return 0;
}

static int by_section(Dwfl_Module *mod, struct lookup *l)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return 0;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC))
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && strcmp(name, TANGLE_DEBUG_SECTION) == 0 &&
		    has_magic(l, sh.sh_addr + bias)) {
			l->addr = sh.sh_addr + bias;
			return 1;
		}
	}
	return 0;
}

static int each_module(Dwfl_Module *mod, void **userdata, const char *name,
                       Dwarf_Addr start, void *arg)
{
	(void)userdata, (void)name, (void)start;
	struct lookup *l = arg;
	l->found = l->section ? by_section(mod, l) : by_symbol(mod, l);
	return l->found ? DWARF_CB_ABORT : DWARF_CB_OK;
}

int cli_symbol_lookup(Dwfl *dwfl, const tangle_reader *mem, const char *symbol,
                      uint64_t *addr)
{
	struct lookup l = {
		.mem = mem,
		.symbol = symbol,
		.check_magic = mem && strcmp(symbol, TANGLE_DEBUG_SYMBOL) == 0,
	};
	dwfl_getmodules(dwfl, each_module, &l, 0);
	if (!l.found && l.check_magic) {
		l.section = 1;
		dwfl_getmodules(dwfl, each_module, &l, 0);
	}
	if (!l.found && !l.have_fallback)
		return -1;
	*addr = l.found ? l.addr : l.fallback;
	return 0;
}
