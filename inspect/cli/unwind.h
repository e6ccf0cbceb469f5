/*
 * unwind.h — a tangle_unwinder over libdwfl.
 *
 * Two Dwfls, because a Dwfl takes one attached thread state:
 *  - `threads`: a live process's real threads (dwfl_linux_proc_attach on
 *    the stopped process), unwound by kernel tid;
 *  - `tasks`: the same modules with our own thread callbacks: one pretend
 *    thread whose initial registers are a suspended task's saved context
 *    (callee-saved registers, pc, sp), its memory read through the
 *    target's tangle_reader. Made on first use. A core's threads are
 *    unwound here too, from their registers in the core (thread_context),
 *    their first frame being an interrupted one rather than a call.
 * Both are unwound with CFI by libdwfl, at most CLI_MAX_FRAMES physical
 * frames per stack, stopping if a frame repeats; every frame is symbolized
 * with inlined calls expanded.
 */
#ifndef TANGLE_CLI_UNWIND_H
#define TANGLE_CLI_UNWIND_H

#include <elfutils/libdwfl.h>

#include "tangle_inspect.h"

#define CLI_MAX_FRAMES 64

struct cli_unwind {
	Dwfl *threads;             /* attached, or NULL */
	/* Registers of a thread (cores), or NULL: then `threads` is used. */
	int (*thread_context)(void *arg, uint32_t tid, tangle_context *out);
	void *thread_context_arg;
	Dwfl *tasks;               /* made by make_dwfl on first task */
	Dwfl *(*make_dwfl)(void *arg); /* a fresh Dwfl of the target's modules */
	void *make_arg;
	Elf *elf;                  /* for the machine (may be NULL) */
	const tangle_reader *mem;  /* target memory for the task stacks */
	int tasks_failed;          /* make_dwfl or attach failed: don't retry */
	const tangle_context *current; /* the task being unwound */
	struct cli_symcache *symbols;  /* addresses already symbolized */
};

/* The tangle_unwinder over u (which must outlive it). */
tangle_unwinder cli_unwinder(struct cli_unwind *u);
/* End the tasks Dwfl (not `threads`, which the caller owns). */
void cli_unwind_fini(struct cli_unwind *u);

/* The callbacks, also usable directly. */
int cli_unwind_task(void *ctx, const tangle_context *context,
                    tangle_frame *frames, int max);
int cli_unwind_thread(void *ctx, uint32_t tid, tangle_frame *frames, int max);

/* DWARF number of the stack pointer for an ELF machine, -1 unknown. */
int cli_dwarf_sp(unsigned machine);

#endif
