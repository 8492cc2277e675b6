/* silifc runtime: build configuration.
 *
 * SLF_USE_DSP selects the Cortex-M DSP-extension code paths (ARMv7E-M / ARMv8-M
 * Mainline with DSP: Cortex-M4, M7, M33, M55). It defaults to __ARM_FEATURE_DSP as
 * the compiler defines it for -mcpu; define it to 0 to force the portable C path
 * (what Cortex-M0/M0+/M3 and host builds always use). A build compiles the sources in
 * src/ plus those in src/dsp/ (SLF_USE_DSP=1) or src/portable/ (SLF_USE_DSP=0); each
 * folder refuses the other setting with an #error. Both paths compute the same
 * integers; the tests run both against the Python integer reference.
 */
#ifndef SLF_CONFIG_H
#define SLF_CONFIG_H

#ifndef SLF_USE_DSP
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define SLF_USE_DSP 1
#else
#define SLF_USE_DSP 0
#endif
#endif

#if SLF_USE_DSP && !(defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP)
#error "SLF_USE_DSP=1 needs a core with the DSP extension (__ARM_FEATURE_DSP)"
#endif

#endif /* SLF_CONFIG_H */
