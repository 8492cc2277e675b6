"""The nRF52840 as a target of the device application (docs/device.md): Nordic's register
description (`svd.py`), the check of the application's register header against it
(`regs.py`), an emulated nRF52840 that runs the unmodified device ELF (`emulator.py`) and the
power estimate of a run (`power.py`)."""
