"""Average current and battery life of the keyword firmware, from the emulated run.

I = I_PDM (always on, includes its HFXO clock) + f_active * I_CPU + (1 - f_active) * I_IDLE,
with f_active the fraction of time the CPU runs (emulated instructions x CPI / clock, or
the measured fraction asleep). Currents (typical, 3 V, 25 C) from Nordic's product
specifications; each entry names its table. The microphone's own current (about 0.6 mA for
an MP34DT05 at 1.28 MHz, its data sheet) and the board's LEDs and regulators are not included.
"""
from __future__ import annotations

from dataclasses import dataclass

# name -> (mA, source)
CURRENTS = {
    "cpu": (3.3, "nRF52840 PS, Current consumption > CPU running, ICPU0: CPU running CoreMark @64 MHz "
                 "from flash, Clock = HFXO, Regulator = DC/DC, cache enabled"),
    "pdm": (1.67, "PDM electrical specification of Nordic's nRF52 PS (IPDM: receiving and processing data at "
                  "16 kHz, FREQ = 1.28 MHz, MODE.OPERATION = mono, clock HFXO); the nRF52840 PS lists no PDM "
                  "current, this PDM block is the same"),
    "idle": (0.00316, "nRF52840 PS, Current consumption > Sleep, ION_RAMON_RTC: System ON, full RAM retention, "
                      "wake on RTC (the HFXO the PDM needs is in the PDM figure)"),
}


@dataclass(frozen=True)
class PowerEstimate:
    active_fraction: float
    current_ma: float
    battery_mah: float
    parts: dict

    @property
    def hours(self) -> float:
        return self.battery_mah / self.current_ma

    @property
    def days(self) -> float:
        return self.hours / 24.0

    def lines(self) -> list[str]:
        cpu, pdm, idle = (CURRENTS[k][0] for k in ("cpu", "pdm", "idle"))
        return [f"power    {self.current_ma:.2f} mA average = PDM {pdm:g} mA + {100 * self.active_fraction:.1f} % x CPU "
                f"{cpu:g} mA + {100 * (1 - self.active_fraction):.1f} % x idle {idle * 1000:g} uA "
                f"-> {self.days:.1f} days on a {self.battery_mah:g} mAh cell (microphone and board not included)"]


def estimate_power(active_fraction: float, battery_mah: float = 100.0) -> PowerEstimate:
    cpu, pdm, idle = (CURRENTS[k][0] for k in ("cpu", "pdm", "idle"))
    parts = {"pdm": pdm, "cpu": active_fraction * cpu, "idle": (1 - active_fraction) * idle}
    return PowerEstimate(active_fraction, sum(parts.values()), battery_mah, parts)
