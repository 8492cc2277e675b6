/* silifc runtime, internal: what every source of the portable path includes (not part of the API).
 *
 * src/portable/ holds the portable C99 reference of the kernels that also have a Cortex-M DSP
 * version in src/dsp/. A build compiles the sources in src/ plus those in either src/portable/ (SLF_USE_DSP=0:
 * any C99 compiler and core, the host included) or src/dsp/ (SLF_USE_DSP=1). */
#ifndef SLF_PORTABLE_H
#define SLF_PORTABLE_H

#include "../internal/slf_base.h"

#if SLF_USE_DSP
#error "src/portable/ is the portable C path: build it with SLF_USE_DSP=0, or build src/dsp/ instead"
#endif

#endif /* SLF_PORTABLE_H */
