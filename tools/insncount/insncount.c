/*
 * insncount: exact, deterministic executed-instruction counts for qemu-system-arm.
 *
 * A QEMU TCG plugin (API version 1, QEMU 7.2). QEMU models no pipeline: executed
 * instructions are exact and do not vary between runs or with host load, unlike timers
 * read by the guest. With cpu=cortex-m4 it also estimates Cortex-M4 cycles with the timing
 * model of cortex_m4_timing.h (docs/cycles.md): a cost per instruction from its encoding,
 * decided at translation time, plus run-time terms (taken branches, load pipelining and
 * address-generation stalls across blocks, unaligned accesses). The estimate is as
 * deterministic as the instruction count.
 *
 * Arguments, each passed as "-plugin libinsncount.so,key=value,...":
 *   out=FILE            write the report to FILE (required)
 *   limit=N             hang guard: once more than N instructions ran, write the report
 *                       and stop QEMU with exit status 124
 *   region=START:STOP   count the instructions from an execution of address START up to
 *                       the next execution of address STOP, summed over all passes
 *                       (repeatable). A START seen while the region is open is ignored,
 *                       so recursion does not restart the count.
 *   mark=ADDR           marker address (repeatable). Executing the i-th marker (0-based)
 *                       makes bucket i+1 current; every executed instruction is counted
 *                       in the current bucket. Bucket 0 holds what ran before any marker.
 *                       Firmware marks "layer k begins" by calling an empty function.
 *   trace=FILE          also log every marker execution to FILE (binary, host byte order):
 *                       one record of two uint64 per execution, (bucket index i+1, value
 *                       of `total` at that moment), in execution order. The instructions
 *                       of one bucket entry are the next record's total minus this one's
 *                       (the report's total for the last record), so per-entry counts,
 *                       e.g. per time step, are exact and sum to the bucket totals. With
 *                       cpu=... each record has a third uint64: `cycles` at that moment.
 *   cpu=cortex-m4       also estimate cycles (the only model: other cores are refused).
 *
 * Report, one "key=value" per line (I = 0-based index in argument order):
 *   format=1  total=N  limit_exceeded=0|1
 *   trace_failed=0|1                                   (only with trace=FILE)
 *   region.I=N  region.I.passes=K  region.I.open=0|1   (open: START ran, STOP did not yet)
 *   bucket.I=N  bucket.I.entries=K                     (entries: times marker I-1 ran)
 * and with cpu=...:
 *   cycles.model=cortex-m4  cycles=N  region.I.cycles=N  bucket.I.cycles=N
 *   cycles.taken_branches=K  cycles.refill=N          (branches that changed the flow, their P)
 *   cycles.pipelined=K  cycles.address_stalls=K       (loads/stores sped up / slowed by a neighbour)
 *   cycles.unaligned=K  cycles.unaligned_extra=N      (unaligned accesses, their extra cycles)
 *   cycles.divides=K                                  (UDIV/SDIV, each charged its upper bound)
 * A region's or bucket's cycles follow its instructions; the refill after a branch and the
 * neighbour effect on an instruction that starts a block are charged with that instruction.
 *
 * Build: gcc -O2 -shared -fPIC insncount.c -o libinsncount.so (qemu_plugin_api.h and
 * cortex_m4_timing.h beside it).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cortex_m4_timing.h"
#include "qemu_plugin_api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define MAX_REGIONS 64
#define MAX_MARKS 256
#define EXIT_STATUS_LIMIT 124 /* the status timeout(1) uses, so shells read it as "timed out" */

struct region {
    uint64_t start_pc, stop_pc;
    uint64_t opened_at; /* value of `total` when START last ran */
    uint64_t cycles_opened_at;
    uint64_t count, cycles, passes;
    int open;
};

/* One translated instruction as the cycle model sees it. A segment runs from an entry (the
   first instruction of a block, or one after a PC-writing instruction) to the next
   PC-writing instruction or the block's end: within it the predecessor of each instruction
   is known at translation time; at an entry it is known only at run time. */
struct timed_insn {
    struct m4_insn insn;
    uint64_t pc;
    const struct timed_insn *segment_last;
};

/* All counters are touched by a single vCPU thread: the machines we run have one core. */
static uint64_t total; /* bumped by an inline add before every executed instruction */
static uint64_t limit = UINT64_MAX;
static char out_path[4096];

static struct region regions[MAX_REGIONS];
static int n_regions;

static uint64_t mark_pc[MAX_MARKS];
static int n_marks;
static uint64_t bucket_count[MAX_MARKS + 1], bucket_entries[MAX_MARKS + 1];
static int current_bucket;
static uint64_t bucket_opened_at;

static char trace_path[4096];
static FILE *trace_file;
static int trace_failed;

/* The cycle estimate (cpu=...); every counter stays 0 without it. */
static const char *cycle_model;
static uint64_t cycles; /* bumped by inline adds (static costs) and the callbacks below */
static uint64_t bucket_cycles[MAX_MARKS + 1], bucket_cycles_opened_at;
static uint64_t taken_branches, refill_cycles, pipelined, address_stalls, unaligned, unaligned_extra, divides;
static const struct timed_insn *last_segment_end; /* last instruction of the segment that ran last */

static void close_current_bucket(void)
{
    bucket_count[current_bucket] += total - bucket_opened_at;
    bucket_opened_at = total;
    bucket_cycles[current_bucket] += cycles - bucket_cycles_opened_at;
    bucket_cycles_opened_at = cycles;
}

static void trace_mark(int bucket)
{
    uint64_t record[3];
    size_t words = cycle_model ? 3 : 2;
    if (!trace_file || trace_failed)
        return;
    record[0] = (uint64_t)bucket;
    record[1] = total;
    record[2] = cycles;
    if (fwrite(record, sizeof record[0] * words, 1, trace_file) != 1)
        trace_failed = 1;
}

static void write_report(int limit_exceeded)
{
    static int written; /* the limit path writes first; QEMU's atexit then calls us again */
    if (written)
        return;
    written = 1;
    close_current_bucket();
    if (trace_file) {
        if (fclose(trace_file) != 0)
            trace_failed = 1;
        trace_file = NULL;
        if (trace_failed)
            fprintf(stderr, "insncount: cannot write trace %s\n", trace_path);
    }

    FILE *f = fopen(out_path, "w");
    if (!f) {
        fprintf(stderr, "insncount: cannot write report %s\n", out_path);
        return;
    }
    fprintf(f, "format=1\ntotal=%" PRIu64 "\nlimit_exceeded=%d\n", total, limit_exceeded);
    if (trace_path[0])
        fprintf(f, "trace_failed=%d\n", trace_failed);
    for (int i = 0; i < n_regions; i++)
        fprintf(f, "region.%d=%" PRIu64 "\nregion.%d.passes=%" PRIu64 "\nregion.%d.open=%d\n",
                i, regions[i].count, i, regions[i].passes, i, regions[i].open);
    for (int i = 0; i <= n_marks; i++)
        fprintf(f, "bucket.%d=%" PRIu64 "\nbucket.%d.entries=%" PRIu64 "\n",
                i, bucket_count[i], i, bucket_entries[i]);
    if (cycle_model) {
        fprintf(f, "cycles.model=%s\ncycles=%" PRIu64 "\n", cycle_model, cycles);
        fprintf(f, "cycles.taken_branches=%" PRIu64 "\ncycles.refill=%" PRIu64 "\ncycles.pipelined=%" PRIu64
                   "\ncycles.address_stalls=%" PRIu64 "\ncycles.unaligned=%" PRIu64 "\ncycles.unaligned_extra=%"
                   PRIu64 "\ncycles.divides=%" PRIu64 "\n", taken_branches, refill_cycles, pipelined,
                address_stalls, unaligned, unaligned_extra, divides);
        for (int i = 0; i < n_regions; i++)
            fprintf(f, "region.%d.cycles=%" PRIu64 "\n", i, regions[i].cycles);
        for (int i = 0; i <= n_marks; i++)
            fprintf(f, "bucket.%d.cycles=%" PRIu64 "\n", i, bucket_cycles[i]);
    }
    fclose(f);
}

static void on_region_start(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    struct region *r = udata;
    if (!r->open) {
        r->open = 1;
        r->opened_at = total;
        r->cycles_opened_at = cycles;
    }
}

static void on_region_stop(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    struct region *r = udata;
    if (r->open) {
        r->open = 0;
        r->count += total - r->opened_at;
        r->cycles += cycles - r->cycles_opened_at;
        r->passes++;
    }
}

static void on_mark(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    int bucket = (int)(uintptr_t)udata;
    close_current_bucket();
    current_bucket = bucket;
    bucket_entries[bucket]++;
    trace_mark(bucket);
}

static void on_tb_exec(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    (void)udata;
    /* Checked per translation block, not per instruction: the guard may overshoot the
       limit by one block, which is fine for catching a runaway guest. */
    if (total > limit) {
        write_report(1);
        exit(EXIT_STATUS_LIMIT);
    }
}

/* Entry of a segment: the run-time terms between the instruction that ran last and this one. */
static void on_segment_entry(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    const struct timed_insn *here = udata, *before = last_segment_end;
    last_segment_end = here->segment_last;
    if (!before)
        return;
    if (before->insn.branch == M4_BRANCH_TABLE
        || (before->insn.branch != M4_BRANCH_NONE && here->pc != before->pc + before->insn.size)) {
        unsigned p = m4_refill(&before->insn, &here->insn, here->pc);
        taken_branches++;
        refill_cycles += p;
        cycles += p;
        return;
    }
    int adjust = m4_pair_adjust(&before->insn, &here->insn);
    if (adjust < 0)
        pipelined++;
    else if (adjust > 0)
        address_stalls++;
    cycles += (uint64_t)(int64_t)adjust;
}

static void on_access(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
    (void)vcpu;
    (void)udata;
    unsigned extra = m4_unaligned_penalty(1u << qemu_plugin_mem_size_shift(info), vaddr);
    if (extra) {
        unaligned++;
        unaligned_extra += extra;
        cycles += extra;
    }
}

/* Decodes a block for the cycle model. The records live as long as QEMU may run the block,
   so they are never freed (a few KiB per block; firmware code is small). */
static struct timed_insn *time_block(struct qemu_plugin_tb *tb, size_t n)
{
    struct timed_insn *timed = calloc(n, sizeof *timed);
    if (!timed) {
        fprintf(stderr, "insncount: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        timed[i].pc = qemu_plugin_insn_vaddr(insn);
        if (m4_decode(qemu_plugin_insn_data(insn), qemu_plugin_insn_size(insn), &timed[i].insn) != 0) {
            fprintf(stderr, "insncount: cannot decode the instruction at 0x%" PRIx64 "\n", timed[i].pc);
            exit(1);
        }
    }
    const struct timed_insn *last = &timed[n - 1];
    for (size_t i = n; i-- > 0;) {
        if (timed[i].insn.branch != M4_BRANCH_NONE)
            last = &timed[i];
        timed[i].segment_last = last;
    }
    return timed;
}

/* Inline adds and callbacks of the cycle model for instruction i of the block; registered
   after the region and marker callbacks, so that its entry terms count in the new bucket. */
static void instrument_cycles(struct qemu_plugin_insn *insn, const struct timed_insn *timed, size_t i)
{
    const struct timed_insn *t = &timed[i];
    uint64_t cost = t->insn.cycles;
    if (i == 0 || timed[i - 1].insn.branch != M4_BRANCH_NONE) {
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_segment_entry, QEMU_PLUGIN_CB_NO_REGS, (void *)t);
    } else {
        int adjust = m4_pair_adjust(&timed[i - 1].insn, &t->insn);
        cost += (uint64_t)(int64_t)adjust;
        if (adjust)
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                       adjust < 0 ? &pipelined : &address_stalls, 1);
    }
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &cycles, cost);
    if (t->insn.cls == M4_DIVIDE)
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &divides, 1);
    if (t->insn.access_size)
        qemu_plugin_register_vcpu_mem_cb(insn, on_access, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW, NULL);
}

static void on_tb_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    if (limit != UINT64_MAX)
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_tb_exec, QEMU_PLUGIN_CB_NO_REGS, NULL);

    size_t n = qemu_plugin_tb_n_insns(tb);
    struct timed_insn *timed = cycle_model && n ? time_block(tb, n) : NULL;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        /* Linear scans run at translation time only, once per block, not per execution. */
        for (int r = 0; r < n_regions; r++) {
            if (pc == regions[r].start_pc)
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_region_start, QEMU_PLUGIN_CB_NO_REGS,
                                                       &regions[r]);
            if (pc == regions[r].stop_pc)
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_region_stop, QEMU_PLUGIN_CB_NO_REGS,
                                                       &regions[r]);
        }
        for (int m = 0; m < n_marks; m++)
            if (pc == mark_pc[m])
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, QEMU_PLUGIN_CB_NO_REGS,
                                                       (void *)(uintptr_t)(m + 1));
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &total, 1);
        if (timed)
            instrument_cycles(insn, timed, i);
    }
}

static void on_qemu_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    write_report(0);
}

/* Parses a whole unsigned number (decimal or 0x-hex); rejects trailing junk. */
static int parse_u64(const char *text, char stop_at, uint64_t *value, const char **rest)
{
    char *end;
    if (!*text || *text == '-')
        return -1;
    *value = strtoull(text, &end, 0);
    if (end == text || *end != stop_at)
        return -1;
    if (rest)
        *rest = end + 1;
    return 0;
}

static int bad_arg(const char *arg, const char *why)
{
    fprintf(stderr, "insncount: bad argument '%s': %s\n", arg, why);
    return -1;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *rest;
        if (!strncmp(arg, "out=", 4)) {
            if ((size_t)snprintf(out_path, sizeof out_path, "%s", arg + 4) >= sizeof out_path)
                return bad_arg(arg, "path too long");
        } else if (!strncmp(arg, "limit=", 6)) {
            if (parse_u64(arg + 6, '\0', &limit, NULL))
                return bad_arg(arg, "expected a number");
        } else if (!strncmp(arg, "region=", 7)) {
            struct region *r = &regions[n_regions];
            if (n_regions == MAX_REGIONS)
                return bad_arg(arg, "too many regions");
            if (parse_u64(arg + 7, ':', &r->start_pc, &rest) || parse_u64(rest, '\0', &r->stop_pc, NULL))
                return bad_arg(arg, "expected START:STOP addresses");
            if (r->start_pc == r->stop_pc)
                return bad_arg(arg, "START and STOP must differ");
            n_regions++;
        } else if (!strncmp(arg, "trace=", 6)) {
            if ((size_t)snprintf(trace_path, sizeof trace_path, "%s", arg + 6) >= sizeof trace_path)
                return bad_arg(arg, "path too long");
        } else if (!strncmp(arg, "mark=", 5)) {
            if (n_marks == MAX_MARKS)
                return bad_arg(arg, "too many markers");
            if (parse_u64(arg + 5, '\0', &mark_pc[n_marks], NULL))
                return bad_arg(arg, "expected an address");
            n_marks++;
        } else if (!strncmp(arg, "cpu=", 4)) {
            if (strcmp(arg + 4, "cortex-m4"))
                return bad_arg(arg, "no cycle model for this core (known: cortex-m4)");
            cycle_model = "cortex-m4";
        } else {
            return bad_arg(arg, "unknown key (known: out, limit, region, mark, trace, cpu)");
        }
    }
    if (!out_path[0])
        return bad_arg("", "out=FILE is required");
    if (trace_path[0]) {
        trace_file = fopen(trace_path, "wb");
        if (!trace_file) {
            fprintf(stderr, "insncount: cannot create trace %s\n", trace_path);
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_translate);
    qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
    return 0;
}
