/* Two instances of model ma and two of model mb in one firmware, stepped in turn
 * (tests/test_api_c.py). Per step, every instance given an output prints
 *     p <instance> <step> <p_0> ... <p_n-1>
 * and at the end every instance prints
 *     result <instance> <decision> <total_0> ... <total_n-1>
 * instances_data.h (written by the test) holds each instance's events, as in renode/main.c. */
#include <stdint.h>

#include "ma_model.h"
#include "mb_model.h"
#include "semihost.h"
#include "instances_data.h"

static ma_ctx a1 MA_STATE_ATTRIBUTES, a2 MA_STATE_ATTRIBUTES;
static mb_ctx b1 MB_STATE_ATTRIBUTES, b2 MB_STATE_ATTRIBUTES;
static ma_output a1_out;
static mb_output b1_out, b2_out;

static void print_row(const char *tag, int instance, int32_t first, const int32_t *values, uint16_t n)
{
    sh_puts(tag);
    sh_puts(" ");
    sh_put_i32(instance);
    sh_puts(" ");
    sh_put_i32(first);
    for (uint16_t k = 0; k < n; k++) {
        sh_puts(" ");
        sh_put_i32(values[k]);
    }
    sh_puts("\n");
}

static int check(slf_status status, const char *what)
{
    if (status != SLF_OK) {
        sh_puts(what);
        sh_puts(": ");
        sh_puts(ma_status_str(status));
        sh_puts("\n");
    }
    return status != SLF_OK;
}

#define EVENTS(i, t) &events_##i[start_##i[t]], (uint16_t)(start_##i[(t) + 1] - start_##i[t])

int main(void)
{
    if (check(ma_init(&a1), "ma_init a1") || check(ma_init(&a2), "ma_init a2") || check(mb_init(&b1), "mb_init b1")
        || check(mb_init(&b2), "mb_init b2"))
        return 1;
    for (uint32_t t = 0; t < STEPS; t++) {
        if (check(ma_step(&a1, EVENTS(0, t), &a1_out), "ma_step a1") || check(mb_step(&b1, EVENTS(1, t), &b1_out), "mb_step b1")
            || check(ma_step(&a2, EVENTS(2, t), 0), "ma_step a2") || check(mb_step(&b2, EVENTS(3, t), &b2_out), "mb_step b2"))
            return 1;
        print_row("p", 0, (int32_t)t, a1_out.probabilities, MA_N_CLASSES);
        print_row("p", 1, (int32_t)t, b1_out.probabilities, MB_N_CLASSES);
        print_row("p", 3, (int32_t)t, b2_out.probabilities, MB_N_CLASSES);
    }
    int32_t ma_totals[MA_N_CLASSES], mb_totals[MB_N_CLASSES];
    uint16_t decision = 0;
    const void *contexts[4] = {&a1, &b1, &a2, &b2};
    for (int i = 0; i < 4; i++) {
        int is_a = i % 2 == 0;
        slf_status status = is_a ? ma_result((const ma_ctx *)contexts[i], ma_totals, &decision)
                                 : mb_result((const mb_ctx *)contexts[i], mb_totals, &decision);
        if (check(status, "result"))
            return 1;
        print_row("result", i, decision, is_a ? ma_totals : mb_totals, is_a ? MA_N_CLASSES : MB_N_CLASSES);
    }
    return 0;
}
