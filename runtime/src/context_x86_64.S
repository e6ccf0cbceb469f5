/*
 * context_x86_64.S — the stack switch (System V x86-64).
 *
 * void *tangle__ctx_switch(void **save_sp, void *to_sp, void *arg)
 *   pushes the callee-saved registers, stores rsp in *save_sp, loads to_sp
 *   and pops the frame found there; returns arg (the resumer's) to the
 *   context it resumes. A suspended context's saved sp points at:
 *
 *      saved_sp + 0   r15
 *               + 8   r14
 *               + 16  r13
 *               + 24  r12
 *               + 32  rbx
 *               + 40  rbp
 *               + 48  return address   (the resume pc)
 *               + 56  the caller's sp
 *
 *   Only callee-saved registers are kept (no x87 control word, no MXCSR:
 *   C code never changes them between switches).
 *
 * The CFI says "CFA = rsp + 56, registers at these slots" from the last push
 * to the resume label, which holds on both sides of the stack switch, so
 * an unwinder started at tangle__ctx_resume with rsp = saved_sp walks into
 * the task's own frames.
 *
 * tangle__ctx_entry: first code a new task runs. r12 = data, r13 = the C
 * entry function; called as entry(data, arg). The return address is marked
 * undefined so that unwinders stop here.
 */
	.text
	.globl tangle__ctx_switch
	.hidden tangle__ctx_switch
	.type tangle__ctx_switch, @function
	.p2align 4
tangle__ctx_switch:
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
	.globl tangle__ctx_resume
	.hidden tangle__ctx_resume
tangle__ctx_resume:
	movq %rdx, %rax
	popq %r15
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r15
	popq %r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r14
	popq %r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r13
	popq %r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r12
	popq %rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbx
	popq %rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbp
	ret
	.cfi_endproc
	.size tangle__ctx_switch, .-tangle__ctx_switch

	.globl tangle__ctx_entry
	.hidden tangle__ctx_entry
	.type tangle__ctx_entry, @function
	.p2align 4
tangle__ctx_entry:
	.cfi_startproc
	.cfi_undefined %rip
	movq %r12, %rdi
	movq %rax, %rsi
	call *%r13
	ud2
	.cfi_endproc
	.size tangle__ctx_entry, .-tangle__ctx_entry

/* void *tangle__ctx_init(void *stack_hi, void (*entry)(void *, void *),
 *                        void *data): lays out a frame that resumes into
 * tangle__ctx_entry with rsp 16-byte aligned at its call. */
	.globl tangle__ctx_init
	.hidden tangle__ctx_init
	.type tangle__ctx_init, @function
	.p2align 4
tangle__ctx_init:
	.cfi_startproc
	andq $-16, %rdi
	leaq -72(%rdi), %rax
	movq $0, 0(%rax)          /* r15 */
	movq $0, 8(%rax)          /* r14 */
	movq %rsi, 16(%rax)       /* r13: entry */
	movq %rdx, 24(%rax)       /* r12: data */
	movq $0, 32(%rax)         /* rbx */
	movq $0, 40(%rax)         /* rbp: end of the frame-pointer chain */
	leaq tangle__ctx_entry(%rip), %rcx
	movq %rcx, 48(%rax)       /* return address */
	movq $0, 56(%rax)
	movq $0, 64(%rax)
	ret
	.cfi_endproc
	.size tangle__ctx_init, .-tangle__ctx_init

	.section .note.GNU-stack,"",@progbits
