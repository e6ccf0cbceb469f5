/*
 * exe.h — which executable goes with a core, and whether a given one is
 * the right one (its GNU build id against the one in the core's copy of
 * the program's ELF headers).
 */
#ifndef TANGLE_CLI_EXE_H
#define TANGLE_CLI_EXE_H

#include "core.h"

/* *out (malloc'd) = given if set, else the recorded path if it exists;
 * otherwise an error that says what the core ran and how to give it. */
tangle_error *cli_exe_resolve(const char *core_path, const char *recorded,
                              const char *program, const char *given,
                              char **out);

/* Compare exe's build id with the one in the core's copy of the
 * program's ELF headers: on the page of AT_PHDR (at_phdr, 0 if unknown),
 * else at the first mapping of recorded. Passes when the core has none.
 * given: exe was named by the user (not found from the core). */
tangle_error *cli_exe_check_build_id(const struct cli_core *c, uint64_t at_phdr,
                                     const struct cli_mapping *maps, int nmaps,
                                     const char *recorded, const char *exe,
                                     int given);

/* The build id of an ELF file: length (0 if none, -1 if not an ELF
 * executable or shared object) into id[max]. */
int cli_file_build_id(const char *path, unsigned char *id, size_t max);

#endif
