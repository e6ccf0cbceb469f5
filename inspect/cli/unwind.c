/*
 * unwind.c — native unwinding of threads and suspended tasks (see
 * unwind.h).
 *
 * A task's saved context is decoded by the engine into registers: pc is
 * the switch's return address in the task's code, sp the stack pointer
 * once the switch has returned, plus the callee-saved registers. That is
 * exactly the state of a frame that has just returned from a call, so
 * libdwfl can unwind from it with CFI; every frame of a task, the first
 * included, is a return address and is symbolized at pc - 1.
 */
#include "unwind.h"

#include <elf.h>
#include <string.h>

#include "symbolize.h"

#define TASK_TID 1 /* the one pretend thread of the tasks Dwfl */

int cli_dwarf_sp(unsigned machine)
{
	switch (machine) {
	case EM_X86_64: return 7;
	case EM_AARCH64: return 31;
	default: return -1;
	}
}

struct raw_frame {
	Dwarf_Addr pc;
	int activation;
};

struct collect {
	struct raw_frame raw[CLI_MAX_FRAMES];
	int n;
	int sp_reg;
	Dwarf_Word last_sp;
	int have_sp;
};

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct collect *c = arg;
	Dwarf_Addr pc;
	bool activation;
	if (!dwfl_frame_pc(state, &pc, &activation) || pc == 0)
		return DWARF_CB_ABORT;
	Dwarf_Word sp;
	int have_sp = c->sp_reg >= 0 &&
	              dwfl_frame_reg(state, (unsigned)c->sp_reg, &sp) == 0;
	/* The same pc at the same sp again: a loop, not a stack. */
	if (c->n > 0 && have_sp && c->have_sp && sp == c->last_sp &&
	    pc == c->raw[c->n - 1].pc)
		return DWARF_CB_ABORT;
	c->raw[c->n].pc = pc;
	c->raw[c->n].activation = activation;
	c->n++;
	c->have_sp = have_sp;
	if (have_sp)
		c->last_sp = sp;
	return c->n < CLI_MAX_FRAMES ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static int symbolize_all(struct cli_unwind *u, Dwfl *dwfl,
                         const struct collect *c, int first_is_ra,
                         tangle_frame *frames, int max)
{
	int n = 0;
	for (int i = 0; i < c->n && n < max; i++) {
		int ra = i == 0 ? first_is_ra : !c->raw[i].activation;
		n += cli_symbolize_cached(&u->symbols, dwfl, c->raw[i].pc, ra,
		                          frames + n, max - n);
	}
	return n;
}

static unsigned dwfl_machine(Dwfl *dwfl, Elf *elf)
{
	GElf_Ehdr eh;
	if (elf && gelf_getehdr(elf, &eh))
		return eh.e_machine;
	(void)dwfl;
	return
#if defined(__x86_64__)
		EM_X86_64;
#elif defined(__aarch64__)
		EM_AARCH64;
#else
		EM_NONE;
#endif
}

struct find_thread {
	pid_t tid;
	struct collect *c;
};

static int each_thread(Dwfl_Thread *thread, void *arg)
{
	struct find_thread *f = arg;
	if (dwfl_thread_tid(thread) == f->tid && f->c->n == 0)
		dwfl_thread_getframes(thread, frame_cb, f->c);
	return DWARF_CB_OK;
}

static Dwfl *tasks_dwfl(struct cli_unwind *u);
static int unwind_context(struct cli_unwind *u, const tangle_context *context,
                          int first_is_ra, tangle_frame *frames, int max);

int cli_unwind_thread(void *ctx, uint32_t tid, tangle_frame *frames, int max)
{
	struct cli_unwind *u = ctx;
	if (max <= 0)
		return -1;
	if (u->thread_context) {
		tangle_context context;
		if (u->thread_context(u->thread_context_arg, tid, &context) != 0)
			return -1;
		/* A thread's innermost frame was interrupted, not called from. */
		return unwind_context(u, &context, 0, frames, max);
	}
	if (!u->threads)
		return -1;
	struct collect c;
	memset(&c, 0, sizeof c);
	c.sp_reg = cli_dwarf_sp(dwfl_machine(u->threads, u->elf));
	/* Every thread is visited (dwfl_getthread_frames would stop the
	 * iteration early, which leaks libdwfl's iteration state). */
	struct find_thread f = {(pid_t)tid, &c};
	dwfl_getthreads(u->threads, each_thread, &f);
	if (c.n == 0)
		return -1;
	return symbolize_all(u, u->threads, &c, 0, frames, max);
}

/* ---- The tasks Dwfl: one pretend thread, registers from a context ------- */

static pid_t task_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = arg;
	return TASK_TID;
}

static bool task_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	(void)dwfl;
	if (tid != TASK_TID)
		return false;
	*thread_argp = arg;
	return true;
}

static bool task_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result,
                             void *arg)
{
	(void)dwfl;
	struct cli_unwind *u = arg;
	uint64_t v;
	if (u->mem->read(u->mem->ctx, addr, &v, sizeof v) != sizeof v)
		return false;
	*result = v;
	return true;
}

static bool task_set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct cli_unwind *u = arg;
	const tangle_context *ctx = u->current;
	if (!ctx)
		return false;
	for (int i = 0; i < ctx->count && i < TANGLE_CONTEXT_MAX; i++) {
		Dwarf_Word v = ctx->regs[i].value;
		if (!dwfl_thread_state_registers(thread, ctx->regs[i].dwarf, 1, &v))
			return false;
	}
	int sp = cli_dwarf_sp(ctx->arch);
	Dwarf_Word spv = ctx->sp;
	if (sp < 0 || !dwfl_thread_state_registers(thread, sp, 1, &spv))
		return false;
	dwfl_thread_state_register_pc(thread, ctx->pc);
	return true;
}

static const Dwfl_Thread_Callbacks task_callbacks = {
	.next_thread = task_next_thread,
	.get_thread = task_get_thread,
	.memory_read = task_memory_read,
	.set_initial_registers = task_set_initial_registers,
};

static Dwfl *tasks_dwfl(struct cli_unwind *u)
{
	if (u->tasks || u->tasks_failed)
		return u->tasks;
	u->tasks_failed = 1;
	Dwfl *dwfl = u->make_dwfl ? u->make_dwfl(u->make_arg) : NULL;
	if (!dwfl)
		return NULL;
	if (!dwfl_attach_state(dwfl, u->elf, TASK_TID, &task_callbacks, u)) {
		dwfl_end(dwfl);
		return NULL;
	}
	u->tasks_failed = 0;
	u->tasks = dwfl;
	return dwfl;
}

static int unwind_context(struct cli_unwind *u, const tangle_context *context,
                          int first_is_ra, tangle_frame *frames, int max)
{
	if (!context || max <= 0 || !context->pc ||
	    cli_dwarf_sp(context->arch) < 0 || !u->mem)
		return -1;
	Dwfl *dwfl = tasks_dwfl(u);
	if (!dwfl)
		return -1;
	struct collect c;
	memset(&c, 0, sizeof c);
	c.sp_reg = cli_dwarf_sp(context->arch);
	u->current = context;
	dwfl_getthread_frames(dwfl, TASK_TID, frame_cb, &c);
	u->current = NULL;
	if (c.n == 0)
		return -1;
	return symbolize_all(u, dwfl, &c, first_is_ra, frames, max);
}

int cli_unwind_task(void *ctx, const tangle_context *context,
                    tangle_frame *frames, int max)
{
	return unwind_context(ctx, context, 1, frames, max);
}

tangle_unwinder cli_unwinder(struct cli_unwind *u)
{
	tangle_unwinder w = {
		.ctx = u,
		.task = cli_unwind_task,
		.thread = cli_unwind_thread,
	};
	return w;
}

void cli_unwind_fini(struct cli_unwind *u)
{
	cli_symcache_free(u->symbols);
	u->symbols = NULL;
	if (u->tasks)
		dwfl_end(u->tasks);
	u->tasks = NULL;
}
