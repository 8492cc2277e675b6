/*
 * insncount: exact, deterministic executed-instruction counts for qemu-system-arm.
 *
 * A QEMU TCG plugin (API version 1, QEMU 7.2). QEMU models no pipeline, so executed
 * instructions are the performance metric silifc reports; they do not vary between runs
 * or with host load, unlike timers read by the guest.
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
 *                       e.g. per time step, are exact and sum to the bucket totals.
 *
 * Report, one "key=value" per line (I = 0-based index in argument order):
 *   format=1  total=N  limit_exceeded=0|1
 *   trace_failed=0|1                                   (only with trace=FILE)
 *   region.I=N  region.I.passes=K  region.I.open=0|1   (open: START ran, STOP did not yet)
 *   bucket.I=N  bucket.I.entries=K                     (entries: times marker I-1 ran)
 *
 * Build: gcc -O2 -shared -fPIC insncount.c -o libinsncount.so (qemu_plugin_api.h beside it).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define MAX_REGIONS 64
#define MAX_MARKS 256
#define EXIT_STATUS_LIMIT 124 /* the status timeout(1) uses, so shells read it as "timed out" */

struct region {
    uint64_t start_pc, stop_pc;
    uint64_t opened_at; /* value of `total` when START last ran */
    uint64_t count, passes;
    int open;
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

static void close_current_bucket(void)
{
    bucket_count[current_bucket] += total - bucket_opened_at;
    bucket_opened_at = total;
}

static void trace_mark(int bucket)
{
    uint64_t record[2];
    if (!trace_file || trace_failed)
        return;
    record[0] = (uint64_t)bucket;
    record[1] = total;
    if (fwrite(record, sizeof record, 1, trace_file) != 1)
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
    fclose(f);
}

static void on_region_start(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    struct region *r = udata;
    if (!r->open) {
        r->open = 1;
        r->opened_at = total;
    }
}

static void on_region_stop(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    struct region *r = udata;
    if (r->open) {
        r->open = 0;
        r->count += total - r->opened_at;
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

static void on_tb_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    if (limit != UINT64_MAX)
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_tb_exec, QEMU_PLUGIN_CB_NO_REGS, NULL);

    size_t n = qemu_plugin_tb_n_insns(tb);
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
        } else {
            return bad_arg(arg, "unknown key (known: out, limit, region, mark, trace)");
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
