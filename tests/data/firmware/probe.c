/*
 * Test firmware for tests/test_emulator.py. The first argument picks a behaviour:
 *   compute        print values the test recomputes in Python, exit 42
 *   exit N         exit with status N
 *   spin N         run marked regions whose cost grows by exactly 2 instructions per N
 *   fault          store to an unmapped address
 *   stack          recurse until the stack overflows
 *   hang           loop forever
 *   file PATH      read a host file through semihosting, print its length and byte sum
 *   blob N         print the sum of the first N bytes of the emulator input blob
 */
#include <stdint.h>

#include "markers.h"
#include "semihost.h"

SLF_MARKER void bench_begin(void) {}
SLF_MARKER void bench_end(void) {}
SLF_MARKER void phase_a(void) {}
SLF_MARKER void phase_b(void) {}

static volatile uint32_t sink;

/* Exactly two instructions per iteration (subs, bne) on every core; n must be >= 1. */
static void spin(uint32_t n)
{
    /* GCC hands Thumb-1 inline assembly to the assembler in divided syntax; ask for unified. */
    __asm__ volatile(".syntax unified\n1: subs %0, %0, #1\n\tbne 1b" : "+l"(n) : : "cc");
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static uint32_t parse_u32(const char *text)
{
    uint32_t value = 0;
    while (*text >= '0' && *text <= '9')
        value = value * 10u + (uint32_t)(*text++ - '0');
    return value;
}

static void print_labelled(const char *label, int32_t value)
{
    sh_puts(label);
    sh_put_i32(value);
    sh_puts("\n");
}

static int compute(void)
{
    uint32_t hash = 2166136261u;
    for (uint32_t i = 0; i < 1000u; i++) {
        hash ^= i;
        hash *= 16777619u;
    }
    /* A 64-bit product: UMULL on ARMv7-M and later, a libgcc call on ARMv6-M. */
    uint64_t wide = (uint64_t)hash * 0x9E3779B9u;
    /* Floating point: on FPU boards this fails with a UsageFault unless startup enabled the FPU. */
    volatile float scale = 1.25f;
    float scaled = scale * (float)(hash & 7u) * 4.0f;
    print_labelled("hash=", (int32_t)hash);
    print_labelled("mix=", (int32_t)((uint32_t)(wide >> 32) + hash));
    print_labelled("scaled=", (int32_t)scaled);
    return 42;
}

static int32_t recurse(uint32_t depth)
{
    volatile uint32_t frame[16];
    frame[depth & 15u] = depth;
    /* Reading the frame after the call stops GCC from turning the recursion into a loop;
       the bound only keeps GCC from warning about infinite recursion. */
    int32_t deeper = depth < 1000000u ? recurse(depth + 1) : 0;
    return deeper + (int32_t)frame[depth & 15u];
}

static int read_host_file(const char *path)
{
    static uint8_t buffer[256];
    int handle = sh_open(path, SH_MODE_READ_BINARY);
    if (handle < 0) {
        sh_puts("cannot open\n");
        return 2;
    }
    int length = sh_flen(handle);
    if (length < 0 || length > (int)sizeof buffer || sh_read(handle, buffer, (uint32_t)length) != 0) {
        sh_puts("cannot read\n");
        return 2;
    }
    sh_close(handle);
    uint32_t sum = 0;
    for (int i = 0; i < length; i++)
        sum += buffer[i];
    print_labelled("length=", length);
    print_labelled("sum=", (int32_t)sum);
    return 0;
}

int main(void)
{
    static char line[128];
    const char *argv[4] = {0};
    int argc = 0;
    if (sh_cmdline(line, sizeof line) != 0)
        return 1;
    for (char *c = line; *c && argc < 4;) { /* split "firmware mode arg" in place */
        argv[argc++] = c;
        while (*c && *c != ' ')
            c++;
        if (*c)
            *c++ = '\0';
    }
    const char *mode = argc > 1 ? argv[1] : "compute";
    uint32_t number = argc > 2 ? parse_u32(argv[2]) : 0;

    if (streq(mode, "compute"))
        return compute();
    if (streq(mode, "exit"))
        return (int)number;
    if (streq(mode, "spin")) {
        for (int pass = 0; pass < 3; pass++) {
            bench_begin();
            spin(number);
            bench_end();
        }
        phase_a();
        spin(number);
        phase_b();
        spin(2 * number);
        return 0;
    }
    if (streq(mode, "fault"))
        *(volatile uint32_t *)0x90000000u = 1;
    if (streq(mode, "stack"))
        sink = (uint32_t)recurse(0);
    if (streq(mode, "hang"))
        for (;;)
            sink++;
    if (streq(mode, "file") && argc > 2)
        return read_host_file(argv[2]);
#ifdef HAS_INPUT_BLOB
    if (streq(mode, "blob")) {
        extern const uint8_t __input_blob[];
        uint32_t sum = 0;
        for (uint32_t i = 0; i < number; i++)
            sum += __input_blob[i];
        print_labelled("blob_sum=", (int32_t)sum);
        return 0;
    }
#endif
    sh_puts("unknown mode\n");
    return 1;
}
