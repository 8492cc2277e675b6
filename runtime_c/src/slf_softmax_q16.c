/* slf_softmax_q16: integer softmax of the readout states. Contract: include/slf_decision.h. */
#include "internal/slf_softmax.h"

/* 2^-(i/64) in Q24 for i = 0..64 (fixedpoint.EXP2_TABLE); the last entry is exactly 2^23. */
static const uint32_t slf_exp2_q24[65] = {
    16777216u, 16596492u, 16417715u, 16240863u, 16065917u, 15892855u, 15721658u, 15552304u, 15384775u,
    15219050u, 15055111u, 14892937u, 14732511u, 14573813u, 14416824u, 14261526u, 14107901u, 13955931u,
    13805598u, 13656884u, 13509772u, 13364245u, 13220286u, 13077877u, 12937002u, 12797645u, 12659789u,
    12523418u, 12388516u, 12255067u, 12123055u, 11992466u, 11863283u, 11735492u, 11609078u, 11484025u,
    11360319u, 11237946u, 11116891u, 10997140u, 10878679u, 10761494u, 10645571u, 10530897u, 10417458u,
    10305242u, 10194234u, 10084422u, 9975792u,  9868333u,  9762032u,  9656875u,  9552851u,  9449948u,
    9348154u,  9247455u,  9147842u,  9049301u,  8951823u,  8855394u,  8760003u,  8665641u,  8572295u,
    8479954u,  8388608u,
};

#define SLF_EXP_FRAC_BITS 16u   /* t in Q16 */
#define SLF_EXP_TABLE_BITS 6u   /* 64 intervals */
#define SLF_EXP_MAX_WHOLE 31u   /* 2^-31 is 0 in Q24: clamp t there */
#define SLF_RECIPROCAL_BITS 46u /* r = 2^46 / S */

/* 2^-t in Q24 for t in Q16 (fixedpoint.exp2_neg_q16). The reference clamps t to 31 * 2^16
 * first; clamping only the shift count gives the same result: beyond that clamp the shift
 * is 31 and every table value (<= 2^24) shifts to 0, as it does at the clamp itself. */
SLF_INLINE uint32_t slf_exp2_neg_q16(uint32_t t)
{
    const uint32_t interp_bits = SLF_EXP_FRAC_BITS - SLF_EXP_TABLE_BITS;
    uint32_t index = (t >> interp_bits) & ((1u << SLF_EXP_TABLE_BITS) - 1u);
    uint32_t within = t & ((1u << interp_bits) - 1u);
    uint32_t upper = slf_exp2_q24[index];
    uint32_t lower = slf_exp2_q24[index + 1u];
    /* (upper - lower) < 2^18, within < 2^10: the product fits 32 bits. */
    uint32_t value = upper - (((upper - lower) * within + (1u << (interp_bits - 1u))) >> interp_bits);
    uint32_t whole = t >> SLF_EXP_FRAC_BITS;
    return value >> (whole < SLF_EXP_MAX_WHOLE ? whole : SLF_EXP_MAX_WHOLE);
}

/* floor(2^46 / sum) for 2^24 <= sum < 2^31, by restoring division: the 23 quotient bits one at a
 * time; the remainder stays below sum < 2^31, so doubling it never overflows. The 64-bit division
 * it replaces pulled in libgcc's __udivmoddi4 (700 bytes of flash on Cortex-M). */
SLF_INLINE uint32_t slf_reciprocal_q46(uint32_t sum)
{
    uint32_t remainder = 1u << (SLF_RECIPROCAL_BITS - 23u), quotient = 0, bit;
    for (bit = 0; bit < 23u; bit++) {
        remainder <<= 1;
        quotient <<= 1;
        if (remainder >= sum) {
            remainder -= sum;
            quotient |= 1u;
        }
    }
    return quotient;
}

uint32_t slf_internal_softmax_exp(const int32_t *u, uint32_t n, int32_t exp_mult, int32_t exp_shift, uint32_t *e)
{
    const uint32_t t_max = SLF_EXP_MAX_WHOLE << SLF_EXP_FRAC_BITS;
    uint32_t shift = (uint32_t)exp_shift & 63u;
    uint64_t round = ((uint64_t)1 << shift) >> 1;
    uint32_t mult = (uint32_t)exp_mult;
    uint32_t k, sum = 0;
    int32_t max = u[0];

    for (k = 1; k < n; k++) {
        max = u[k] > max ? u[k] : max;
    }
    /* t = (d * exp_mult + round) >> shift; d < 2^32 and exp_mult < 2^31 keep the sum in uint64. */
    if (shift >= 32u) {
        /* The common case (exp_shift ~ 40): only the high word matters; the shift count clamp
         * in slf_exp2_neg_q16 stands in for the clamp of t. */
        for (k = 0; k < n; k++) {
            uint64_t x = (uint64_t)((uint32_t)max - (uint32_t)u[k]) * mult + round;
            e[k] = slf_exp2_neg_q16((uint32_t)(x >> 32) >> (shift - 32u));
            sum += e[k]; /* < 127 * 2^24 < 2^31 */
        }
    } else {
        for (k = 0; k < n; k++) {
            uint64_t t = ((uint64_t)((uint32_t)max - (uint32_t)u[k]) * mult + round) >> shift;
            e[k] = slf_exp2_neg_q16(t > t_max ? t_max : (uint32_t)t);
            sum += e[k];
        }
    }
    /* sum >= 2^24 (the largest state has d = 0, t = 0, e = 2^24): no division by zero. */
    return slf_reciprocal_q46(sum);
}

slf_status slf_softmax_q16(const int32_t *u, uint16_t n, int32_t exp_mult, int32_t exp_shift, int32_t *p)
{
    uint32_t e[SLF_MAX_CLASSES];
    uint32_t k, reciprocal;

    if (u == NULL || p == NULL) {
        return SLF_ERR_NULL;
    }
    if (n == 0u || n > SLF_MAX_CLASSES) {
        return SLF_ERR_SHAPE;
    }
    reciprocal = slf_internal_softmax_exp(u, n, exp_mult, exp_shift, e);
    for (k = 0; k < n; k++) {
        p[k] = slf_softmax_prob(e[k], reciprocal);
    }
    return SLF_OK;
}
