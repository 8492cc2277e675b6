"""Firmware for real boards (boards with a `device` section): the device application
(templates/device/), its artefacts and flashing, the nRF52840 register header checked against
the vendor's SVD, and an emulated nRF52840 that runs the unmodified device ELF. docs/device.md."""
