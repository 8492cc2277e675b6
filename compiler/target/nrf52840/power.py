"""Average current and battery life of the keyword firmware, from an emulated run.

    I = I_PDM + f_active * I_CPU + (1 - f_active) * I_SLEEP

f_active is the fraction of time the CPU runs: emulated instructions x CPI / clock (the
emulator's time model, so every figure is "at CPI x"). The PDM runs all the time, on the
HFXO; the CPU runs from flash with the instruction cache on and sleeps in WFI between PDM
buffers (System ON, all RAM on, woken by the PDM's interrupt).

Each current is typical (3 V, 25 C) and names where it comes from and how far that was
verified (`Current.verified`). docs/device.md has the table. Not included: the microphone
(about 0.6 mA for an MP34DT05 at 1.28 MHz, its data sheet), the UART's few bytes per
detection, the LED, the board's regulators and USB chips. While the CPU runs, the HFXO is
counted twice (once in I_PDM, once in I_CPU, which is measured with the HFXO running): a
small over-estimate.
"""
from __future__ import annotations

from dataclasses import dataclass

PS = "nRF52840 Product Specification v1.x"


@dataclass(frozen=True)
class Current:
    milliamps: float
    source: str
    verified: str                  # how the figure was checked (docs/device.md, "Power")


CPU_DCDC = Current(3.3, f"{PS}, Current consumption > CPU running, ICPU0: CoreMark @64 MHz from flash, "
                        f"clock HFXO, regulator DC/DC, cache enabled",
                   "PS page not reachable here; the same figure and conditions quoted from the PS by two "
                   "independent public sources (one citing PS v1.11)")
CPU_LDO = Current(6.3, f"{PS}, Current consumption > CPU running: the ICPU0 conditions with regulator LDO",
                  "PS page not reachable here; quoted from PS v1.11 by one public source only")
SLEEP = Current(0.00235, f"{PS}, Current consumption > Sleep, ION_RAMON_EVENT: System ON, full 256 kB RAM "
                         f"retention, wake on any event (the firmware wakes on the PDM interrupt; no RTC runs)",
                "PS page not reachable here; quoted from the PS by one public source; the wake-on-RTC "
                "figure ION_RAMON_RTC = 3.16 uA next to it is quoted by two")
PDM = Current(1.67, "IPDM of a Nordic product specification's PDM electrical table: receiving and processing "
                    "data at 16 kHz, FREQ = 1.28 MHz, MODE.OPERATION = mono, clock HFXO (includes the HFXO)",
              "NOT tied to the nRF52840 PS: the table found (docs.nordicsemi.com/r/UJgrMKSIR3x9Q6lk_D515w/"
              "sIjT8~11YMm0sYOSg5EPCA) does not name its device, and the nRF52840 PS's PDM chapter was not "
              "found; another Nordic table (nRF53/nRF91 family) gives 1.63 mA for the same conditions")


def cpu_current(dcdc: bool) -> Current:
    """The CPU-running current for the board's regulator (device.dcdc in its board file)."""
    return CPU_DCDC if dcdc else CPU_LDO


@dataclass(frozen=True)
class PowerEstimate:
    active_fraction: float
    cpi: float                    # the time model's cycles per instruction the fraction rests on
    dcdc: bool
    battery_mah: float

    @property
    def currents(self) -> dict[str, Current]:
        return {"pdm": PDM, "cpu": cpu_current(self.dcdc), "sleep": SLEEP}

    @property
    def parts_ma(self) -> dict[str, float]:
        return {"pdm": PDM.milliamps, "cpu": self.active_fraction * cpu_current(self.dcdc).milliamps,
                "sleep": (1.0 - self.active_fraction) * SLEEP.milliamps}

    @property
    def current_ma(self) -> float:
        return sum(self.parts_ma.values())

    @property
    def days(self) -> float:
        return self.battery_mah / self.current_ma / 24.0

    def to_dict(self) -> dict:
        return {"current_ma": self.current_ma, "days": self.days, "battery_mah": self.battery_mah,
                "cpi": self.cpi, "regulator": "DC/DC" if self.dcdc else "LDO", "parts_ma": self.parts_ma,
                "sources": {name: {"ma": c.milliamps, "source": c.source, "verified": c.verified}
                            for name, c in self.currents.items()}}

    def line(self) -> str:
        cpu = cpu_current(self.dcdc)
        return (f"power    {self.current_ma:.2f} mA average at CPI {self.cpi:g} = PDM {PDM.milliamps:g} mA + "
                f"{100 * self.active_fraction:.1f} % x CPU {cpu.milliamps:g} mA "
                f"({'DC/DC' if self.dcdc else 'LDO'}) + {100 * (1 - self.active_fraction):.1f} % x sleep "
                f"{SLEEP.milliamps * 1000:g} uA -> {self.days:.1f} days on a {self.battery_mah:g} mAh cell "
                f"(microphone and board not included; the PDM figure is not from the nRF52840 PS)")


def estimate_power(active_fraction: float, cpi: float, dcdc: bool, battery_mah: float = 100.0) -> PowerEstimate:
    if not 0.0 <= active_fraction <= 1.0:
        raise ValueError(f"active fraction {active_fraction} is not between 0 and 1")
    return PowerEstimate(active_fraction, cpi, dcdc, battery_mah)
