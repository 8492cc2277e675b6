"""silifc: compile SiLIF / C-SiLIF spiking networks into integer-only C for Cortex-M."""

from .version import __version__

__all__ = ["__version__"]
