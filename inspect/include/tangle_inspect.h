/*
 * tangle_inspect.h — libtangle-inspect: the one engine that reads a tangle
 * debug table, builds the wait-for graph, names what is wrong and renders
 * text, JSON and Graphviz.
 *
 * Frontends (the tangle CLI, gdb, lldb) supply three things and decide
 * nothing themselves:
 *   - a tangle_reader: bytes at an address of the target, and symbols;
 *   - optionally a tangle_unwinder: native frames of a suspended task from
 *     its saved context, and of a thread by its kernel tid;
 *   - "now", so durations are right in a core dump.
 * Everything else — decoding, analysis, the commands and their options,
 * every byte of output — is here, so the same target gives the same output
 * in every frontend.
 *
 * The engine never prints on its own and never aborts: failures are
 * tangle_error values. It treats target memory as hostile: every walk is
 * bounded, every pointer checked; an unreadable record becomes a row that
 * says so and decoding goes on.
 */
#ifndef TANGLE_INSPECT_H
#define TANGLE_INSPECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TANGLE_INSPECT_BUILDING)
#define TANGLE_INSPECT_API __attribute__((visibility("default")))
#else
#define TANGLE_INSPECT_API
#endif

/* ---- Errors ------------------------------------------------------------ */

enum tangle_inspect_code {
	TANGLE_INSPECT_ENOMEM = 1,      /* out of memory */
	TANGLE_INSPECT_EREAD = 2,       /* target memory unreadable */
	TANGLE_INSPECT_ENOTABLE = 3,    /* the target has no tangle debug table */
	TANGLE_INSPECT_EVERSION = 4,    /* table ABI version this engine cannot read */
	TANGLE_INSPECT_ECORRUPT = 5,    /* table present but inconsistent */
	TANGLE_INSPECT_EUSAGE = 6,      /* bad command or option */
	TANGLE_INSPECT_ENOTFOUND = 7,   /* no such task or object */
	TANGLE_INSPECT_ESYSTEM = 8,     /* a system call failed */
	TANGLE_INSPECT_EUNSUPPORTED = 9,/* a target this build cannot handle */
};

typedef struct tangle_error {
	int code;          /* TANGLE_INSPECT_E* */
	uint64_t address;  /* target address concerned, 0 if none */
	char *message;     /* one line, no trailing newline */
} tangle_error;

/* Returned when memory for an error cannot be had; freeing it is a no-op. */
TANGLE_INSPECT_API extern tangle_error tangle_error_out_of_memory;

/* printf-style; never NULL (falls back to &tangle_error_out_of_memory). */
TANGLE_INSPECT_API tangle_error *tangle_error_new(int code, uint64_t address,
                                                  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
TANGLE_INSPECT_API void tangle_error_free(tangle_error *err);

/* ---- Memory readers ------------------------------------------------------ */

typedef struct tangle_reader {
	void *ctx;
	/* Copy up to len bytes at addr into buf; return how many bytes from the
	 * start were readable (a short count: the rest is not). Must never
	 * write to the target. */
	size_t (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
	/* Optional: address of a global symbol; 0 when found, -1 otherwise. */
	int (*lookup)(void *ctx, const char *symbol, uint64_t *addr);
	/* Optional: release ctx. */
	void (*close)(void *ctx);
} tangle_reader;

/* A reader over memory segments held in this process (tests, fuzzing). */
typedef struct tangle_segment {
	uint64_t address;   /* where the bytes are in the pretend target */
	const void *data;
	size_t size;
} tangle_segment;

TANGLE_INSPECT_API tangle_error *tangle_reader_buffer(
	const tangle_segment *segments, size_t count, tangle_reader *out);
/* Add a symbol to a buffer reader (for lookup). */
TANGLE_INSPECT_API tangle_error *tangle_reader_buffer_symbol(
	tangle_reader *reader, const char *symbol, uint64_t address);

/* The current process, read so that a bad address is an error, not a
 * fault (process_vm_readv). Symbols through the dynamic linker. */
TANGLE_INSPECT_API tangle_error *tangle_reader_self(tangle_reader *out);

/* ---- Unwinding, supplied by frontends ------------------------------------ */

#define TANGLE_CONTEXT_MAX 32

/* A suspended task's registers, from its saved context. */
typedef struct tangle_context {
	uint16_t arch;      /* ELF e_machine */
	uint16_t count;     /* entries used in regs */
	uint32_t reserved;
	uint64_t pc;        /* where the task resumes (the switch's return address) */
	uint64_t sp;        /* its stack pointer once resumed (saved_sp + context) */
	uint64_t saved_sp;  /* the saved stack pointer itself */
	uint64_t resume_pc; /* the switch routine's resume label */
	struct {
		uint16_t dwarf; /* DWARF register number */
		uint64_t value;
	} regs[TANGLE_CONTEXT_MAX];
} tangle_context;

typedef struct tangle_frame {
	uint64_t pc;
	uint32_t line;          /* 0 unknown */
	uint8_t inlined;        /* inlined into the next (outer) frame */
	uint8_t reserved[3];
	char function[128];     /* "" unknown */
	char file[256];         /* "" unknown */
} tangle_frame;

typedef struct tangle_unwinder {
	void *ctx;
	/* Frames of a suspended task, innermost first; returns how many (<= max)
	 * or -1 if it cannot unwind. */
	int (*task)(void *ctx, const tangle_context *context, tangle_frame *frames,
	            int max);
	/* Frames of a thread of the target by kernel thread id (-1: cannot). */
	int (*thread)(void *ctx, uint32_t tid, tangle_frame *frames, int max);
} tangle_unwinder;

/* ---- Sessions: one decoded view of one target ---------------------------- */

enum tangle_now_kind {
	TANGLE_NOW_TABLE = 0, /* the latest time recorded in the table (fallback) */
	TANGLE_NOW_MONO = 1,  /* CLOCK_MONOTONIC of the target's machine, now (live) */
	TANGLE_NOW_REAL = 2,  /* wall-clock time of the dump (the core's mtime) */
};

typedef struct tangle_session_options {
	uint64_t root;        /* root address; 0: look up TANGLE_DEBUG_SYMBOL */
	int now_kind;         /* enum tangle_now_kind */
	uint64_t now;         /* ns, in the clock now_kind names */
	int torn;             /* read live without stopping: may be inconsistent */
	const char *target;   /* how to name the target in headings, or NULL */
} tangle_session_options;

typedef struct tangle_session tangle_session;

/* Read and decode the table. The reader (and unwinder, may be NULL) must
 * outlive the session. Fails with ENOTABLE, EVERSION (naming both
 * versions), EREAD or ECORRUPT when nothing usable can be read; damage in
 * individual records is reported inside the session instead. */
TANGLE_INSPECT_API tangle_error *tangle_session_open(
	const tangle_reader *reader, const tangle_unwinder *unwinder,
	const tangle_session_options *options, tangle_session **out);
TANGLE_INSPECT_API void tangle_session_free(tangle_session *s);

/* Run one command. argv[0] is the command: triage, tasks, bt, locks, why,
 * deadlocks, graph, help (`help` or `CMD --help` print usage). Output goes
 * to out. Returns the exit status: 0 nothing found, 1 findings, 2 error
 * (then *err, if err is non-NULL, says why and nothing else is written). */
TANGLE_INSPECT_API int tangle_session_command(tangle_session *s, int argc,
                                              char **argv, FILE *out,
                                              tangle_error **err);

/* The same for frontends without a FILE * (ctypes): returns a malloc'd
 * NUL-terminated string (the output, or on status 2 the error message) to
 * be released with tangle_inspect_free(); *status gets the exit status. */
TANGLE_INSPECT_API char *tangle_session_run(tangle_session *s, int argc,
                                            char **argv, int *status);
TANGLE_INSPECT_API void tangle_inspect_free(void *p);

/* Usage of all commands (or one), as `help` prints it. Static string. */
TANGLE_INSPECT_API const char *tangle_inspect_usage(const char *command);

/* For frontends that take words of their own among the engine's options
 * (gdb's and lldb's `tangle graph FILE`): 1 if the next word is this
 * option's value, 0 for an option without one (or "--opt=value"), -1 for
 * a word that is not an option of any command. */
TANGLE_INSPECT_API int tangle_inspect_option_takes_value(const char *word);

/* The engine's rule for the runtime's own frames, which `bt` trims and a
 * frontend skips when it selects a task's frame: a function tangle_* or a
 * file under runtime/src/. NULL counts as no name. */
TANGLE_INSPECT_API int tangle_inspect_runtime_frame(const char *function,
                                                    const char *file);

/* ---- Tasks for debugger integration ---------------------------------------- */

/* What gdb's `tangle task ID` and lldb's task threads need of a task. */
typedef struct tangle_task_info {
	uint64_t id;
	uint64_t address;       /* of its record in the target */
	int state;              /* TANGLE_DEBUG_TASK_* */
	int suspended;          /* 1: context is valid */
	uint32_t worker_tid;    /* running: its worker's kernel tid, else 0 */
	uint32_t reserved;
	char name[32];
	char wait[160];         /* one line: what it waits for, "" if nothing */
	tangle_context context;
} tangle_task_info;

/* Live (not FREE) tasks in id order. */
TANGLE_INSPECT_API size_t tangle_session_task_count(const tangle_session *s);
TANGLE_INSPECT_API int tangle_session_task_at(const tangle_session *s,
                                              size_t index,
                                              tangle_task_info *out);
/* By id; -1 when there is no such task. */
TANGLE_INSPECT_API int tangle_session_task_by_id(const tangle_session *s,
                                                 uint64_t id,
                                                 tangle_task_info *out);

/* A task's id, record, state and worker, as decoded when the session was
 * opened: listing every task (ids to complete, the task running on a
 * thread) reads no target memory, unlike tangle_session_task_at, which
 * reads the task's saved context. */
typedef struct tangle_task_brief {
	uint64_t id;
	uint64_t address;       /* of its record in the target */
	int state;              /* TANGLE_DEBUG_TASK_* */
	uint32_t worker_tid;    /* running: its worker's kernel tid, else 0 */
} tangle_task_brief;

/* Live tasks first, first+1, ... (the order of tangle_session_task_at)
 * into out[0..max-1]; returns how many were written. */
TANGLE_INSPECT_API size_t tangle_session_task_briefs(const tangle_session *s,
                                                     size_t first,
                                                     tangle_task_brief *out,
                                                     size_t max);

/* One line describing the task record or lock-like object at address
 * (pretty-printers): "mutex "ledger" held by task 13 "transfer-b", 1
 * waiter". Returns -1 (and writes "") if address is neither. */
TANGLE_INSPECT_API int tangle_session_describe(const tangle_session *s,
                                               uint64_t address, char *buf,
                                               size_t len);
/* The same, and for an object the tasks still waiting on it, in queue
 * order, up to max_waiters of them (rwlock and channel waiters with their
 * operation): "mutex "ledger" held by task 13 "transfer-b", 3 waiters:
 * task 12 "transfer-a", task 14 "audit" … and 1 more". max_waiters 0 is
 * tangle_session_describe. */
TANGLE_INSPECT_API int tangle_session_describe_waiters(const tangle_session *s,
                                                       uint64_t address,
                                                       unsigned max_waiters,
                                                       char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* TANGLE_INSPECT_H */
