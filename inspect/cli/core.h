/*
 * core.h — a core dump as target memory.
 *
 * The bytes of an address come from the core's PT_LOAD segments (the core
 * is mmap'd; segments sorted by address, found by binary search) and, for
 * file-backed mappings the kernel did not dump (read-only code and data:
 * .rodata strings, the debug table's layout), from the mapped file itself,
 * as the core's NT_FILE note names it. The executable is the given one or
 * the one the core names; a given one must have the build id the core
 * recorded.
 */
#ifndef TANGLE_CLI_CORE_H
#define TANGLE_CLI_CORE_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

#include "tangle_inspect.h"

struct cli_core;

/* One file-backed mapping of the dumped process (NT_FILE). */
struct cli_mapping {
	uint64_t start, end;  /* [start, end) in the process */
	uint64_t offset;      /* file offset of start, bytes */
	const char *path;     /* as recorded in the core; "PATH (deleted)" when
	                         the file was replaced while mapped: then it
	                         is not read (what is there is another file) */
	int fd;               /* -1 not opened yet, -2 cannot be opened */
};

/* Open path as a core. exe may be NULL: the executable is then the path
 * the core records, which must exist. Errors: not a core, truncated,
 * executable missing or not matching (build ids differ). */
tangle_error *cli_core_open(const char *path, const char *exe,
                            struct cli_core **out);
void cli_core_close(struct cli_core *c);

/* The tangle_reader read callback (ctx is the cli_core). */
size_t cli_core_read(void *ctx, uint64_t addr, void *buf, size_t len);
/* The same from the core's own bytes only (no mapped-file fallback). */
size_t cli_core_read_dumped(const struct cli_core *c, uint64_t addr,
                            void *buf, size_t len);

Elf *cli_core_elf(const struct cli_core *c);
/* The executable used (the given one, or the recorded path). */
const char *cli_core_exe(const struct cli_core *c);
/* Modification time of the core file, ns since the epoch. */
uint64_t cli_core_mtime_ns(const struct cli_core *c);
/* ELF e_machine of the core. */
unsigned cli_core_machine(const struct cli_core *c);
/* The file-backed mappings (NT_FILE), sorted by address; *count may be 0. */
const struct cli_mapping *cli_core_mappings(const struct cli_core *c,
                                            int *count);
/* The file to read for a mapping: the executable in use for the
 * program's own mappings, NULL for a file replaced since ("(deleted)"). */
const char *cli_mapping_file(const struct cli_core *c,
                             const struct cli_mapping *m);
/* The executable's path as the core records it, or NULL. */
const char *cli_core_recorded_exe(const struct cli_core *c);
/* Where the vDSO's ELF image was mapped (AT_SYSINFO_EHDR), or 0. */
uint64_t cli_core_vdso(const struct cli_core *c);

/* The registers of thread tid at the dump, as a context whose pc is where
 * it was interrupted (not a return address). 0, or -1 if no such thread. */
int cli_core_thread_context(const struct cli_core *c, uint32_t tid,
                            tangle_context *out);

/* ---- Helpers shared with the tests (corenotes.c, coreregs.c) ----------- */

/* Decode a 64-bit Linux NT_PRSTATUS descriptor of an ELF machine. */
int cli_prstatus_context(unsigned machine, const void *desc, size_t size,
                         uint32_t *tid, tangle_context *out);

/* Parse an NT_FILE descriptor into mappings (paths point into desc).
 * Returns the count, or -1 if malformed. *out is malloc'd. */
int cli_parse_nt_file(const void *desc, size_t size, struct cli_mapping **out);
/* The value of an auxv entry type in an NT_AUXV descriptor, 0 if absent. */
uint64_t cli_auxv_get(const void *desc, size_t size, uint64_t type);
/* The GNU build id in a block of ELF notes aligned to align (4 or 8): its
 * length (0 if none) and a pointer into notes. */
size_t cli_notes_build_id(const void *notes, size_t size, size_t align,
                          const void **id);
/* Mappings of the ELF files of a core without NT_FILE (linkmap.c): exe
 * placed by AT_ENTRY, the libraries from the dynamic linker's list in the
 * core. Paths are malloc'd: release with cli_mappings_free(). */
int cli_linkmap(const struct cli_core *c, const char *exe, uint64_t entry,
                struct cli_mapping **out);
void cli_mappings_free(struct cli_mapping *m, int n);
/* Hex of a build id, into buf (at least 2 * len + 1 bytes, truncated). */
void cli_hex(const void *id, size_t len, char *buf, size_t size);

#endif
