"""silifc: compile SiLIF / C-SiLIF spiking networks into integer-only C for Cortex-M."""

__version__ = "0.1.0"
