/* silifc runtime, internal: the accumulation loops (not part of the API).
 *
 * acc[0..n) += one weight column, two columns, or count x one column, modulo 2^32 (the
 * portable uint32_t adds and the DSP path's SXTAB/SXTAH/SMLAxB wrap alike, so the order of
 * additions is irrelevant). The loops are written once for both weight types in
 * slf_columns_typed.h, instantiated below as slf_col_{add,add2,mul}_{s8,s16}: the portable
 * reference loops, and with SLF_USE_DSP, blocks of 8 accumulators per LDM/STM in inline assembly
 * (dsp/slf_columns_dsp.h: slf_col_{add,add2,mul}_dsp_{s8,s16}) before the portable loop for the
 * n % 8 tail.
 */
#ifndef SLF_COLUMNS_H
#define SLF_COLUMNS_H

#include "slf_arith.h"

#if SLF_USE_DSP
#include "../dsp/slf_columns_dsp.h"
#endif

#define SLF_COL_WEIGHT int8_t
#define SLF_COL_TYPED(name) name##_s8
#include "slf_columns_typed.h"
#define SLF_COL_WEIGHT int16_t
#define SLF_COL_TYPED(name) name##_s16
#include "slf_columns_typed.h"

#endif /* SLF_COLUMNS_H */
