/*
 * context_aarch64.S — the stack switch (AAPCS64).
 *
 * void *tangle__ctx_switch(void **save_sp, void *to_sp, void *arg)
 *   stores the callee-saved registers below sp, stores sp in *save_sp,
 *   loads to_sp and restores the frame found there; returns arg to the
 *   context it resumes. A suspended context's saved sp points at:
 *
 *      saved_sp + 0    x19 x20 ... x28    (10 words)
 *               + 80   x29                (frame pointer)
 *               + 88   x30                (the resume pc)
 *               + 96   d8 d9 ... d15      (8 words)
 *               + 160  the caller's sp
 *
 * The CFI ("CFA = sp + 160, registers at these slots") holds from the
 * stores to the resume label on both sides of the switch, so an unwinder
 * started at tangle__ctx_resume with sp = saved_sp walks into the task.
 *
 * tangle__ctx_entry: first code a new task runs. x19 = data, x20 = the C
 * entry function, called as entry(data, arg); x30 is marked undefined so
 * that unwinders stop here.
 *
 * Branch protection (-mbranch-protection=standard, the default flags of
 * several distributions): every function starts with a BTI landing pad
 * and the object carries the GNU property note, as the compiler's own
 * objects do; without the note the linker silently drops BTI from the
 * whole library or program. The saved resume pc is not signed (PAC): the
 * debug table's readers take the PC word as a plain address.
 */
#if defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT == 1
#define BTI_C hint #34 /* bti c */
#define GNU_PROPERTY_BTI 1
#else
#define BTI_C
#define GNU_PROPERTY_BTI 0
#endif
	.text
	.globl tangle__ctx_switch
	.hidden tangle__ctx_switch
	.type tangle__ctx_switch, %function
	.p2align 4
tangle__ctx_switch:
	.cfi_startproc
	BTI_C
	sub sp, sp, #160
	.cfi_def_cfa_offset 160
	stp x19, x20, [sp, #0]
	stp x21, x22, [sp, #16]
	stp x23, x24, [sp, #32]
	stp x25, x26, [sp, #48]
	stp x27, x28, [sp, #64]
	stp x29, x30, [sp, #80]
	stp d8, d9, [sp, #96]
	stp d10, d11, [sp, #112]
	stp d12, d13, [sp, #128]
	stp d14, d15, [sp, #144]
	.cfi_offset x19, -160
	.cfi_offset x20, -152
	.cfi_offset x21, -144
	.cfi_offset x22, -136
	.cfi_offset x23, -128
	.cfi_offset x24, -120
	.cfi_offset x25, -112
	.cfi_offset x26, -104
	.cfi_offset x27, -96
	.cfi_offset x28, -88
	.cfi_offset x29, -80
	.cfi_offset x30, -72
	.cfi_offset d8, -64
	.cfi_offset d9, -56
	.cfi_offset d10, -48
	.cfi_offset d11, -40
	.cfi_offset d12, -32
	.cfi_offset d13, -24
	.cfi_offset d14, -16
	.cfi_offset d15, -8
	mov x9, sp
	str x9, [x0]
	mov sp, x1
	.globl tangle__ctx_resume
	.hidden tangle__ctx_resume
tangle__ctx_resume:
	ldp x19, x20, [sp, #0]
	ldp x21, x22, [sp, #16]
	ldp x23, x24, [sp, #32]
	ldp x25, x26, [sp, #48]
	ldp x27, x28, [sp, #64]
	ldp x29, x30, [sp, #80]
	ldp d8, d9, [sp, #96]
	ldp d10, d11, [sp, #112]
	ldp d12, d13, [sp, #128]
	ldp d14, d15, [sp, #144]
	add sp, sp, #160
	.cfi_def_cfa_offset 0
	.cfi_restore x19
	.cfi_restore x20
	.cfi_restore x21
	.cfi_restore x22
	.cfi_restore x23
	.cfi_restore x24
	.cfi_restore x25
	.cfi_restore x26
	.cfi_restore x27
	.cfi_restore x28
	.cfi_restore x29
	.cfi_restore x30
	.cfi_restore d8
	.cfi_restore d9
	.cfi_restore d10
	.cfi_restore d11
	.cfi_restore d12
	.cfi_restore d13
	.cfi_restore d14
	.cfi_restore d15
	mov x0, x2
	ret
	.cfi_endproc
	.size tangle__ctx_switch, .-tangle__ctx_switch

	.globl tangle__ctx_entry
	.hidden tangle__ctx_entry
	.type tangle__ctx_entry, %function
	.p2align 4
tangle__ctx_entry:
	.cfi_startproc
	.cfi_undefined x30
	BTI_C
	mov x1, x0
	mov x0, x19
	blr x20
	brk #0
	.cfi_endproc
	.size tangle__ctx_entry, .-tangle__ctx_entry

/* void *tangle__ctx_init(void *stack_hi, void (*entry)(void *, void *),
 *                        void *data) */
	.globl tangle__ctx_init
	.hidden tangle__ctx_init
	.type tangle__ctx_init, %function
	.p2align 4
tangle__ctx_init:
	.cfi_startproc
	BTI_C
	and x0, x0, #~15
	sub x0, x0, #160
	stp x2, x1, [x0, #0]      /* x19 = data, x20 = entry */
	stp xzr, xzr, [x0, #16]
	stp xzr, xzr, [x0, #32]
	stp xzr, xzr, [x0, #48]
	stp xzr, xzr, [x0, #64]
	adrp x9, tangle__ctx_entry
	add x9, x9, :lo12:tangle__ctx_entry
	stp xzr, x9, [x0, #80]    /* x29 = 0, x30 = entry trampoline */
	stp xzr, xzr, [x0, #96]
	stp xzr, xzr, [x0, #112]
	stp xzr, xzr, [x0, #128]
	stp xzr, xzr, [x0, #144]
	ret
	.cfi_endproc
	.size tangle__ctx_init, .-tangle__ctx_init

	.section .note.GNU-stack,"",%progbits

#if GNU_PROPERTY_BTI
/* NT_GNU_PROPERTY_TYPE_0: GNU_PROPERTY_AARCH64_FEATURE_1_AND = BTI */
	.pushsection .note.gnu.property, "a"
	.p2align 3
	.word 4               /* name size */
	.word 16              /* descriptor size */
	.word 5               /* NT_GNU_PROPERTY_TYPE_0 */
	.asciz "GNU"
	.word 0xc0000000      /* GNU_PROPERTY_AARCH64_FEATURE_1_AND */
	.word 4               /* data size */
	.word 1               /* GNU_PROPERTY_AARCH64_FEATURE_1_BTI */
	.word 0               /* padding */
	.popsection
#endif
