/* silifc runtime: one step of the integer audio front end (contract in slf_frontend.h). */
#include "slf_frontend.h"

const uint8_t slf_frontend_log2_table[SLF_FRONTEND_LOG_TABLE_SIZE] = {
    0,  1,  3,  4,  6,  7,  8,  10, 11, 12, 13, 15, 16, 17, 18, 19,
    21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 34, 35, 35, 36,
    37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 47, 48, 49, 50, 51,
    52, 52, 53, 54, 55, 56, 56, 57, 58, 59, 60, 60, 61, 62, 63, 63,
};

/* Leading zeros of v > 0. CLZ on Cortex-M3 and up; the portable path finds the same. */
static uint32_t leading_zeros(uint32_t v)
{
#if defined(__GNUC__) || defined(__clang__)
    return (uint32_t)__builtin_clz(v);
#else
    uint32_t n = 0;
    if (!(v & 0xFFFF0000u)) { n += 16; v <<= 16; }
    if (!(v & 0xFF000000u)) { n += 8; v <<= 8; }
    if (!(v & 0xF0000000u)) { n += 4; v <<= 4; }
    if (!(v & 0xC0000000u)) { n += 2; v <<= 2; }
    if (!(v & 0x80000000u)) { n += 1; }
    return n;
#endif
}

/* floor(log2 v) * 64 + table[6 bits below the leading one], 0 <= v < 2^63; v = 0 counts as 1. */
static int32_t log2_q6(int64_t value)
{
    uint64_t v = value > 0 ? (uint64_t)value : 1u;
    uint32_t high = (uint32_t)(v >> 32), top, msb;
    if (high) {
        uint32_t zeros = leading_zeros(high);
        /* The leading one moved to bit 31; low bits refill from the lower word. */
        top = zeros ? (high << zeros) | ((uint32_t)v >> (32 - zeros)) : high;
        msb = 63 - zeros;
    } else {
        uint32_t zeros = leading_zeros((uint32_t)v);
        top = (uint32_t)v << zeros;
        msb = 31 - zeros;
    }
    uint32_t index = (top >> (31 - 6)) & (SLF_FRONTEND_LOG_TABLE_SIZE - 1u);
    return (int32_t)(msb << SLF_FRONTEND_LOG_FRAC_BITS) + (int32_t)slf_frontend_log2_table[index];
}

/* One resonator output: (d * 2^30 + 2^29 + na1 * y1 + na2 * y2) >> 30 in int64, where d is the
 * step's shared numerator term (x[n] - x[n-2]) * 2^input_shift. The result fits int32 by the
 * design's bound on |y|. */
static inline int32_t resonate(int32_t d, int32_t na1, int32_t y1, int32_t na2, int32_t y2)
{
    int64_t acc = (int64_t)d * ((int64_t)1 << SLF_FRONTEND_COEF_FRAC_BITS) +
                  ((int64_t)1 << (SLF_FRONTEND_COEF_FRAC_BITS - 1));
    acc += (int64_t)na1 * y1;
    acc += (int64_t)na2 * y2;
    return (int32_t)(acc >> SLF_FRONTEND_COEF_FRAC_BITS);
}

/* Two samples: the new output replaces y2, so y1 and y2 swap roles instead of being copied. */
static inline void resonate_pair(const int32_t *d, int32_t na1, int32_t na2, int32_t *y1, int32_t *y2,
                                 int64_t *energy)
{
    *y2 = resonate(d[0], na1, *y1, na2, *y2);
    *energy += (int64_t)*y2 * *y2;
    *y1 = resonate(d[1], na1, *y2, na2, *y1);
    *energy += (int64_t)*y1 * *y1;
}

#if SLF_USE_DSP
/* Cortex-M: the band loop in hand-allocated registers, eight samples per iteration, 40 data
 * instructions and 8 loads (est. 54 Cortex-M4 cycles with the branch, docs/cycles.md; the
 * compiled C takes about 12 per sample). The same integers as resonate(), computed in a scale
 * that drops the 64-bit shift: the state is held as Y = 4y (|y| < 2^29, so 4y fits int32), and
 * 4 * (d * 2^30 + 2^29) = d * 2^32 + 2^31 is the accumulator {hi = d, lo = 2^31}; after two SMLALs
 * of na * Y its high word is floor((...) * 4 / 2^32) = the C's (...) >> 30 = y, exactly (the
 * 64-bit sum is modular and its final value in range). Y' = y << 2 and energy += y * y follow.
 * Four d values at a time are loaded back to back (pipelined loads); each is its sample's high
 * accumulator word. r7 is left alone (the Thumb frame pointer at -O0). n: a multiple of 8. */
static void resonate_samples(const int32_t *d, uint32_t n, int32_t na1, int32_t na2, int32_t *y1, int32_t *y2,
                             int64_t *energy)
{
    register int32_t ry1 __asm__("r5") = *y1 * 4; /* |y| < 2^29 */
    register int32_t ry2 __asm__("r6") = *y2 * 4;
    register int32_t rna1 __asm__("r8") = na1;
    register int32_t rna2 __asm__("r9") = na2;
    register uint32_t rlo __asm__("r10") = (uint32_t)(uint64_t)*energy;
    register uint32_t rhi __asm__("r11") = (uint32_t)((uint64_t)*energy >> 32);
    register const int32_t *rd __asm__("r12") = d;
    const int32_t *end = d + n;
/* One sample: d in `hi`, Y of the previous sample in `prev`, the one before in `older` (replaced). */
#define SLF_RESONATE_ASM(hi, prev, older)                                                   \
    "mov    r0, #0x80000000\n\t"            /* lo word of 4 * 2^29 */                    \
    "smlal  r0, " hi ", r8, " prev "\n\t"   /* + na1 * Y[n-1] */                         \
    "smlal  r0, " hi ", r9, " older "\n\t"  /* + na2 * Y[n-2]; hi = y[n] */              \
    "lsl    " older ", " hi ", #2\n\t"      /* Y[n] = 4 y[n] */                          \
    "smlal  r10, r11, " hi ", " hi "\n\t"   /* energy += y[n]^2 */
/* Four samples: their d values loaded back to back from the four addresses, then resonated. */
#define SLF_RESONATE_FOUR_ASM(d0, d1, d2, d3)                                               \
    "ldr    r1, " d0 "\n\t"                                                              \
    "ldr    r2, " d1 "\n\t"                                                              \
    "ldr    r3, " d2 "\n\t"                                                              \
    "ldr    r4, " d3 "\n\t"                                                              \
    SLF_RESONATE_ASM("r1", "r5", "r6")                                                    \
    SLF_RESONATE_ASM("r2", "r6", "r5")                                                    \
    SLF_RESONATE_ASM("r3", "r5", "r6")                                                    \
    SLF_RESONATE_ASM("r4", "r6", "r5")
    __asm__ volatile("ldr    lr, %[end]\n\t"
                     ".p2align 2\n\t" /* the loop branch lands on an aligned 32-bit instruction */
                     "1:\n\t"
                     SLF_RESONATE_FOUR_ASM("[r12], #32", "[r12, #-28]", "[r12, #-24]", "[r12, #-20]")
                     SLF_RESONATE_FOUR_ASM("[r12, #-16]", "[r12, #-12]", "[r12, #-8]", "[r12, #-4]")
                     "cmp    r12, lr\n\t"
                     "bne    1b\n\t"
                     : "+r"(ry1), "+r"(ry2), "+r"(rlo), "+r"(rhi), "+r"(rd)
                     : "r"(rna1), "r"(rna2), [end] "m"(end)
                     : "r0", "r1", "r2", "r3", "r4", "lr", "cc", "memory");
#undef SLF_RESONATE_FOUR_ASM
#undef SLF_RESONATE_ASM
    *y1 = ry1 >> 2; /* multiples of 4: the shift is exact */
    *y2 = ry2 >> 2;
    *energy = (int64_t)(((uint64_t)rhi << 32) | rlo);
}
#endif

/* Resonator of one band over the step's n samples (n even): updates y1, y2, returns E. */
static int64_t resonate_band(const int32_t *d, uint32_t n, int32_t na1, int32_t na2, int32_t *y1, int32_t *y2)
{
    int64_t energy = 0;
#if SLF_USE_DSP
    for (; n & 7u; n -= 2, d += 2) /* the assembly loop takes eight samples at a time */
        resonate_pair(d, na1, na2, y1, y2, &energy);
    if (n != 0u)
        resonate_samples(d, n, na1, na2, y1, y2, &energy);
#else
    for (uint32_t i = 0; i < n; i += 2)
        resonate_pair(d + i, na1, na2, y1, y2, &energy);
#endif
    return energy;
}

void slf_frontend_step_s16(slf_frontend_state *state, const slf_frontend_params *params,
                           const int16_t *pcm, uint8_t *counts)
{
    int32_t d[SLF_FRONTEND_MAX_STEP_SAMPLES];
    const uint32_t n_samples = params->step_samples;
    const int32_t scale = (int32_t)1 << params->input_shift;

    /* The numerator 1 - z^-2 is common to all bands: once per step. |d| <= 65535 * 2^12 < 2^28. */
    int32_t x1 = state->x1, x2 = state->x2;
    for (uint32_t n = 0; n < n_samples; n++) {
        int32_t x = pcm[n];
        d[n] = (x - x2) * scale;
        x2 = x1;
        x1 = x;
    }
    state->x1 = x1;
    state->x2 = x2;

    const uint32_t first = !state->started;
    for (uint32_t b = 0; b < params->bands; b++) {
        slf_frontend_band_state *band = &state->band[b];
        const int64_t energy = resonate_band(d, n_samples, params->neg_a1[b], params->neg_a2[b], &band->y1,
                                             &band->y2);

        /* energy, env in [0, 2^62): the difference fits int64. */
        const int64_t env = band->env + ((energy - band->env) >> params->env_shift);
        band->env = env;

        const int32_t level = log2_q6(env) + params->log_gain[b];
        const int32_t level_fine = level * (1 << SLF_FRONTEND_FLOOR_FRAC_BITS);
        if (first)
            band->floor = level_fine;
        /* The drive uses the floor before this step's update: onsets see the old floor. */
        int32_t floor = band->floor >> SLF_FRONTEND_FLOOR_FRAC_BITS;
        if (floor < params->min_level)
            floor = params->min_level;
        int32_t drive = level - floor - params->offset;
        if (drive < 0)
            drive = 0;
        const int32_t delta = level_fine - band->floor;
        band->floor += delta >> (delta > 0 ? params->floor_rise_shift : params->floor_fall_shift);

        uint32_t charge = band->charge + (uint32_t)drive;
        uint32_t count = charge / params->threshold;
        if (count > params->max_count)
            count = params->max_count;
        charge -= count * params->threshold;
        if (charge >= params->threshold)
            charge = params->threshold - 1u;
        band->charge = charge;
        counts[b] = (uint8_t)count;
    }
    state->started = 1;
}
