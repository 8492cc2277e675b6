/*
 * cortex_m4_timing.h: an estimate of Cortex-M4 cycles from Thumb-2 instruction encodings.
 *
 * Used by insncount.c (cpu=cortex-m4) and by the decoder's host test. Every number comes from
 * the ARM Cortex-M4 Technical Reference Manual r0p1 (ARM DDI 0439B), "TRM" below:
 *   Table 3-1  "Processor instruction set summary" (section 3.3.1), zero wait states;
 *   3.3.2      "Load/store timings";
 *   Table 7-1  the FPU instruction set (section 7.2.3).
 * docs/cycles.md lists the rules with their sources and what the model leaves out.
 *
 * The model in brief: each instruction class has a cost (m4_decode); two neighbouring
 * instructions change it by -1 (load/store pipelining) or +1 (address-generation stall)
 * (m4_pair_adjust); a PC-writing instruction that branches adds a pipeline refill P
 * (m4_refill); an unaligned halfword or word access adds 1 or 2 (m4_unaligned_penalty).
 * Estimates, not measurements: flash wait states, bus contention, the write buffer,
 * interrupts and IT folding are not modelled; see docs/cycles.md.
 */
#ifndef SILIFC_CORTEX_M4_TIMING_H
#define SILIFC_CORTEX_M4_TIMING_H

#include <stddef.h>
#include <stdint.h>

/* How an instruction may change the PC; it decides the refill P when it branches. */
enum m4_branch {
    M4_BRANCH_NONE,
    M4_BRANCH_IMMEDIATE, /* B, B<cond>, BL, CBZ, CBNZ: target known at decode */
    M4_BRANCH_REGISTER,  /* BX, BLX, MOV PC / ADD PC: target from a register */
    M4_BRANCH_LOADED,    /* LDR PC, LDM/POP with PC: target from memory */
    M4_BRANCH_TABLE,     /* TBB, TBH: always refill */
};

/* What the instruction is, for the class dump of the decoder test and the report. */
enum m4_class {
    M4_ALU,            /* data processing, multiply, MAC, SIMD, saturate, extend, bit-field, IT, hints */
    M4_DIVIDE,         /* SDIV, UDIV */
    M4_LOAD,           /* single load (LDR, LDRB, LDRH, LDRSB, LDRSH, their T forms, LDREX*) */
    M4_STORE,          /* single store (STR, STRB, STRH, their T forms, STREX*) */
    M4_LOAD_DUAL,      /* LDRD */
    M4_STORE_DUAL,     /* STRD */
    M4_LOAD_MULTIPLE,  /* LDM, POP */
    M4_STORE_MULTIPLE, /* STM, PUSH */
    M4_BRANCH,         /* B, B<cond>, BL, BX, BLX, CBZ, CBNZ */
    M4_TABLE_BRANCH,   /* TBB, TBH */
    M4_FP,             /* FPU data processing and register transfers */
    M4_FP_LOAD,        /* VLDR, VLDM, VPOP */
    M4_FP_STORE,       /* VSTR, VSTM, VPUSH */
    M4_UNDEFINED,      /* not a Cortex-M4 encoding (data in the code, or UDF) */
    M4_CLASS_COUNT
};

static const char *const m4_class_names[M4_CLASS_COUNT] = {
    "alu", "divide", "load", "store", "load_dual", "store_dual", "load_multiple", "store_multiple",
    "branch", "table_branch", "fp", "fp_load", "fp_store", "undefined",
};

#define M4_PC 15
#define M4_REG(r) ((uint16_t)(1u << (r)))

/* UDIV/SDIV take 2 to 12 cycles, ending early by the operands' leading zeros and ones
   (TRM Table 3-1 and its note); the plugin cannot see register values, so it charges the
   upper bound and reports how many divides ran. */
#define M4_DIVIDE_CYCLES 12

struct m4_insn {
    uint8_t size;              /* bytes: 2 or 4 */
    uint8_t cls;               /* enum m4_class */
    uint8_t cycles;            /* cost alone: no neighbour effect, no refill */
    uint8_t branch;            /* enum m4_branch: may write the PC */
    uint8_t access_size;       /* 2 or 4: a halfword or word single access, which may be unaligned */
    uint8_t pipeline_leader;   /* single load: the next single load/store may overlap it */
    uint8_t pipeline_follower; /* single load, or store with a register offset: may overlap a leader */
    uint8_t is_memory;         /* any load or store: pays the address-generation stall */
    uint16_t address_regs;     /* registers that form the address */
    uint16_t load_dests;       /* registers a leader writes */
    uint16_t alu_writes;       /* registers a data-processing instruction writes */
};

static inline unsigned m4_popcount16(unsigned value)
{
    unsigned n = 0;
    for (; value; value &= value - 1)
        n++;
    return n;
}

static inline void m4_set(struct m4_insn *d, enum m4_class cls, unsigned cycles)
{
    d->cls = (uint8_t)cls;
    d->cycles = (uint8_t)cycles;
}

/* A data-processing instruction writing Rd: 1 cycle (Table 3-1: move, add, subtract,
   multiply, MAC, long multiply, saturate, logical, shift, extend, bit-field, DSP); Rd = PC
   makes it a register branch, 1 + P ("MOV PC, Rm", "ADD PC, PC, Rm"). */
static inline void m4_alu_writing(struct m4_insn *d, unsigned rd)
{
    m4_set(d, M4_ALU, 1);
    if (rd == M4_PC)
        d->branch = M4_BRANCH_REGISTER;
    else
        d->alu_writes = M4_REG(rd);
}

/* A single load (Rt, address registers): 2 cycles, 1 when pipelined (Table 3-1 "Load",
   3.3.2 "LDR [any] are pipelined when possible"); a load into the PC is 2 + P and blocks
   pipelining (3.3.2 "LDR PC,[any] is always a blocking operation"). */
static inline void m4_single_load(struct m4_insn *d, unsigned rt, uint16_t address, unsigned access_size)
{
    m4_set(d, M4_LOAD, 2);
    d->is_memory = 1;
    d->address_regs = address;
    d->access_size = (uint8_t)access_size;
    if (rt == M4_PC) {
        d->branch = M4_BRANCH_LOADED;
        return;
    }
    d->pipeline_leader = 1;
    d->pipeline_follower = 1;
    d->load_dests = M4_REG(rt);
}

/* A single store. Immediate offset: 1 cycle (3.3.2 "STR Rx,[Ry,#imm] is always one
   cycle": the data phase overlaps the next instruction). Register offset: 2, or 1 when it
   follows a load (Table 3-1 "Store" 2; 3.3.2 "STR can only be pipelined when it follows
   an LDR"). */
static inline void m4_single_store(struct m4_insn *d, int register_offset, uint16_t address, unsigned access_size)
{
    m4_set(d, M4_STORE, register_offset ? 2 : 1);
    d->is_memory = 1;
    d->address_regs = address;
    d->access_size = (uint8_t)access_size;
    d->pipeline_follower = (uint8_t)register_offset;
}

/* LDREX/STREX: 2 cycles, pipelined exactly as LDR (3.3.2 "LDREX and STREX can be
   pipelined exactly as LDR"); STREX writes its status register like a load result. */
static inline void m4_exclusive(struct m4_insn *d, enum m4_class cls, unsigned written, unsigned rn)
{
    m4_set(d, cls, 2);
    d->is_memory = 1;
    d->address_regs = M4_REG(rn);
    d->pipeline_leader = 1;
    d->pipeline_follower = 1;
    d->load_dests = M4_REG(written);
}

/* LDRD/STRD: 3 cycles, never pipelined with neighbours (3.3.2 "LDRD and STRD cannot be
   pipelined with preceding or following instructions ... three cycles"). */
static inline void m4_dual(struct m4_insn *d, enum m4_class cls, unsigned rn)
{
    m4_set(d, cls, 3);
    d->is_memory = 1;
    d->address_regs = M4_REG(rn);
}

/* LDM/STM/PUSH/POP: 1 + N, never pipelined with neighbours (Table 3-1 "Load multiple",
   "Store multiple", "Push", "Pop"; 3.3.2 "LDM and STM cannot be pipelined with preceding
   or following instructions"); with the PC in the list 1 + N + P. */
static inline void m4_multiple(struct m4_insn *d, enum m4_class cls, unsigned rn, unsigned reglist)
{
    m4_set(d, cls, 1 + m4_popcount16(reglist));
    d->is_memory = 1;
    d->address_regs = M4_REG(rn);
    if (cls == M4_LOAD_MULTIPLE && (reglist & M4_REG(M4_PC)))
        d->branch = M4_BRANCH_LOADED;
}

/* ---------------------------------------------------------------- 16-bit encodings */

static inline void m4_decode16(unsigned hw, struct m4_insn *d)
{
    unsigned rd3 = hw & 7, rn3 = (hw >> 3) & 7, rm3 = (hw >> 6) & 7, r8 = (hw >> 8) & 7;

    if ((hw >> 14) == 0) {                             /* shift (imm), add, sub, move, compare */
        unsigned op = (hw >> 11) & 7;
        if (op <= 3)                                   /* LSL, LSR, ASR imm; ADD/SUB reg or imm3 */
            m4_alu_writing(d, rd3);
        else if (op == 5)                              /* CMP imm8 */
            m4_set(d, M4_ALU, 1);
        else                                           /* MOV, ADD, SUB imm8 */
            m4_alu_writing(d, r8);
    } else if ((hw >> 10) == 0x10) {                   /* data processing (register) */
        unsigned op = (hw >> 6) & 15;
        if (op == 8 || op == 10 || op == 11)           /* TST, CMP, CMN */
            m4_set(d, M4_ALU, 1);
        else
            m4_alu_writing(d, rd3);
    } else if ((hw >> 10) == 0x11) {                   /* special data, branch and exchange */
        unsigned op = (hw >> 8) & 3, rdn = ((hw >> 4) & 8) | rd3;
        if (op == 3) {                                 /* BX, BLX (register): 1 + P */
            m4_set(d, M4_BRANCH, 1);
            d->branch = M4_BRANCH_REGISTER;
        } else if (op == 1) {                          /* CMP (high registers) */
            m4_set(d, M4_ALU, 1);
        } else {                                       /* ADD, MOV (high registers) */
            m4_alu_writing(d, rdn);
        }
    } else if ((hw >> 11) == 0x09) {                   /* LDR (literal) */
        m4_single_load(d, r8, M4_REG(M4_PC), 4);
    } else if ((hw >> 12) == 0x5) {                    /* load/store, register offset */
        unsigned op = (hw >> 9) & 7;
        uint16_t address = M4_REG(rn3) | M4_REG(rm3);
        static const uint8_t sizes[8] = {4, 2, 1, 1, 4, 2, 1, 2}; /* STR STRH STRB LDRSB LDR LDRH LDRB LDRSH */
        if (op <= 2)
            m4_single_store(d, 1, address, sizes[op] > 1 ? sizes[op] : 0);
        else
            m4_single_load(d, rd3, address, sizes[op] > 1 ? sizes[op] : 0);
    } else if ((hw >> 13) == 0x3 || (hw >> 12) == 0x8) { /* load/store word, byte, halfword (imm5) */
        unsigned size = (hw >> 13) == 0x3 ? ((hw >> 12) & 1 ? 0 : 4) : 2, load = (hw >> 11) & 1;
        if (load)
            m4_single_load(d, rd3, M4_REG(rn3), size);
        else
            m4_single_store(d, 0, M4_REG(rn3), size);
    } else if ((hw >> 12) == 0x9) {                    /* load/store SP-relative */
        if ((hw >> 11) & 1)
            m4_single_load(d, r8, M4_REG(13), 4);
        else
            m4_single_store(d, 0, M4_REG(13), 4);
    } else if ((hw >> 12) == 0xA) {                    /* ADR, ADD Rd, SP, #imm */
        m4_alu_writing(d, r8);
    } else if ((hw >> 12) == 0xB) {                    /* miscellaneous 16-bit */
        unsigned op = (hw >> 5) & 0x7F;
        if ((op & 0x78) == 0x00) {                     /* ADD SP, SP, #imm; SUB SP, SP, #imm */
            m4_alu_writing(d, 13);
        } else if ((hw & 0x0500) == 0x0100) {          /* CBZ, CBNZ: 1, or 1 + P when taken */
            m4_set(d, M4_BRANCH, 1);
            d->branch = M4_BRANCH_IMMEDIATE;
        } else if ((op & 0x78) == 0x10 || (op & 0x7C) == 0x50 || (op & 0x7E) == 0x56) {
            m4_alu_writing(d, rd3);                    /* SXTH SXTB UXTH UXTB; REV REV16 REVSH */
        } else if ((op & 0x70) == 0x20) {              /* PUSH */
            m4_multiple(d, M4_STORE_MULTIPLE, 13, (hw & 0xFF) | ((hw & 0x100) << 6));
        } else if ((op & 0x70) == 0x60) {              /* POP */
            m4_multiple(d, M4_LOAD_MULTIPLE, 13, (hw & 0xFF) | ((hw & 0x100) << 7));
        } else {                                       /* CPS, BKPT, IT, hints */
            m4_set(d, M4_ALU, 1);
        }
    } else if ((hw >> 12) == 0xC) {                    /* STM, LDM (16-bit) */
        m4_multiple(d, (hw >> 11) & 1 ? M4_LOAD_MULTIPLE : M4_STORE_MULTIPLE, r8, hw & 0xFF);
    } else if ((hw >> 12) == 0xD) {                    /* B<cond>, UDF, SVC */
        unsigned cond = (hw >> 8) & 15;
        if (cond == 14) {
            m4_set(d, M4_UNDEFINED, 1);
        } else if (cond == 15) {                       /* SVC: exception entry, not modelled */
            m4_set(d, M4_ALU, 1);
        } else {
            m4_set(d, M4_BRANCH, 1);
            d->branch = M4_BRANCH_IMMEDIATE;
        }
    } else {                                           /* 11100: B (unconditional, 16-bit) */
        m4_set(d, M4_BRANCH, 1);
        d->branch = M4_BRANCH_IMMEDIATE;
    }
}

/* ---------------------------------------------------------------- 32-bit encodings */

/* Load/store single data item: 1111 100 S U SZ L Rn | Rt ... (ARMv7-M A5.3.7 - A5.3.10). */
static inline void m4_decode32_load_store_single(unsigned hw1, unsigned hw2, struct m4_insn *d)
{
    unsigned rn = hw1 & 15, rt = hw2 >> 12, load = (hw1 >> 4) & 1, size_code = (hw1 >> 5) & 3;
    unsigned size = size_code == 0 ? 0 : size_code == 1 ? 2 : 4; /* bytes are never unaligned */
    int register_offset = 0;
    uint16_t address = M4_REG(rn);

    if (size_code == 3 || (!load && (hw1 & 0x100))) {
        m4_set(d, M4_UNDEFINED, 1);
        return;
    }
    if (rn != M4_PC && !(hw1 & 0x80) && !(hw2 & 0x800)) {
        if ((hw2 & 0xFC0) != 0) {                      /* neither imm8 nor register form */
            m4_set(d, M4_UNDEFINED, 1);
            return;
        }
        register_offset = 1;
        address |= M4_REG(hw2 & 15);
    }
    if (!load) {
        m4_single_store(d, register_offset, address, size);
    } else if (rt == M4_PC && size_code != 2) {       /* PLD, PLI: preload hints */
        m4_set(d, M4_ALU, 1);
    } else {
        m4_single_load(d, rt, address, size);
    }
}

/* Load/store dual or exclusive, table branch: 1110 100x x1xx (ARMv7-M A5.3.6). */
static inline void m4_decode32_dual_exclusive(unsigned hw1, unsigned hw2, struct m4_insn *d)
{
    unsigned op1 = (hw1 >> 7) & 3, op2 = (hw1 >> 4) & 3, op3 = (hw2 >> 4) & 15, rn = hw1 & 15;

    if (op1 == 0 && op2 == 0) {
        m4_exclusive(d, M4_STORE, (hw2 >> 8) & 15, rn);          /* STREX */
    } else if (op1 == 0 && op2 == 1) {
        m4_exclusive(d, M4_LOAD, hw2 >> 12, rn);                 /* LDREX */
    } else if ((op1 & 2) == 0 && op2 == 2) {
        m4_dual(d, M4_STORE_DUAL, rn);                           /* STRD (post-indexed) */
    } else if ((op1 & 2) == 0 && op2 == 3) {
        m4_dual(d, M4_LOAD_DUAL, rn);                            /* LDRD (post-indexed) */
    } else if (op1 & 2) {
        m4_dual(d, op2 & 1 ? M4_LOAD_DUAL : M4_STORE_DUAL, rn);  /* LDRD/STRD (offset, pre-indexed) */
    } else if (op2 == 0 && (op3 == 4 || op3 == 5)) {
        m4_exclusive(d, M4_STORE, hw2 & 15, rn);                 /* STREXB, STREXH */
    } else if (op2 == 1 && (op3 == 4 || op3 == 5)) {
        m4_exclusive(d, M4_LOAD, hw2 >> 12, rn);                 /* LDREXB, LDREXH */
    } else if (op2 == 1 && (op3 == 0 || op3 == 1)) {
        /* TBB, TBH: at least 2 (load) + 1 (add) + 3 (refill) = 6 cycles (3.3.2 "TBB and TBH
           are also blocking operations"); the refill is added as P = 3 when it runs. */
        m4_set(d, M4_TABLE_BRANCH, 3);
        d->is_memory = 1;
        d->address_regs = M4_REG(rn) | M4_REG(hw2 & 15);
        d->branch = M4_BRANCH_TABLE;
    } else {
        m4_set(d, M4_UNDEFINED, 1);
    }
}

/* Coprocessor space; on the Cortex-M4F only the FPU (CP10, CP11) is there. Costs from TRM
   Table 7-1: VLDR/VSTR 1 + words (as LDR 2, LDRD 3), VLDM/VSTM/VPUSH/VPOP 1 + N words,
   VDIV and VSQRT 14, chained and fused multiply-accumulates 3, other FPU instructions 1. */
static inline void m4_decode32_coprocessor(unsigned hw1, unsigned hw2, struct m4_insn *d)
{
    unsigned rn = hw1 & 15, coprocessor = (hw2 >> 8) & 15;
    if (coprocessor != 10 && coprocessor != 11) {      /* no other coprocessor on the Cortex-M4 */
        m4_set(d, M4_UNDEFINED, 1);
        return;
    }
    if ((hw1 & 0x0200) == 0) {                         /* load/store, 64-bit register transfers */
        unsigned p = (hw1 >> 8) & 1, w = (hw1 >> 5) & 1, load = (hw1 >> 4) & 1;
        if ((hw1 & 0x01E0) == 0x0040) {                /* VMOV between two core registers and D/S pair */
            m4_set(d, M4_FP, 1);
            return;
        }
        unsigned words = (p && !w) ? ((hw2 >> 8) & 1 ? 2 : 1) : (hw2 & 0xFF);
        if (words == 0 || words > 32) {                /* beyond the 32 S registers */
            m4_set(d, M4_UNDEFINED, 1);
            return;
        }
        m4_set(d, load ? M4_FP_LOAD : M4_FP_STORE, 1 + words);
        d->is_memory = 1;
        d->address_regs = M4_REG(rn);
        return;
    }
    if ((hw2 & 0x10) == 0) {                           /* FPU data processing */
        unsigned opc1 = (hw1 >> 4) & 0xB, opc2 = hw1 & 15, opc3 = (hw2 >> 6) & 3;
        unsigned cycles = 1;
        if (opc1 == 0x0 || opc1 == 0x1 || opc1 == 0x9 || opc1 == 0xA) /* VMLA VMLS VNMLA VNMLS VFMA VFMS VFNMA VFNMS */
            cycles = 3;
        else if (opc1 == 0x8 || (opc1 == 0xB && opc2 == 1 && opc3 == 3)) /* VDIV, VSQRT */
            cycles = 14;
        m4_set(d, M4_FP, cycles);
        return;
    }
    m4_set(d, M4_FP, 1);                               /* VMOV core <-> S, VMRS, VMSR */
}

static inline void m4_decode32(unsigned hw1, unsigned hw2, struct m4_insn *d)
{
    unsigned op1 = (hw1 >> 11) & 3, op2 = (hw1 >> 4) & 0x7F, rd = (hw2 >> 8) & 15;

    if (op1 == 1) {
        if ((op2 & 0x64) == 0x00) {                    /* load/store multiple */
            unsigned mode = (hw1 >> 7) & 3;
            if (mode == 1 || mode == 2)
                m4_multiple(d, (hw1 >> 4) & 1 ? M4_LOAD_MULTIPLE : M4_STORE_MULTIPLE, hw1 & 15, hw2);
            else
                m4_set(d, M4_UNDEFINED, 1);
        } else if ((op2 & 0x64) == 0x04) {
            m4_decode32_dual_exclusive(hw1, hw2, d);
        } else if ((op2 & 0x60) == 0x20) {             /* data processing (shifted register) */
            unsigned op = (hw1 >> 5) & 15, s = (hw1 >> 4) & 1;
            if (rd == M4_PC && s && (op == 0 || op == 4 || op == 8 || op == 13))
                m4_set(d, M4_ALU, 1);                  /* TST, TEQ, CMN, CMP */
            else
                m4_alu_writing(d, rd);
        } else {
            m4_decode32_coprocessor(hw1, hw2, d);
        }
    } else if (op1 == 2) {
        if ((hw2 & 0x8000) == 0) {                     /* data processing (immediate) */
            unsigned op = (hw1 >> 5) & 15, s = (hw1 >> 4) & 1;
            if (!(hw1 & 0x200) && rd == M4_PC && s && (op == 0 || op == 4 || op == 8 || op == 13))
                m4_set(d, M4_ALU, 1);                  /* TST, TEQ, CMN, CMP (immediate) */
            else
                m4_alu_writing(d, rd);
        } else if ((hw2 & 0x5000) == 0x0000) {         /* B<cond>.W, or miscellaneous control */
            if (((hw1 >> 7) & 7) != 7) {
                m4_set(d, M4_BRANCH, 1);
                d->branch = M4_BRANCH_IMMEDIATE;
            } else if ((op2 & 0x7E) == 0x3E) {         /* MRS */
                m4_set(d, M4_ALU, 1);
            } else if (op2 == 0x3B && ((hw2 >> 4) & 15) == 6) {
                /* ISB: 1 + B, B = one pipeline refill (Table 3-1 "Barriers"), of the next
                   instruction, whose address is known early (P = 1) */
                m4_set(d, M4_ALU, 2);
            } else if (op2 == 0x7F && (hw2 & 0x7000) == 0x2000) {
                m4_set(d, M4_UNDEFINED, 1);            /* UDF.W */
            } else {                                   /* MSR, hints, DSB, DMB (B >= 0), CLREX */
                m4_set(d, M4_ALU, 1);
            }
        } else if (hw2 & 0x1000) {                     /* B.W, BL: 1 + P */
            m4_set(d, M4_BRANCH, 1);
            d->branch = M4_BRANCH_IMMEDIATE;
        } else {
            m4_set(d, M4_UNDEFINED, 1);                /* BLX (immediate): not in ARMv7-M */
        }
    } else {                                           /* op1 == 3 */
        if ((op2 & 0x71) == 0x00 || (op2 & 0x67) == 0x01 || (op2 & 0x67) == 0x03 || (op2 & 0x67) == 0x05) {
            m4_decode32_load_store_single(hw1, hw2, d);
        } else if ((op2 & 0x70) == 0x20) {             /* data processing (register), parallel, misc */
            m4_alu_writing(d, rd);
        } else if ((op2 & 0x78) == 0x30) {             /* multiply, MAC, absolute difference */
            m4_alu_writing(d, rd);
        } else if ((op2 & 0x78) == 0x38) {             /* long multiply, long MAC, divide */
            unsigned op = (hw1 >> 4) & 7, op_low = (hw2 >> 4) & 15;
            if ((op == 1 || op == 3) && op_low == 15) {
                m4_set(d, M4_DIVIDE, M4_DIVIDE_CYCLES);
                d->alu_writes = M4_REG(rd);
            } else {                                   /* SMULL UMULL SMLAL UMLAL UMAAL ...: 1 */
                m4_set(d, M4_ALU, 1);
                d->alu_writes = M4_REG(rd) | M4_REG(hw2 >> 12);
            }
        } else if (op2 & 0x40) {
            m4_decode32_coprocessor(hw1, hw2, d);
        } else {
            m4_set(d, M4_UNDEFINED, 1);
        }
    }
}

/* Decodes the instruction at `bytes` (little-endian halfwords, as in memory). Returns 0,
   or -1 when fewer bytes are given than the instruction needs. */
static inline int m4_decode(const uint8_t *bytes, size_t len, struct m4_insn *d)
{
    static const struct m4_insn zero;
    unsigned hw1;
    *d = zero;
    if (len < 2)
        return -1;
    hw1 = (unsigned)bytes[0] | (unsigned)bytes[1] << 8;
    if ((hw1 >> 11) < 0x1D) {
        d->size = 2;
        m4_decode16(hw1, d);
        return 0;
    }
    if (len < 4)
        return -1;
    d->size = 4;
    m4_decode32(hw1, (unsigned)bytes[2] | (unsigned)bytes[3] << 8, d);
    return 0;
}

/* The effect of `prev` on the cost of `cur` when `cur` directly follows it (no branch):
   -1  pipelined: a single load followed by a single load or a register-offset store whose
       address does not use the load's result (3.3.2 "LDR [any] are pipelined when
       possible ... one cycle is removed from the cost of the next instruction");
   +1  address-generation stall: a load or store whose address uses a register the
       preceding data-processing instruction wrote (3.3.2 "Any load or store that generates
       an address dependent on the result of a preceding data processing operation stalls
       the pipeline for an additional cycle"). */
static inline int m4_pair_adjust(const struct m4_insn *prev, const struct m4_insn *cur)
{
    if (prev->pipeline_leader && cur->pipeline_follower && !(prev->load_dests & cur->address_regs))
        return -1;
    if (cur->is_memory && (prev->alu_writes & cur->address_regs))
        return 1;
    return 0;
}

/* The refill P paid when `branch` changed the flow to `target` (at target_pc). Table 3-1
   defines P as 1 to 3 "depending on the alignment and width of the target instruction,
   and whether the processor manages to speculate the address early". Here: 1 when the
   target is encoded in the instruction (known at decode), 2 when it comes from a register,
   3 when it is loaded from memory (3.3.2: LDR PC and TBB/TBH take "three cycles for the
   pipeline reload"); one more, up to 3, when the target is a 32-bit instruction that is
   not word-aligned. */
static inline unsigned m4_refill(const struct m4_insn *branch, const struct m4_insn *target, uint64_t target_pc)
{
    unsigned p = branch->branch == M4_BRANCH_IMMEDIATE ? 1 : branch->branch == M4_BRANCH_REGISTER ? 2 : 3;
    if (target->size == 4 && (target_pc & 2) && p < 3)
        p++;
    return p;
}

/* Extra cycles of an unaligned access (3.3.2 "Unaligned word or halfword loads or stores
   add penalty cycles"): a halfword at an odd address +1; a word at an address = 2 mod 4
   +1 (two halfwords); a word at an odd address +2 (byte, halfword, byte). */
static inline unsigned m4_unaligned_penalty(unsigned size, uint64_t address)
{
    if (size == 2)
        return (unsigned)(address & 1);
    if (size == 4)
        return (address & 1) ? 2 : (address & 2) ? 1 : 0;
    return 0;
}

#endif
