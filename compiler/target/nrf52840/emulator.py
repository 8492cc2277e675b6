"""An emulated nRF52840 that runs the unmodified device ELF.

QEMU has no nRF52 machine, so this is the smallest honest emulation of what the device
application relies on: the Cortex-M4 core comes from Unicorn (QEMU's ARM translator,
UC_MODE_THUMB | UC_MODE_MCLASS); the SoC around it is modelled here at register level, with
every register's address and reset value taken from Nordic's nrf52840.svd (svd.py).
An access to a register the SVD does not define, or to a peripheral the model does not
implement, stops the run with an error naming it. Python runs only on peripheral accesses,
at each translated block (one dictionary lookup to count its instructions) and at the WFI
instructions (found in the ELF by objdump), never per instruction.

What is modelled, and the nRF52840 Product Specification (PS v1.x) sections relied on:
* Memory (PS "Memory"): 1 MB flash at 0 (read/execute), 256 KB RAM at 0x20000000. The ELF's
  segments are loaded at their load addresses. A bootloader's hand-over is modelled: SP and PC
  come from the vector table at the image's lowest flash address.
* Peripheral interface (PS "Peripheral interface"): writing 1 to TASKS_x triggers task x;
  EVENTS_x reads 1 after event x and is cleared by writing 0; INTENSET/INTENCLR set and clear
  INTEN; a peripheral's interrupt line is high while any EVENTS_x whose INTEN bit x is set
  reads 1 (INTEN field names match the EVENTS_ register names in the SVD).
* CLOCK (PS "CLOCK"): TASKS_HFCLKSTART starts the HFXO; EVENTS_HFCLKSTARTED and
  HFCLKSTAT = {SRC Xtal, STATE Running} follow after HFXO_STARTUP_S. POWER: DCDCEN is stored.
  NVMC: ICACHECNF is stored.
* GPIO (PS "GPIO"): OUT/DIR with their SET/CLR aliases, PIN_CNF; every change of an output
  level is logged (the LED).
* PDM (PS "PDM", EasyDMA): TASKS_START with ENABLE set starts sampling at
  PDM_CLK / RATIO, PDM_CLK = 32 MHz / divider per PDMCLKCTRL.FREQ. MODE must be mono (one
  16-bit sample per SAMPLE.MAXCNT unit). STARTED is raised when a buffer starts: the PDM has
  latched SAMPLE.PTR/MAXCNT, so the next pointer may be written (double buffering). After
  MAXCNT samples the buffer is written to RAM, END is raised and the next buffer starts at
  once with the pointer then in SAMPLE.PTR (a new STARTED). Samples come from the WAV; the
  run ends when fewer than MAXCNT samples remain. EasyDMA may only address RAM (PS "EasyDMA").
* UARTE0 (PS "UARTE"): TASKS_STARTTX with ENABLE = Enabled (8) reads TXD.MAXCNT bytes at
  TXD.PTR (RAM only) into the captured output, raises TXSTARTED, and ENDTX after the bytes'
  time on the wire (10 bits each at BAUDRATE); TASKS_STOPTX raises TXSTOPPED.
* NVIC and exceptions (ARMv7-M ARM B1.5, B3.4): ISER/ICER/ISPR/ICPR, VTOR, AIRCR
  (SYSRESETREQ ends the run as a reset). Exception entry pushes the basic 8-word frame (the
  device build uses no FPU) with 8-byte alignment, sets LR to EXC_RETURN and jumps through
  VTOR; an exception return (a branch to 0xFFFFFFFx) pops it. All interrupts share one
  priority (the firmware sets none), so there is no preemption; pending ones tail-chain.
  Interrupts are taken at the next translated block once pending, enabled and PRIMASK clear.
  An undefined instruction or an access to unmapped memory enters HardFault.
* Sleep (ARMv7-M ARM B1.5.19): WFI sleeps until an enabled interrupt is pending, even with
  PRIMASK set. The emulated clock jumps to the next peripheral event while asleep.

Time: the CPU clock is not cycle-accurate. Executed instructions are counted exactly (per
translated block) and converted to cycles with one average CPI (cycles per instruction), a
parameter of the run (DEFAULT_CPI unless the caller gives one; every report states it);
asleep time is exact. The fraction asleep, the overruns and the power estimate follow from
that CPI. The HFXO start-up delay (HFXO_STARTUP_S) only postpones the first PDM buffer.
"""
from __future__ import annotations

import re
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import SilifcError

# Average Cortex-M4 cycles per instruction assumed for the device firmware (docs/device.md,
# "Time model"): most data-processing instructions take 1 cycle, loads 2 (1 when pipelined
# behind another), taken branches 2-4 (Cortex-M4 TRM, instruction timings), so a load-heavy
# integer loop averages between 1 and 2 with zero wait states. 1.5 is an assumption, not a
# measurement: silifc run --cpi overrides it, and reports say "at CPI x".
DEFAULT_CPI = 1.5
CLOCK_HZ = 64_000_000
# HFXO start-up time: an assumed typical value, NOT read from the PS (its CLOCK electrical
# table was not reachable). It only delays HFCLKSTARTED and so the first PDM buffer.
HFXO_STARTUP_S = 0.36e-3
FLASH = (0x00000000, 0x00100000)
RAM = (0x20000000, 0x00040000)
APB = (0x40000000, 0x00040000)
AHB_GPIO = (0x50000000, 0x00001000)
SCS = (0xE000E000, 0x00001000)
MODELLED = ("CLOCK", "POWER", "NVMC", "P0", "P1", "PDM", "UARTE0")
PDM_CLOCK_DIVIDERS = {"1000K": 32, "Default": 31, "1067K": 30, "1231K": 26, "1280K": 25, "1333K": 24}
EXC_RETURN_THREAD_MSP = 0xFFFFFFF9
EXC_RETURN_HANDLER_MSP = 0xFFFFFFF1
HARDFAULT = 3
EXCP_UDEF, EXCP_EXCEPTION_EXIT = 1, 8   # QEMU's ARM exception numbers, as Unicorn's interrupt hook reports them


class EmulationError(SilifcError):
    pass


@dataclass
class EmulationResult:
    uart: str
    instructions: int
    cpi: float
    clock_hz: int
    active_cycles: float
    asleep_cycles: float
    buffers: int                      # PDM buffers delivered (END events)
    samples: int                      # samples delivered
    sample_rate: float                # what the firmware configured
    awake_instructions: list          # instructions of each wake-up (from a WFI wake to the next WFI);
                                      # the first one is the boot (reset to the first WFI)
    pins: dict                        # configured pins: pdm_clk, pdm_din, uart_tx -> "P0.26"
    outputs: dict                     # "P0.17" -> last output level
    led_changes: list                 # (time s, pin, level)
    hfxo_running_at_pdm_start: bool
    reset: str | None                 # why the firmware reset (SYSRESETREQ), if it did
    wall_seconds: float

    @property
    def seconds(self) -> float:
        return (self.active_cycles + self.asleep_cycles) / self.clock_hz

    @property
    def asleep_fraction(self) -> float:
        total = self.active_cycles + self.asleep_cycles
        return self.asleep_cycles / total if total else 0.0

    @property
    def lines(self) -> list[str]:
        return [line for line in self.uart.replace("\r", "").split("\n") if line]

    @property
    def instructions_per_second(self) -> float:
        return self.instructions / self.wall_seconds if self.wall_seconds else 0.0


def load_elf(path: Path) -> tuple[list[tuple[int, bytes]], int]:
    """PT_LOAD segments (load address, bytes) of a 32-bit little-endian ARM ELF, and its entry."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1 or struct.unpack_from("<H", data, 18)[0] != 40:
        raise EmulationError(f"{path} is not a 32-bit little-endian ARM ELF file")
    entry, phoff = struct.unpack_from("<II", data, 24)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    segments = []
    for i in range(phnum):
        p_type, p_offset, _, p_paddr, p_filesz = struct.unpack_from("<IIIII", data, phoff + i * phentsize)
        if p_type == 1 and p_filesz:
            segments.append((p_paddr, data[p_offset:p_offset + p_filesz]))
    return segments, entry


def sleep_instruction_addresses(elf: Path) -> tuple[list[int], list[int], bool]:
    """(WFI addresses, WFE addresses, uses FP) from the ELF's disassembly."""
    from ..toolchain import tool

    result = subprocess.run([tool("arm-none-eabi-objdump"), "-d", str(elf)], capture_output=True, text=True)
    if result.returncode != 0:
        raise EmulationError(f"cannot disassemble {elf}: {result.stderr.strip()}")
    wfi, wfe, fp = [], [], False
    for match in re.finditer(r"^\s*([0-9a-f]+):\s+(?:[0-9a-f]{4}\s?){1,2}\s+(\w+)", result.stdout, re.MULTILINE):
        mnemonic = match[2]
        if mnemonic.startswith("wfi"):
            wfi.append(int(match[1], 16))
        elif mnemonic.startswith("wfe"):
            wfe.append(int(match[1], 16))
        elif re.match(r"v(ldr|str|mov|push|pop|add|sub|mul|div|cvt|cmp|mrs|msr|ld|st|abs|neg|sqrt|fma)", mnemonic):
            fp = True
    return wfi, wfe, fp


@dataclass(order=True)
class _Event:
    cycle: float
    order: int
    action: object = field(compare=False)


class Nrf52840:
    """One run of a device ELF on an emulated nRF52840 fed with PCM samples."""

    def __init__(self, elf: str | Path, pcm: np.ndarray, sample_rate: int = 16000, cpi: float = DEFAULT_CPI,
                 clock_hz: int = CLOCK_HZ, max_seconds: float | None = None, svd=None):
        from unicorn import UC_ARCH_ARM, UC_HOOK_BLOCK, UC_HOOK_CODE, UC_HOOK_INTR, UC_MODE_MCLASS, UC_MODE_THUMB, Uc
        from unicorn.arm_const import UC_CPU_ARM_CORTEX_M4

        from .svd import load_nrf52840_svd

        self.elf = Path(elf)
        self.svd = svd or load_nrf52840_svd()
        self.pcm = np.asarray(pcm, dtype="<i2")
        self.wav_rate = sample_rate
        if not 0.0 < float(cpi) < 100.0:
            raise EmulationError(f"CPI {cpi} is not a plausible average number of cycles per instruction; "
                                 f"give a value such as {DEFAULT_CPI:g} (the Cortex-M4 needs 1 to about 2)")
        self.cpi = float(cpi)
        self.clock_hz = clock_hz
        self.max_cycles = None if max_seconds is None else max_seconds * clock_hz
        segments, _ = load_elf(self.elf)
        wfi, wfe, uses_fp = sleep_instruction_addresses(self.elf)
        if uses_fp:
            raise EmulationError(f"{self.elf.name} contains floating-point instructions: this model stacks only "
                                 f"basic exception frames (no lazy FP state). Build with -mgeneral-regs-only.")
        if not wfi and not wfe:
            raise EmulationError(f"{self.elf.name} has no WFI/WFE instruction: the firmware never sleeps")
        flash_segments = [(a, d) for a, d in segments if FLASH[0] <= a < FLASH[0] + FLASH[1]]
        if not flash_segments:
            raise EmulationError(f"{self.elf.name} loads nothing into flash (0x0..0x{FLASH[1]:X})")
        self.image_base = min(a for a, _ in flash_segments)

        self.uc = uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        uc.ctl_set_cpu_model(UC_CPU_ARM_CORTEX_M4)
        uc.mem_map(FLASH[0], FLASH[1])
        uc.mem_map(RAM[0], RAM[1])
        for address, data in segments:
            if not (FLASH[0] <= address and address + len(data) <= FLASH[0] + FLASH[1]):
                raise EmulationError(f"{self.elf.name}: segment at 0x{address:08X} ({len(data)} bytes) lies outside "
                                     f"the nRF52840's flash")
            uc.mem_write(address, data)
        for region in (APB, AHB_GPIO):
            read, write = self._make_mmio(region[0])
            uc.mmio_map(region[0], region[1], read, None, write, None)
        uc.mmio_map(SCS[0], SCS[1], self._scs_read, None, self._scs_write, None)
        uc.hook_add(UC_HOOK_BLOCK, self._on_block)
        uc.hook_add(UC_HOOK_INTR, self._on_interrupt)
        for address in wfi + wfe:
            uc.hook_add(UC_HOOK_CODE, self._on_sleep, begin=address, end=address)

        self._build_register_map()
        # core state
        self.instructions = 0
        self.asleep_cycles = 0.0
        self.vtor = self.image_base
        self.nvic_enabled = 0
        self.nvic_soft_pending = 0
        self.lines_high = 0                        # peripheral interrupt lines (bit n = IRQ n)
        self.active: list[int] = []
        self.events: list[_Event] = []
        self._event_order = 0
        self.next_event_cycle = float("inf")
        self.block_sizes: dict[tuple[int, int], int] = {}
        self.pending_return = False
        self.pending_fault: str | None = None
        self.error: Exception | None = None
        self.stop_reason: str | None = None
        self.reset: str | None = None
        # peripherals
        self.uart = bytearray()
        self.pdm_running = False
        self.pdm_position = 0
        self.pdm_buffers = 0
        self.pdm_latched = (0, 0)
        self.pdm_rate = 0.0
        self.hfxo_running = False
        self.hfxo_at_pdm_start = False
        self.led_changes: list = []
        self.awake: list[int] = []
        self._awake_since = 0

    # ---------------------------------------------------------------- registers (SVD)

    def _build_register_map(self) -> None:
        self.regmap: dict[int, tuple[str, str]] = {}       # address -> (peripheral, register)
        self.values: dict[int, int] = {}
        self.inten_events: dict[str, list[tuple[int, int]]] = {}   # peripheral -> [(INTEN bit, EVENTS_ address)]
        self.peripheral_irq: dict[str, int] = {}
        for name in MODELLED:
            peripheral = self.svd.peripherals[name]
            for register in peripheral.registers.values():
                for index in range(register.dim):
                    address = peripheral.base + register.offset + index * register.stride
                    if address in self.regmap and self.regmap[address][1] != register.name:
                        # CLOCK and POWER share a base: keep both names for messages
                        self.regmap[address] = (self.regmap[address][0] + "/" + name, register.name)
                    else:
                        self.regmap[address] = (name, register.name + (f"[{index}]" if register.dim > 1 else ""))
                    self.values[address] = register.reset
            inten = peripheral.registers.get("INTEN")
            if inten is not None:
                self.inten_events[name] = [
                    (f.lsb, peripheral.base + peripheral.registers["EVENTS_" + f.name].offset)
                    for f in inten.fields.values() if "EVENTS_" + f.name in peripheral.registers]
            if peripheral.interrupts:
                self.peripheral_irq[name] = next(iter(peripheral.interrupts.values()))
        self.addr = {name: self.svd.peripherals[name].base for name in MODELLED}

    def reg(self, peripheral: str, register: str) -> int:
        p = self.svd.peripherals[peripheral]
        return p.base + p.registers[register].offset

    def field_value(self, peripheral: str, register: str, field_name: str, value_name: str) -> int:
        return self.svd.peripherals[peripheral].registers[register].fields[field_name].values[value_name]

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = EmulationError(f"{message} (at pc 0x{self.uc.reg_read(self._pc_reg()):08X}, "
                                        f"t = {self.now_seconds * 1000:.3f} ms)")
        self.uc.emu_stop()

    @staticmethod
    def _pc_reg():
        from unicorn.arm_const import UC_ARM_REG_PC

        return UC_ARM_REG_PC

    def _describe(self, address: int) -> str:
        for p in self.svd.peripherals.values():
            if p.base <= address < p.base + 0x1000:
                hit = p.register_at(address - p.base)
                where = f"{p.name}.{hit[0].name}" if hit else f"{p.name} + 0x{address - p.base:03X} (no register)"
                return where + ("" if p.name in MODELLED else " - a peripheral this model does not implement")
        return "no peripheral in nrf52840.svd"

    def _make_mmio(self, base: int):
        def read(uc, offset, size, _user):
            address = base + offset
            if size != 4 or address % 4:
                self._fail(f"{size}-byte read at 0x{address:08X}: peripheral registers are read as 32-bit words")
                return 0
            if address not in self.regmap:
                self._fail(f"read of 0x{address:08X} ({self._describe(address)})")
                return 0
            peripheral, register = self.regmap[address]
            if register in ("INTENSET", "INTENCLR"):
                return self.values[address - (4 if register == "INTENSET" else 8)]
            return self.values[address]

        def write(uc, offset, size, value, _user):
            address = base + offset
            if size != 4 or address % 4:
                self._fail(f"{size}-byte write at 0x{address:08X}: peripheral registers are written as 32-bit words")
                return
            if address not in self.regmap:
                self._fail(f"write of 0x{value:X} to 0x{address:08X} ({self._describe(address)})")
                return
            try:
                self._register_write(address, value & 0xFFFFFFFF)
            except EmulationError as exc:
                self._fail(str(exc))
        return read, write

    # ---------------------------------------------------------------- peripheral behaviour

    @property
    def now_cycles(self) -> float:
        return self.instructions * self.cpi + self.asleep_cycles

    @property
    def now_seconds(self) -> float:
        return self.now_cycles / self.clock_hz

    def _schedule(self, delay_s: float, action) -> None:
        import heapq

        self._event_order += 1
        heapq.heappush(self.events, _Event(self.now_cycles + delay_s * self.clock_hz, self._event_order, action))
        self.next_event_cycle = self.events[0].cycle

    def _run_due_events(self, until_cycle: float) -> None:
        import heapq

        while self.events and self.events[0].cycle <= until_cycle:
            event = heapq.heappop(self.events)
            event.action()
        self.next_event_cycle = self.events[0].cycle if self.events else float("inf")
        self._update_lines()

    def _set_event(self, peripheral: str, register: str) -> None:
        self.values[self.reg(peripheral, register)] = 1

    def _register_write(self, address: int, value: int) -> None:
        peripheral, register = self.regmap[address]
        if register == "INTENSET":
            self.values[address - 4] |= value
        elif register == "INTENCLR":
            self.values[address - 8] &= ~value
        elif register.startswith("TASKS_"):
            self.values[address] = 0
            if value & 1:
                self._task(peripheral, register)
        elif register in ("OUTSET", "OUTCLR", "DIRSET", "DIRCLR"):
            target = address - (4 if register.endswith("SET") else 8)
            old = self.values[target]
            self.values[target] = old | value if register.endswith("SET") else old & ~value
            if register.startswith("OUT"):
                self._log_outputs(peripheral, old, self.values[target])
        elif register == "OUT":
            old = self.values[address]
            self.values[address] = value
            self._log_outputs(peripheral, old, value)
        elif register.startswith("PIN_CNF["):
            # PIN_CNF[n].DIR and DIR bit n are one bit (PS "GPIO": pin configuration)
            self.values[address] = value
            pin = int(register[8:-1])
            direction = self.reg(peripheral, "DIR")
            self.values[direction] = self.values[direction] & ~(1 << pin) | (value & 1) << pin
        else:
            self.values[address] = value
        self._update_lines()

    def _log_outputs(self, port: str, old: int, new: int) -> None:
        for pin in range(32):
            if (old ^ new) >> pin & 1:
                self.led_changes.append((self.now_seconds, f"P{port[1]}.{pin:02d}", new >> pin & 1))

    def _task(self, peripheral: str, register: str) -> None:
        if (peripheral.startswith("CLOCK") or peripheral.endswith("CLOCK")) and register == "TASKS_HFCLKSTART":
            def started():
                self.hfxo_running = True
                self._set_event("CLOCK", "EVENTS_HFCLKSTARTED")
                status = self.svd.peripherals["CLOCK"].registers["HFCLKSTAT"].fields
                self.values[self.reg("CLOCK", "HFCLKSTAT")] = (
                    status["SRC"].values["Xtal"] << status["SRC"].lsb | status["STATE"].values["Running"] << status["STATE"].lsb)
            self._schedule(HFXO_STARTUP_S, started)
        elif peripheral == "PDM" and register == "TASKS_START":
            self._pdm_start()
        elif peripheral == "PDM" and register == "TASKS_STOP":
            self.pdm_running = False
            self._set_event("PDM", "EVENTS_STOPPED")
        elif peripheral == "UARTE0" and register == "TASKS_STARTTX":
            self._uart_start()
        elif peripheral == "UARTE0" and register == "TASKS_STOPTX":
            self._set_event("UARTE0", "EVENTS_TXSTOPPED")
        else:
            raise EmulationError(f"task {peripheral}.{register} is not modelled")

    def _ram_range(self, pointer: int, length: int, what: str) -> None:
        if not (RAM[0] <= pointer and pointer + length <= RAM[0] + RAM[1]):
            raise EmulationError(f"{what}: EasyDMA buffer 0x{pointer:08X}..+{length} is not in Data RAM "
                                 f"(PS 'EasyDMA': EasyDMA reaches RAM only)")

    def _pdm_start(self) -> None:
        read = lambda r: self.values[self.reg("PDM", r)]
        if read("ENABLE") != self.field_value("PDM", "ENABLE", "ENABLE", "Enabled"):
            raise EmulationError("PDM TASKS_START while PDM.ENABLE is not Enabled")
        fields = self.svd.peripherals["PDM"].registers
        freq = {v: k for k, v in fields["PDMCLKCTRL"].fields["FREQ"].values.items()}.get(read("PDMCLKCTRL"))
        ratio = {0: 64, 1: 80}[read("RATIO") & 1]
        if freq is None:
            raise EmulationError(f"PDM.PDMCLKCTRL = 0x{read('PDMCLKCTRL'):08X} is none of the SVD's FREQ values")
        self.pdm_rate = 32e6 / PDM_CLOCK_DIVIDERS[freq] / ratio
        if abs(self.pdm_rate - self.wav_rate) > 1e-6:
            raise EmulationError(f"the firmware configured the PDM for {self.pdm_rate:.1f} Hz (PDMCLKCTRL {freq}, "
                                 f"ratio {ratio}); the audio is {self.wav_rate} Hz")
        if read("MODE") & 1 != self.field_value("PDM", "MODE", "OPERATION", "Mono"):
            raise EmulationError("PDM.MODE.OPERATION is Stereo: the model delivers mono samples only")
        if read("GAINL") != self.field_value("PDM", "GAINL", "GAINL", "DefaultGain"):
            raise EmulationError(f"PDM.GAINL = 0x{read('GAINL'):X}: only the default gain (0 dB) is modelled")
        self.hfxo_at_pdm_start = self.hfxo_running
        self.pdm_running = True
        self._pdm_buffer_start()

    def _pdm_buffer_start(self) -> None:
        pointer = self.values[self.reg("PDM", "SAMPLE_PTR")]
        count = self.values[self.reg("PDM", "SAMPLE_MAXCNT")] & 0x7FFF
        if count == 0:
            raise EmulationError("PDM buffer started with SAMPLE.MAXCNT = 0")
        self._ram_range(pointer, 2 * count, "PDM SAMPLE.PTR")
        self.pdm_latched = (pointer, count)
        self._set_event("PDM", "EVENTS_STARTED")
        if self.pdm_position + count <= len(self.pcm):
            self._schedule(count / self.pdm_rate, self._pdm_buffer_end)

    def _pdm_buffer_end(self) -> None:
        if not self.pdm_running:
            return
        pointer, count = self.pdm_latched
        self.uc.mem_write(pointer, self.pcm[self.pdm_position:self.pdm_position + count].tobytes())
        self.pdm_position += count
        self.pdm_buffers += 1
        self._set_event("PDM", "EVENTS_END")
        self._pdm_buffer_start()

    def _uart_start(self) -> None:
        read = lambda r: self.values[self.reg("UARTE0", r)]
        if read("ENABLE") != self.field_value("UARTE0", "ENABLE", "ENABLE", "Enabled"):
            raise EmulationError("UARTE0 TASKS_STARTTX while UARTE0.ENABLE is not Enabled (8)")
        if read("PSEL_TXD") >> 31:
            raise EmulationError("UARTE0 TASKS_STARTTX with PSEL.TXD disconnected")
        bauds = {v: k for k, v in self.svd.peripherals["UARTE0"].registers["BAUDRATE"].fields["BAUDRATE"].values.items()}
        name = bauds.get(read("BAUDRATE"))
        if name is None:
            raise EmulationError(f"UARTE0.BAUDRATE = 0x{read('BAUDRATE'):08X} is none of the SVD's values")
        baud = 1_000_000 if name == "Baud1M" else int(name[4:])
        pointer, count = read("TXD_PTR"), read("TXD_MAXCNT") & 0xFFFF
        self._ram_range(pointer, count, "UARTE0 TXD.PTR")
        self.uart += self.uc.mem_read(pointer, count)
        self._set_event("UARTE0", "EVENTS_TXSTARTED")

        def ended():
            self.values[self.reg("UARTE0", "TXD_AMOUNT")] = count
            self._set_event("UARTE0", "EVENTS_ENDTX")
        self._schedule(count * 10 / baud, ended)

    def _update_lines(self) -> None:
        lines = 0
        for peripheral, pairs in self.inten_events.items():
            inten = self.values[self.reg(peripheral, "INTEN")]
            if any(inten >> bit & 1 and self.values[event] for bit, event in pairs):
                lines |= 1 << self.peripheral_irq[peripheral]
        self.lines_high = lines

    # ---------------------------------------------------------------- system control space

    def _scs_read(self, uc, offset, size, _user):
        address = SCS[0] + offset
        if 0xE000E100 <= address < 0xE000E180:
            return self.nvic_enabled >> (32 * ((address - 0xE000E100) // 4)) & 0xFFFFFFFF
        if 0xE000E200 <= address < 0xE000E280:
            return self._pending() >> (32 * ((address - 0xE000E200) // 4)) & 0xFFFFFFFF
        if address == 0xE000ED00:
            return 0x410FC241                       # CPUID: Cortex-M4 r0p1
        if address == 0xE000ED08:
            return self.vtor
        self._fail(f"read of system register 0x{address:08X}, which the model does not implement")
        return 0

    def _scs_write(self, uc, offset, size, value, _user):
        address = SCS[0] + offset
        word = lambda base: 32 * ((address - base) // 4)
        if 0xE000E100 <= address < 0xE000E180:
            self.nvic_enabled |= value << word(0xE000E100)
        elif 0xE000E180 <= address < 0xE000E200:
            self.nvic_enabled &= ~(value << word(0xE000E180))
        elif 0xE000E200 <= address < 0xE000E280:
            self.nvic_soft_pending |= value << word(0xE000E200)
        elif 0xE000E280 <= address < 0xE000E300:
            self.nvic_soft_pending &= ~(value << word(0xE000E280))
        elif address == 0xE000ED08:
            self.vtor = value & 0xFFFFFF80
        elif address == 0xE000ED0C:
            if value >> 16 == 0x05FA and value & 0x4:
                self.reset = "SYSRESETREQ (the firmware requested a system reset)"
                self.stop_reason = "reset"
                uc.emu_stop()
        elif 0xE000E400 <= address < 0xE000E500:
            if value:
                self._fail("interrupt priorities (NVIC IPR) are not modelled: every interrupt has priority 0")
        else:
            self._fail(f"write of 0x{value:X} to system register 0x{address:08X}, which the model does not implement")

    def _pending(self) -> int:
        return self.nvic_soft_pending | self.lines_high

    # ---------------------------------------------------------------- exceptions

    def _take_interrupt(self, return_address: int) -> bool:
        """Enter the lowest-numbered pending enabled interrupt if the core may take it now."""
        from unicorn.arm_const import UC_ARM_REG_PRIMASK, UC_ARM_REG_XPSR

        ready = self._pending() & self.nvic_enabled
        if not ready or self.active or self.uc.reg_read(UC_ARM_REG_PRIMASK) & 1:
            return False
        if self.uc.reg_read(UC_ARM_REG_XPSR) & 0x0600FC00:     # inside an IT block: at the next block
            return False
        irq = (ready & -ready).bit_length() - 1
        self.nvic_soft_pending &= ~(1 << irq)
        self._enter(16 + irq, return_address)
        return True

    def _enter(self, exception: int, return_address: int) -> None:
        from unicorn.arm_const import (UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2,
                                       UC_ARM_REG_R3, UC_ARM_REG_R12, UC_ARM_REG_SP, UC_ARM_REG_XPSR)

        uc = self.uc
        sp = uc.reg_read(UC_ARM_REG_SP)
        xpsr = (uc.reg_read(UC_ARM_REG_XPSR) & ~0x1FF) | (self.active[-1] if self.active else 0) | 1 << 24
        if sp & 4:
            sp -= 4
            xpsr |= 1 << 9
        sp -= 32
        if not RAM[0] + 0x100 <= sp < RAM[0] + RAM[1]:
            raise EmulationError(f"exception {exception}: the stack pointer 0x{sp:08X} left RAM (stack overflow)")
        frame = [uc.reg_read(r) for r in (UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3,
                                          UC_ARM_REG_R12, UC_ARM_REG_LR)] + [return_address & ~1, xpsr]
        uc.mem_write(sp, struct.pack("<8I", *frame))
        uc.reg_write(UC_ARM_REG_SP, sp)
        uc.reg_write(UC_ARM_REG_LR, EXC_RETURN_HANDLER_MSP if self.active else EXC_RETURN_THREAD_MSP)
        handler = struct.unpack("<I", uc.mem_read(self.vtor + 4 * exception, 4))[0]
        if not handler & 1:
            raise EmulationError(f"vector {exception} at 0x{self.vtor + 4 * exception:08X} is 0x{handler:08X}: "
                                 f"not a Thumb handler address")
        self.active.append(exception)
        uc.reg_write(UC_ARM_REG_PC, handler)

    def _exception_return(self) -> None:
        from unicorn.arm_const import (UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2,
                                       UC_ARM_REG_R3, UC_ARM_REG_R12, UC_ARM_REG_SP, UC_ARM_REG_XPSR)

        uc = self.uc
        if not self.active:
            raise EmulationError("exception return (branch to 0xFFFFFFFx) outside any exception")
        self.active.pop()
        sp = uc.reg_read(UC_ARM_REG_SP)
        r0, r1, r2, r3, r12, lr, pc, xpsr = struct.unpack("<8I", uc.mem_read(sp, 32))
        sp += 32 + (4 if xpsr >> 9 & 1 else 0)
        for reg, value in zip((UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R12,
                               UC_ARM_REG_LR), (r0, r1, r2, r3, r12, lr)):
            uc.reg_write(reg, value)
        uc.reg_write(UC_ARM_REG_SP, sp)
        uc.reg_write(UC_ARM_REG_XPSR, (xpsr & 0xF80F0000) | 1 << 24)
        uc.reg_write(UC_ARM_REG_PC, pc | 1)
        # tail-chaining: another pending interrupt is entered without running thread code
        self._take_interrupt(pc)

    # ---------------------------------------------------------------- hooks

    def _block_instructions(self, address: int, size: int) -> int:
        key = (address, size)
        count = self.block_sizes.get(key)
        if count is None:
            code = bytes(self.uc.mem_read(address, size))
            count, at = 0, 0
            while at < len(code):
                halfword = code[at] | code[at + 1] << 8
                at += 4 if halfword >> 11 in (0b11101, 0b11110, 0b11111) else 2
                count += 1
            self.block_sizes[key] = count
        return count

    def _on_block(self, uc, address, size, _user):
        if (self.lines_high | self.nvic_soft_pending) & self.nvic_enabled and not self.active:
            try:
                if self._take_interrupt(address):
                    return
            except EmulationError as exc:
                self._fail(str(exc))
                return
        self.instructions += self._block_instructions(address, size)
        if self.instructions * self.cpi + self.asleep_cycles >= self.next_event_cycle:
            self._run_due_events(self.now_cycles)
        if self.max_cycles is not None and self.now_cycles > self.max_cycles:
            self._fail(f"the run passed its limit of {self.max_cycles / self.clock_hz:g} s of emulated time")

    def _on_sleep(self, uc, address, size, _user):
        """WFI (and WFE, treated alike: the firmware's events are all interrupts): sleep until an
        enabled interrupt is pending; the clock jumps from event to event meanwhile."""
        self.awake.append(self.instructions - self._awake_since)
        while not self._pending() & self.nvic_enabled:
            if not self.events:
                self.stop_reason = "idle: the audio has ended and no event is scheduled"
                uc.emu_stop()
                return
            target = self.events[0].cycle
            if target > self.now_cycles:
                self.asleep_cycles += target - self.now_cycles
            self._run_due_events(self.now_cycles)
        self._awake_since = self.instructions
        uc.reg_write(self._pc_reg(), (address + size) | 1)

    def _on_interrupt(self, uc, number, _user):
        from unicorn.arm_const import UC_ARM_REG_PC

        if number == EXCP_EXCEPTION_EXIT:
            self.pending_return = True
        else:
            self.pending_fault = (f"CPU exception {number} ({'undefined instruction' if number == EXCP_UDEF else 'fault'}) "
                                  f"at 0x{uc.reg_read(UC_ARM_REG_PC):08X}")
        uc.emu_stop()

    # ---------------------------------------------------------------- run

    def run(self) -> EmulationResult:
        from unicorn import UcError
        from unicorn.arm_const import UC_ARM_REG_PC, UC_ARM_REG_SP

        uc = self.uc
        stack, reset = struct.unpack("<II", uc.mem_read(self.image_base, 8))
        uc.reg_write(UC_ARM_REG_SP, stack)
        pc = reset
        started = time.perf_counter()
        while self.stop_reason is None:
            try:
                uc.emu_start(pc | 1, 0)
            except UcError as exc:
                if self.error is None and self.stop_reason is None:
                    self.pending_fault = f"{exc} at 0x{uc.reg_read(UC_ARM_REG_PC):08X}"
            if self.error is not None:
                raise self.error
            pc = uc.reg_read(UC_ARM_REG_PC)
            try:
                if self.pending_return:
                    self.pending_return = False
                    self._exception_return()
                elif self.pending_fault is not None:
                    if HARDFAULT in self.active:
                        raise EmulationError(f"lockup: {self.pending_fault} inside the HardFault handler")
                    fault, self.pending_fault = self.pending_fault, None
                    self.fault_log = fault
                    self._enter(HARDFAULT, pc)
            except EmulationError as exc:
                raise EmulationError(f"{exc} (t = {self.now_seconds * 1000:.3f} ms)") from None
            pc = uc.reg_read(UC_ARM_REG_PC)
        pins = {}
        for key, register in (("pdm_clk", ("PDM", "PSEL_CLK")), ("pdm_din", ("PDM", "PSEL_DIN")),
                              ("uart_tx", ("UARTE0", "PSEL_TXD"))):
            value = self.values[self.reg(*register)]
            pins[key] = None if value >> 31 else f"P{value >> 5 & 1}.{value & 31:02d}"
        outputs = {}
        for port in ("P0", "P1"):
            out, direction = self.values[self.reg(port, "OUT")], self.values[self.reg(port, "DIR")]
            for pin in range(32):
                if direction >> pin & 1:
                    outputs[f"P{port[1]}.{pin:02d}"] = out >> pin & 1
        return EmulationResult(
            uart=self.uart.decode("ascii", errors="backslashreplace"), instructions=self.instructions,
            cpi=self.cpi, clock_hz=self.clock_hz, active_cycles=self.instructions * self.cpi,
            asleep_cycles=self.asleep_cycles, buffers=self.pdm_buffers, samples=self.pdm_position,
            sample_rate=self.pdm_rate, awake_instructions=self.awake, pins=pins, outputs=outputs,
            led_changes=self.led_changes, hfxo_running_at_pdm_start=self.hfxo_at_pdm_start, reset=self.reset,
            wall_seconds=time.perf_counter() - started)


def run_device_elf(elf: str | Path, pcm, sample_rate: int = 16000, cpi: float = DEFAULT_CPI,
                   clock_hz: int = CLOCK_HZ, max_seconds: float | None = None) -> EmulationResult:
    """Runs the device ELF on the emulated nRF52840 with `pcm` at the PDM until the audio ends
    and the firmware sleeps with nothing left to do (or resets)."""
    if max_seconds is None:
        max_seconds = len(pcm) / sample_rate + 5.0
    return Nrf52840(elf, pcm, sample_rate, cpi, clock_hz, max_seconds).run()
