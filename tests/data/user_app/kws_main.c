/* Keyword spotter on `silifc compile MODEL --audio --prefix kws`; PCM from audio/pcm_source.h. */
#include <stdint.h>
#include <string.h>
#include "kws_kws.h"
#include "pcm_source.h"
#include "semihost.h"

static kws_kws_ctx kws;
static kws_kws_result result;
static int16_t pcm[KWS_KWS_STEP_SAMPLES];
static char command_line[256];
int main(void)
{
    if (sh_cmdline(command_line, sizeof command_line) != 0)
        return 10;
    const char *wav = strchr(command_line, ' '); /* the WAV file is the command line's second word */
    if (wav == NULL || slf_pcm_source_open(wav + strspn(wav, " ")) != SLF_PCM_OK)
        return 11;
    slf_status status = kws_kws_init(&kws);
    uint32_t steps = 0, checksum = 2166136261u; /* FNV-1a over every step's probabilities */
    while (status == SLF_OK && slf_pcm_source(pcm, KWS_KWS_STEP_SAMPLES) == KWS_KWS_STEP_SAMPLES) {
        status = kws_kws_step(&kws, pcm, &result);
        for (uint16_t k = 0; k < KWS_N_CLASSES; k++)
            checksum = (checksum ^ (uint32_t)result.network.probabilities[k]) * 16777619u;
        if (result.detected != KWS_KWS_NONE) {
            sh_puts("detected ");
            sh_puts(kws_get_info()->class_names[result.detected]);
            sh_puts(" at ");
            sh_put_i32((int32_t)kws_kws_time_ms(result.step));
            sh_puts(" ms\n");
        }
        steps++;
    }
    sh_puts(status == SLF_OK ? "steps " : kws_status_str(status));
    sh_put_i32((int32_t)steps);
    sh_puts(" checksum ");
    sh_put_i32((int32_t)checksum);
    sh_puts("\n");
    return status == SLF_OK ? 0 : 13;
}
