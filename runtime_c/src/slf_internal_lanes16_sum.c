/* slf_internal_lanes16_sum: the columns of a step into the slot through the lanes, for both 16-bit
 * lane kernels (internal/slf_lanes16.h); the lane passes are per path (dsp/, portable/
 * slf_internal_lanes16_pass.c). */
#include "internal/slf_columns.h"
#include "internal/slf_lanes16.h"

void slf_internal_lanes16_sum(int32_t *acc, uint32_t *lanes, const int8_t *data, uint32_t n_out, const uint16_t *index,
                              uint32_t n)
{
    /* Up to two columns: no lanes (one pass straight into the slot is cheaper); the sums are
     * in [-256, 254], so sext16 changes nothing. */
    if (n == 2u) {
        slf_col_add2_s8(acc, data + (size_t)index[0] * n_out, data + (size_t)index[1] * n_out, n_out);
    } else if (n == 1u) {
        slf_col_add_s8(acc, data + (size_t)index[0] * n_out, n_out);
    } else if (n != 0u) {
        slf_internal_lanes16_add(lanes, data, n_out, index, n, 1);
        slf_internal_lanes16_widen(acc, lanes, n_out);
    }
}
