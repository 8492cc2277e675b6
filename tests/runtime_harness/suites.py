"""The randomized case suites every build of the runtime runs (host, sanitizers, QEMU), one per
kernel family: synapses, neurons, decision (and test_dense.py for the dense kernels)."""
from __future__ import annotations

import functools

import numpy as np

from . import decision, neurons, synapses
from .common import SMALL_LIMITS, STANDARD_PER_KERNEL, STANDARD_SEED, Case

FAMILIES = {"synapses": synapses, "neurons": neurons, "decision": decision}


@functools.lru_cache(maxsize=None)
def standard_cases(family: str) -> list[Case]:
    """STANDARD_PER_KERNEL (1000) seeded cases per kernel and check function of the family."""
    rng = np.random.default_rng([STANDARD_SEED, list(FAMILIES).index(family)])
    return FAMILIES[family].cases(rng, STANDARD_PER_KERNEL)


@functools.lru_cache(maxsize=None)
def small_cases(family: str, per_kernel: int) -> list[Case]:
    """Cases that fit the small driver (build.SMALL_DRIVER) of 16-32 KB boards."""
    rng = np.random.default_rng([STANDARD_SEED + 1, list(FAMILIES).index(family)])
    return FAMILIES[family].cases(rng, per_kernel, SMALL_LIMITS)


def all_standard_cases() -> list[Case]:
    """Every family's standard cases, in one file (the optimisation-level matrix)."""
    return [case for family in FAMILIES for case in standard_cases(family)]
