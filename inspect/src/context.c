/*
 * context.c — a suspended task's registers, decoded from its saved frame
 * as the root describes it (CTX_SLOTS words from the saved sp, word i
 * holding DWARF register CTX_REGS[i], TANGLE_DEBUG_CTX_PC the resume
 * address). One bounded read; nothing architecture-specific here.
 */
#include <string.h>

#include "ti.h"

int ti_task_context(const tangle_session *s, uint32_t ti, tangle_context *out)
{
	const ti_task *t = &s->tasks[ti];
	memset(out, 0, sizeof(*out));
	out->arch = s->arch;
	out->resume_pc = s->resume_pc;
	if (!t->saved_sp || !s->ctx_slots || t->state == TANGLE_DEBUG_TASK_RUNNING ||
	    t->state == TANGLE_DEBUG_TASK_DONE || t->state == TANGLE_DEBUG_TASK_CANCELLED)
		return -1;
	unsigned ps = s->L.ptr_size;
	uint8_t buf[TANGLE_DEBUG_CTX_MAX * 8];
	size_t len = (size_t)s->ctx_slots * ps;
	if (s->r->read(s->r->ctx, t->saved_sp, buf, len) < len)
		return -1;
	if (t->stack_lo && t->stack_hi &&
	    (t->saved_sp < t->stack_lo || t->saved_sp + len > t->stack_hi))
		return -1; /* a saved sp outside its own stack: not trustworthy */
	out->saved_sp = t->saved_sp;
	out->sp = t->saved_sp + len;
	for (unsigned i = 0; i < s->ctx_slots; i++) {
		uint64_t v = ti_uint(&s->L, buf + (size_t)i * ps, ps);
		if (s->ctx_regs[i] == TANGLE_DEBUG_CTX_PC) {
			out->pc = v;
		} else if (out->count < TANGLE_CONTEXT_MAX) {
			out->regs[out->count].dwarf = s->ctx_regs[i];
			out->regs[out->count].value = v;
			out->count++;
		}
	}
	return 0;
}
