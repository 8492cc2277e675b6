/* slf_dense_weights_check_s8: one-time validation of a dense weight table's row sums.
 * Contract: include/slf_dense.h. */
#include "internal/slf_base.h"

slf_status slf_dense_weights_check_s8(const slf_dense_weights_s8 *weights)
{
    uint32_t i, j, stride;

    if (weights == NULL || ((weights->data == NULL || weights->row_sum == NULL) && weights->n_out != 0u)) {
        return SLF_ERR_NULL;
    }
    stride = SLF_DENSE_STRIDE(weights->n_in);
    for (i = 0; i < weights->n_out; i++) {
        const uint8_t *row = weights->data + (size_t)(i >> 2) * 4u * stride + (i & 3u) * 4u;
        uint32_t sum = 0;
        for (j = 0; j < stride; j++) {
            sum += row[(j >> 2) * 16u + (j & 3u)];
        }
        if ((int32_t)sum != weights->row_sum[i]) {
            return SLF_ERR_PARAM;
        }
    }
    return SLF_OK;
}
