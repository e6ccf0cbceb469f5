/*
 * coreregs.c — a thread's registers in a core (NT_PRSTATUS) as a
 * tangle_context, so that core threads are unwound by the same libdwfl
 * thread callbacks as tasks, reading memory through the core reader.
 *
 * (libdwfl's own dwfl_core_file_attach reads each stack word by scanning
 * every program header of the core: 0.2 s per thread on a core with
 * 200,000 segments.)
 *
 * Layout of the 64-bit Linux elf_prstatus, the same on x86-64 and aarch64:
 * pr_pid at 32, pr_reg at 112; pr_reg is user_regs_struct (x86-64: 27
 * words) or user_pt_regs (aarch64: x0..x30, sp, pc, pstate).
 */
#include <elf.h>
#include <string.h>

#include "core.h"

#define PR_PID 32
#define PR_REG 112

/* x86-64 user_regs_struct word -> DWARF register (-1: not one). */
static const int x86_64_dwarf[27] = {
	15, 14, 13, 12, 6, 3, 11, 10, 9, 8, /* r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 */
	0, 2, 1, 4, 5,                      /* rax rcx rdx rsi rdi */
	-1, 16, -1, -1, 7,                  /* orig_rax rip cs eflags rsp */
	-1, -1, -1, -1, -1, -1, -1,         /* ss fs_base gs_base ds es fs gs */
};

int cli_prstatus_context(unsigned machine, const void *desc, size_t size,
                         uint32_t *tid, tangle_context *out)
{
	const unsigned char *d = desc;
	int32_t pid;
	if (size < PR_REG)
		return -1;
	memcpy(&pid, d + PR_PID, sizeof pid);
	*tid = (uint32_t)pid;
	memset(out, 0, sizeof *out);
	out->arch = (uint16_t)machine;
	uint64_t w[34];
	size_t words = machine == EM_X86_64 ? 27 : machine == EM_AARCH64 ? 34 : 0;
	if (!words || size < PR_REG + words * 8)
		return -1;
	memcpy(w, d + PR_REG, words * 8);
	if (machine == EM_X86_64) {
		for (size_t i = 0; i < words; i++) {
			int r = x86_64_dwarf[i];
			if (r < 0 || r == 16 || r == 7)
				continue;
			out->regs[out->count].dwarf = (uint16_t)r;
			out->regs[out->count++].value = w[i];
		}
		out->pc = w[16];
		out->sp = w[19];
	} else {
		for (int i = 0; i < 31; i++) {
			out->regs[out->count].dwarf = (uint16_t)i;
			out->regs[out->count++].value = w[i];
		}
		out->sp = w[31];
		out->pc = w[32];
	}
	return 0;
}
