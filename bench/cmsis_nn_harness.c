/*
 * CMSIS-NN peer for bench/run.py --cmsis-nn (driven by bench/cmsis_nn.py): the synaptic part
 * of a step of the paper models done the dense way, one arm_fully_connected_s8 per layer per
 * step, on the same layer shapes, weights and inputs. Built against the user's CMSIS-NN
 * checkout; silifc vendors none of it.
 *
 * cmsis_nn_model.h (generated next to the build) defines:
 *   CMSIS_LAYERS, CMSIS_STEPS, CMSIS_N_IN[], CMSIS_N_OUT[], CMSIS_WEIGHTS[] (int8, [n_out][n_in]
 *   per layer, the model's quantized weights) and CMSIS_INPUT_OFFSET[] (byte offset of each
 *   layer's input inside a step's record).
 * The emulator input blob holds CMSIS_STEPS records: each layer's int8 input vector for that
 * step (layer 0: the input event counts; later layers: the previous layer's spikes).
 * Markers: cmsis_layer0 .. cmsis_layer2 before each layer's call, cmsis_step_end after the
 * step, so the counting plugin splits every step exactly.
 */
#include <stddef.h>
#include <stdint.h>

#include "arm_nnfunctions.h"
#include "cmsis_nn_model.h"
#include "markers.h"
#include "semihost.h"

SLF_MARKER void cmsis_layer0(void) {}
SLF_MARKER void cmsis_layer1(void) {}
SLF_MARKER void cmsis_layer2(void) {}
SLF_MARKER void cmsis_step_end(void) {}

static void (*const layer_markers[3])(void) = {cmsis_layer0, cmsis_layer1, cmsis_layer2};

extern const int8_t __input_blob[];

#define MAX_OUT 1024
static int8_t outputs[3][MAX_OUT];

int main(void)
{
    const cmsis_nn_context context = {.buf = NULL, .size = 0}; /* DSP path: no buffer (get_buffer_size 0) */
    const cmsis_nn_fc_params fc = {.input_offset = 0, .filter_offset = 0, .output_offset = 0,
                                   .activation = {.min = -128, .max = 127}};
    const cmsis_nn_per_tensor_quant_params quant = {.multiplier = 1 << 30, .shift = -4};
    uint32_t checksum = 0;

    if (CMSIS_LAYERS > 3)
        return 12;
    for (int layer = 0; layer < CMSIS_LAYERS; layer++)
        if (CMSIS_N_OUT[layer] > MAX_OUT)
            return 12;
    for (int32_t step = 0; step < CMSIS_STEPS; step++) {
        const int8_t *record = __input_blob + (int32_t)CMSIS_RECORD_BYTES * step;
        for (int layer = 0; layer < CMSIS_LAYERS; layer++) {
            const cmsis_nn_dims input_dims = {.n = 1, .h = 1, .w = 1, .c = CMSIS_N_IN[layer]};
            const cmsis_nn_dims filter_dims = {.n = CMSIS_N_IN[layer], .h = 1, .w = 1, .c = CMSIS_N_OUT[layer]};
            const cmsis_nn_dims bias_dims = {.n = 1, .h = 1, .w = 1, .c = CMSIS_N_OUT[layer]};
            const cmsis_nn_dims output_dims = {.n = 1, .h = 1, .w = 1, .c = CMSIS_N_OUT[layer]};
            layer_markers[layer]();
            if (arm_fully_connected_s8(&context, &fc, &quant, &input_dims, record + CMSIS_INPUT_OFFSET[layer],
                                       &filter_dims, CMSIS_WEIGHTS[layer], &bias_dims, NULL, &output_dims,
                                       outputs[layer]) != ARM_CMSIS_NN_SUCCESS)
                return 13;
        }
        cmsis_step_end();
        /* after the step's end marker: not part of the measured step */
        for (int layer = 0; layer < CMSIS_LAYERS; layer++)
            checksum = checksum * 31u + (uint8_t)outputs[layer][step % CMSIS_N_OUT[layer]];
    }
    sh_puts("checksum=");
    sh_put_i32((int32_t)checksum);
    sh_puts("\n");
    return 0;
}
