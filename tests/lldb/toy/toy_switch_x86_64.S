/*
 * A minimal stack switch for the lldb plugin's toy test: the same saved
 * frame as libtangle's (saved_sp -> r15 r14 r13 r12 rbx rbp return-address),
 * with CFI and a global resume label, and an entry trampoline that ends
 * unwinding. Test-only; the runtime has its own.
 */
	.text
	.globl toy_switch
	.type toy_switch, @function
/* void toy_switch(void **save_sp, void *to_sp) */
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
	.cfi_adjust_cfa_offset -8
	popq %r14
	.cfi_adjust_cfa_offset -8
	popq %r13
	.cfi_adjust_cfa_offset -8
	popq %r12
	.cfi_adjust_cfa_offset -8
	popq %rbx
	.cfi_adjust_cfa_offset -8
	popq %rbp
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size toy_switch, .-toy_switch

	.globl toy_entry
	.type toy_entry, @function
/* First return target of a new stack: rbx = function, r12 = argument. */
toy_entry:
	.cfi_startproc
	.cfi_undefined %rip
	movq %r12, %rdi
	call *%rbx
	ud2
	.cfi_endproc
	.size toy_entry, .-toy_entry

	.section .note.GNU-stack, "", @progbits
