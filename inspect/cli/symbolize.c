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
	const char *file = NULL;
	int line = 0;
	Dwfl_Line *l = dwfl_module_getsrc(mod, at);
	if (l)
		file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
	GElf_Off off;
	GElf_Sym sym;
	const char *symname = dwfl_module_addrinfo(mod, at, &off, &sym, NULL,
	                                           NULL, NULL);

	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, at, &bias);
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
