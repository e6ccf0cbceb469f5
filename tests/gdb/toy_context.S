/*
 * toy_context.S — a hand-made stack switch for the gdb unwinder tests,
 * laid out like libtangle's (docs/architecture.md), so that the unwinder can
 * be proved without the runtime:
 *
 *   saved_sp ->  r15 r14 r13 r12 rbx rbp  return-address
 *
 * toy_switch(void **save, void *load): push the callee-saved registers,
 * store rsp in *save, load rsp, pop, return. toy_entry is where a new stack
 * starts: fn in r12, arg in r13; its return address is undefined in CFI, so
 * unwinders stop there.
 */
#if defined(__x86_64__)
	.text
	.globl toy_switch
	.type toy_switch, @function
toy_switch:
	.cfi_startproc
	pushq %rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	pushq %rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbx, 0
	pushq %r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	pushq %r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r13, 0
	pushq %r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r14, 0
	pushq %r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r15, 0
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	.globl toy_resume
toy_resume:
	popq %r15
	.cfi_restore %r15
	.cfi_adjust_cfa_offset -8
	popq %r14
	.cfi_restore %r14
	.cfi_adjust_cfa_offset -8
	popq %r13
	.cfi_restore %r13
	.cfi_adjust_cfa_offset -8
	popq %r12
	.cfi_restore %r12
	.cfi_adjust_cfa_offset -8
	popq %rbx
	.cfi_restore %rbx
	.cfi_adjust_cfa_offset -8
	popq %rbp
	.cfi_restore %rbp
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size toy_switch, .-toy_switch

	.globl toy_entry
	.type toy_entry, @function
toy_entry:
	.cfi_startproc
	.cfi_undefined %rip
	movq %r13, %rdi
	callq *%r12
	ud2
	.cfi_endproc
	.size toy_entry, .-toy_entry
#endif
	.section .note.GNU-stack,"",@progbits
