/*
 * symbolize.c — code address -> frames (see symbolize.h).
 *
 * An address inside an inlined call has several source positions: the
 * line table gives the innermost (inside the inlined body); each
 * DW_TAG_inlined_subroutine scope gives, by DW_AT_call_file/call_line,
 * where it was called from in the scope that contains it. Without DWARF
 * the ELF symbol names the function and the frame has no line.
 */
#include "symbolize.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = dwarf_formstring(
		dwarf_attr_integrate(die, DW_AT_name, &attr));
	if (!name)
		name = dwarf_formstring(
			dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	return name;
}

/* Where the inlined call of scope was made: file and line. */
static void call_site(Dwarf_Die *cu, Dwarf_Die *scope, const char **file,
                      int *line)
{
	Dwarf_Attribute attr;
	Dwarf_Word fileidx = 0, lineno = 0;
	*file = NULL;
	*line = 0;
	if (dwarf_formudata(dwarf_attr(scope, DW_AT_call_line, &attr), &lineno) == 0)
		*line = (int)lineno;
	Dwarf_Files *files;
	size_t nfiles;
	if (dwarf_formudata(dwarf_attr(scope, DW_AT_call_file, &attr), &fileidx) == 0 &&
	    dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && fileidx < nfiles)
		*file = dwarf_filesrc(files, fileidx, NULL, NULL);
}

static void set_frame(tangle_frame *f, uint64_t pc, const char *function,
                      const char *file, int line, int inlined)
{
	memset(f, 0, sizeof *f);
	f->pc = pc;
	f->line = line > 0 ? (uint32_t)line : 0;
	f->inlined = (uint8_t)inlined;
	copy(f->function, sizeof f->function, function);
	copy(f->file, sizeof f->file, file);
}

/* The compile unit holding at. dwfl_module_addrdie finds it through
 * .debug_aranges, which clang does not emit by default (and elfutils 0.188
 * does not build from the units' ranges): then ask every unit. */
static Dwarf_Die *unit_of(Dwfl_Module *mod, Dwarf_Addr at, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = dwfl_module_addrdie(mod, at, bias);
	if (cu)
		return cu;
	while ((cu = dwfl_module_nextcu(mod, cu, bias)) != NULL)
		if (dwarf_haspc(cu, at - *bias) > 0)
			return cu;
	return NULL;
}

int cli_symbolize(Dwfl *dwfl, uint64_t pc, int return_address,
                  tangle_frame *out, int max)
{
	if (max <= 0)
		return 0;
	Dwarf_Addr at = return_address && pc ? pc - 1 : pc;
	Dwfl_Module *mod = dwfl ? dwfl_addrmodule(dwfl, at) : NULL;
	if (!mod) {
		set_frame(&out[0], pc, NULL, NULL, 0, 0);
		return 1;
	}

	/* The innermost position, from the line table. */
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = unit_of(mod, at, &bias);
	const char *file = NULL;
	int line = 0;
	Dwfl_Line *l = dwfl_module_getsrc(mod, at);
	Dwarf_Line *dl = !l && cu ? dwarf_getsrc_die(cu, at - bias) : NULL;
	if (l) {
		file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
	} else if (dl) {
		file = dwarf_linesrc(dl, NULL, NULL);
		if (dwarf_lineno(dl, &line) != 0)
			line = 0;
	}
	GElf_Off off;
	GElf_Sym sym;
	const char *symname = dwfl_module_addrinfo(mod, at, &off, &sym, NULL,
	                                           NULL, NULL);

	Dwarf_Die *scopes = NULL;
	int nscopes = cu ? dwarf_getscopes(cu, at - bias, &scopes) : 0;
	int n = 0;
	for (int i = 0; i < nscopes && n < max; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag == DW_TAG_inlined_subroutine) {
			set_frame(&out[n++], pc, die_name(&scopes[i]), file, line, 1);
			call_site(cu, &scopes[i], &file, &line);
		} else if (tag == DW_TAG_subprogram) {
			const char *name = die_name(&scopes[i]);
			set_frame(&out[n++], pc, name ? name : symname, file, line, 0);
			break;
		}
	}
	free(scopes);
	if (n == 0 || (n < max && out[n - 1].inlined)) {
		/* No DWARF subprogram: the symbol names the function. */
		set_frame(&out[n++], pc, symname, file, line, 0);
	}
	return n;
}

/* ---- The cache: open addressing on (pc, return_address) ----------------- */

#define CACHE_FRAMES 16      /* inline depth kept per address */
#define CACHE_MAX 65536      /* addresses; past that, no caching */

struct entry {
	uint64_t key;        /* pc * 2 + return_address, + 1; 0 = empty */
	int n;
	tangle_frame *frames;
};

struct cli_symcache {
	struct entry *slots;
	size_t cap, count;
};

static size_t slot_of(const struct cli_symcache *c, uint64_t key)
{
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15u) >> 20) & (c->cap - 1);
	while (c->slots[i].key && c->slots[i].key != key)
		i = (i + 1) & (c->cap - 1);
	return i;
}

static int grow(struct cli_symcache *c)
{
	size_t cap = c->cap ? 2 * c->cap : 256;
	struct entry *old = c->slots;
	size_t oldcap = c->cap;
	c->slots = calloc(cap, sizeof *c->slots);
	if (!c->slots) {
		c->slots = old;
		return -1;
	}
	c->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			c->slots[slot_of(c, old[i].key)] = old[i];
	free(old);
	return 0;
}

int cli_symbolize_cached(struct cli_symcache **cache, Dwfl *dwfl, uint64_t pc,
                         int return_address, tangle_frame *out, int max)
{
	struct cli_symcache *c = *cache;
	if (!c && !(c = *cache = calloc(1, sizeof *c)))
		return cli_symbolize(dwfl, pc, return_address, out, max);
	if ((c->count + 1) * 2 > c->cap &&
	    (c->count >= CACHE_MAX || grow(c) != 0))
		return cli_symbolize(dwfl, pc, return_address, out, max);
	uint64_t key = pc * 2 + (return_address != 0) + 1;
	struct entry *e = &c->slots[slot_of(c, key)];
	if (!e->key) {
		tangle_frame frames[CACHE_FRAMES];
		int n = cli_symbolize(dwfl, pc, return_address, frames, CACHE_FRAMES);
		e->frames = malloc((size_t)n * sizeof *frames);
		if (!e->frames)
			return cli_symbolize(dwfl, pc, return_address, out, max);
		memcpy(e->frames, frames, (size_t)n * sizeof *frames);
		e->n = n;
		e->key = key;
		c->count++;
	}
	int n = e->n < max ? e->n : max;
	memcpy(out, e->frames, (size_t)n * sizeof *out);
	return n;
}

void cli_symcache_free(struct cli_symcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->cap; i++)
		free(c->slots[i].frames);
	free(c->slots);
	free(c);
}
