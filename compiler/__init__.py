"""silifc: compile SiLIF / C-SiLIF spiking networks into integer-only C for Cortex-M.

The Python API (silifc.api, docs/api.md), loaded on first use:

    import silifc
    model = silifc.load("silif_ssc_4ms.pth")
    run = model.quantize().compile(board="nrf52840").run("inputs.npz")
"""

from .version import __version__

_API = ("load", "Model", "QuantizedModel", "CompiledModel", "Check", "FirmwareResult", "Inputs", "Calibration",
        "CalibrationWarning")

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    # Lazy: `import silifc` (and the CLI's start) must not pay for numpy, torch and the compiler.
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'silifc' has no attribute {name!r}")
