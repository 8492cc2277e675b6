/* Test driver for runtime_c: replays a binary case file through the kernels and writes every
 * result back, so that Python can compare it with the integer reference (driver.h: the format).
 *
 * The same sources run on the host (driver_io_host.c: stdio) and in QEMU (driver_io_semihost.c:
 * ARM semihosting). This file holds the main loop and the record I/O; each kernel family has its
 * own record runners (driver_synapses.c, driver_neurons.c, driver_decision.c).
 */
#include "driver.h"
#include "driver_io.h"

#define MAGIC 0x43464C53u /* "SLFC" */
#define VERSION 1u

static uint32_t record[RECORD_WORDS];
static uint32_t out_buf[OUT_WORDS];
static uint32_t out_len;

/* ---------------------------------------------------------------- output */

static void flush_out(void)
{
    if (out_len != 0u) {
        io_write(out_buf, out_len * 4u);
        out_len = 0;
    }
}

void put(uint32_t word)
{
    if (out_len == sizeof out_buf / sizeof out_buf[0]) {
        flush_out();
    }
    out_buf[out_len++] = word;
}

void put_words(const void *p, uint32_t n)
{
    const uint32_t *w = (const uint32_t *)p;
    uint32_t i;
    for (i = 0; i < n; i++) {
        put(w[i]);
    }
}

void put_i32s(const int32_t *p, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        put((uint32_t)p[i]);
    }
}

/* ---------------------------------------------------------------- input cursor */

uint32_t take(cursor *c)
{
    if (c->at >= c->end) {
        c->bad = 1;
        return 0;
    }
    return *c->at++;
}

void *take_bytes(cursor *c, uint32_t n)
{
    uint32_t words = (n + 3u) / 4u;
    void *p = c->at;
    if ((uint32_t)(c->end - c->at) < words) {
        c->bad = 1;
        return record;
    }
    c->at += words;
    return p;
}

int driver_main(void)
{
    uint32_t header[3], r;

    if (io_read(header, sizeof header) != sizeof header || header[0] != MAGIC || header[1] != VERSION) {
        return 2;
    }
    for (r = 0; r < header[2]; r++) {
        uint32_t head[2];
        cursor c;
        if (io_read(head, sizeof head) != sizeof head || head[1] > RECORD_WORDS) {
            return 3;
        }
        if (io_read(record, head[1] * 4u) != head[1] * 4u) {
            return 4;
        }
        c.at = record;
        c.end = record + head[1];
        c.bad = 0;
        put(head[0]);
        if (!run_synapses_record(head[0], &c) && !run_neurons_record(head[0], &c) &&
            !run_decision_record(head[0], &c)) {
            put(0xBADu);
        }
        put(c.bad ? 0xDEADu : 0xE0Du); /* end-of-result marker */
        flush_out();
    }
    return 0;
}
