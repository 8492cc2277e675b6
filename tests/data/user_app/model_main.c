/* A user's program on the generated model API: 30 steps of a fixed event pattern through one
 * context, then the totals and the decision (tests/test_packaging.py builds it with the
 * project's Makefile and with its CMake library). */
#include <stdint.h>

#include "semihost.h"
#include "silifc_model.h"

static silifc_ctx model SILIFC_STATE_ATTRIBUTES;

int main(void)
{
    int32_t totals[SILIFC_N_CLASSES];
    uint16_t decision = 0;
    slf_status status = silifc_init(&model);
    for (uint16_t t = 0; t < 30 && status == SLF_OK; t++) {
        const slf_event events[2] = {{(uint16_t)(t % SILIFC_N_INPUTS), 1}, {(uint16_t)((3u * t) % SILIFC_N_INPUTS), 1}};
        status = silifc_step(&model, events, t % 3 == 0 ? 2 : 1, 0);
    }
    if (status == SLF_OK)
        status = silifc_result(&model, totals, &decision);
    if (status != SLF_OK) {
        sh_puts(silifc_status_str(status));
        return 13;
    }
    for (uint16_t k = 0; k < SILIFC_N_CLASSES; k++) {
        sh_put_i32(totals[k]);
        sh_puts(" ");
    }
    sh_puts("decision ");
    sh_put_i32(decision);
    sh_puts("\n");
    return 0;
}
