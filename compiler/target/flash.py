"""What a user flashes onto a real board, and how: `silifc flash MODEL --board B`.

`flash_artefacts` turns a linked device ELF into the files the board's tools take: .hex and
.bin (objcopy; the binary starts at the board's flash origin) and, for UF2 bootloaders, .uf2
(uf2.py). `flash` puts them on the board with its method (the board file's
device.flash_method, or --method):
* pyocd: `python -m pyocd flash -t <target>` through an SWD probe (CMSIS-DAP, J-Link, ST-Link);
  pyocd is an optional extra: pip install 'silifc[flash]'.
* bossac: the Arduino bootloader (BOSSA protocol over the board's USB serial port), with
  Arduino's command line `bossac -d --port=<port> -U -i -e -w <bin> -R`.
* uf2: copy the .uf2 file to the bootloader's USB drive (it has an INFO_UF2.TXT).
When no probe, port or drive is found, FlashError says what was looked for and how to fix it.
"""
from __future__ import annotations

import os
import shutil

import sys
from dataclasses import dataclass
from pathlib import Path

from ..codegen.boards import FLASH_METHODS, Board, require_device_board
from ..errors import SilifcError
from .processes import run_child
from .toolchain import FirmwareBuildError, FirmwareImage, tool
from .uf2 import bin_to_uf2

ARDUINO_USB_VENDORS = {"2341": "Arduino", "2a03": "Arduino (arduino.org)"}
SERIAL_PATTERNS = ("ttyACM*", "ttyUSB*")
UF2_INFO = "INFO_UF2.TXT"
UF2_MOUNT_ROOTS = ("/media", "/run/media", "/mnt", "/Volumes")


class FlashError(SilifcError):
    pass


@dataclass(frozen=True)
class FlashImage:
    """A linked device firmware and the copies of it a board's flashing tools take."""

    firmware: FirmwareImage
    hex: Path
    bin: Path
    uf2: Path | None             # UF2 boards only

    @property
    def elf(self) -> Path:
        return self.firmware.elf

    @property
    def board(self) -> Board:
        return self.firmware.board

    @property
    def flash_used(self) -> int:
        return self.firmware.flash_used

    @property
    def ram_used(self) -> int:
        return self.firmware.ram_used

    @property
    def artefacts(self) -> list[Path]:
        return [p for p in (self.elf, self.hex, self.bin, self.uf2) if p is not None]


def flash_artefacts(firmware: FirmwareImage) -> FlashImage:
    """<elf>.hex and <elf>.bin next to the ELF (objcopy), and <elf>.uf2 for UF2 boards.
    Cheap (milliseconds): written on every call, so they always match the ELF."""
    board = firmware.board
    device = require_device_board(board)
    elf = firmware.elf
    image = FlashImage(firmware, elf.with_suffix(".hex"), elf.with_suffix(".bin"),
                       elf.with_suffix(".uf2") if device.flash_method == "uf2" else None)
    objcopy = tool("arm-none-eabi-objcopy")
    for fmt, path in (("ihex", image.hex), ("binary", image.bin)):
        result = run_child([objcopy, "-O", fmt, str(elf), str(path)], text=True)
        if result.returncode != 0:
            raise FirmwareBuildError(f"arm-none-eabi-objcopy -O {fmt} {elf} failed: {result.stderr.strip()}")
    if image.uf2 is not None:
        image.uf2.write_bytes(bin_to_uf2(image.bin.read_bytes(), board.flash.origin, device.uf2_family))
    return image


def serial_ports(dev_dir: Path = Path("/dev"), sys_dir: Path = Path("/sys/class/tty")) -> list[tuple[str, str | None]]:
    """USB serial ports and their USB vendor IDs (None when unknown)."""
    ports = []
    for pattern in SERIAL_PATTERNS:
        for device in sorted(dev_dir.glob(pattern)):
            vendor = None
            for parent in (sys_dir / device.name / "device").resolve().parents if (sys_dir / device.name).exists() else ():
                if (parent / "idVendor").is_file():
                    vendor = (parent / "idVendor").read_text().strip().lower()
                    break
            ports.append((str(device), vendor))
    return ports


def uf2_drives(roots=UF2_MOUNT_ROOTS, mounts: Path = Path("/proc/mounts")) -> list[Path]:
    """Mounted folders holding the UF2 bootloader's INFO_UF2.TXT."""
    candidates = []
    for root in map(Path, roots):
        if root.is_dir():
            for child in root.iterdir():
                candidates += [child] + (list(child.iterdir()) if child.is_dir() and not (child / UF2_INFO).exists()
                                         else [])
    if mounts.is_file():
        candidates += [Path(line.split()[1]) for line in mounts.read_text().splitlines() if len(line.split()) > 1]
    found = []
    for path in candidates:
        try:
            if (path / UF2_INFO).is_file() and path not in found:
                found.append(path)
        except OSError:
            continue
    return found


def pyocd_probes() -> list[str]:
    """Unique IDs of the debug probes pyocd sees (FlashError if pyocd is not installed)."""
    try:
        from pyocd.core.helpers import ConnectHelper
    except ImportError as exc:
        raise FlashError("pyocd is not installed, so no SWD probe can be used: pip install 'silifc[flash]' "
                         f"(or pip install pyocd) ({exc})") from exc
    try:
        probes = ConnectHelper.get_all_connected_probes(blocking=False, print_wait_message=False)
    except Exception as exc:  # pyocd reports USB back-end problems as various exceptions
        raise FlashError(f"pyocd could not list debug probes: {exc}") from exc
    return [probe.unique_id for probe in probes]


def flash(image: FlashImage, method: str | None = None, port: str | None = None, drive: str | None = None,
          probe: str | None = None, progress=None) -> str:
    """Put `image` on its board; returns what was done."""
    board = image.board
    method = method or require_device_board(board).flash_method
    say = progress or (lambda message: None)
    if method == "uf2":
        return _flash_uf2(image, board, drive, say)
    if method == "bossac":
        return _flash_bossac(image, board, port, say)
    if method == "pyocd":
        return _flash_pyocd(image, board, probe, say)
    raise FlashError(f"unknown flash method {method!r}; choose one of {', '.join(FLASH_METHODS)}")


def _flash_uf2(image, board, drive, say) -> str:
    if image.uf2 is None:
        raise FlashError(f"board {board.name} has no UF2 bootloader (device.flash_method is "
                         f"{board.device.flash_method}): no .uf2 was built; use --method {board.device.flash_method}")
    if drive is not None:
        target = Path(drive)
        if not (target / UF2_INFO).is_file():
            raise FlashError(f"{target} is not a UF2 bootloader drive (no {UF2_INFO} there): double-tap the board's "
                             f"RESET button so that its drive appears, and pass that folder with --drive")
    else:
        drives = uf2_drives()
        if not drives:
            raise FlashError(
                f"no UF2 bootloader drive found for {board.name}: looked for a mounted drive holding {UF2_INFO} "
                f"under {', '.join(UF2_MOUNT_ROOTS)} and in the mount table (/proc/mounts). Fix: connect the board "
                f"by USB and double-tap its RESET button (a drive such as XIAO-SENSE appears), mount it if your "
                f"system does not, then run again, or pass the drive's folder with --drive.")
        if len(drives) > 1:
            raise FlashError(f"several UF2 drives found ({', '.join(map(str, drives))}); choose one with --drive")
        target = drives[0]
    say(f"copying {image.uf2.name} to the UF2 drive {target}")
    destination = target / "silifc.uf2"
    shutil.copyfile(image.uf2, destination)
    fd = os.open(destination, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return f"copied {image.uf2} to {destination}; the bootloader writes it and restarts the board"


def _flash_bossac(image, board, port, say) -> str:
    ports = serial_ports()
    if port is None:
        arduino = [device for device, vendor in ports if vendor in ARDUINO_USB_VENDORS]
        if not arduino:
            seen = ", ".join(f"{d} (USB vendor {v or 'unknown'})" for d, v in ports) or "none"
            raise FlashError(
                f"no Arduino bootloader serial port found for {board.name}: looked for USB serial ports "
                f"(/dev/{', /dev/'.join(SERIAL_PATTERNS)}) of USB vendor "
                f"{' or '.join(f'0x{v} ({n})' for v, n in ARDUINO_USB_VENDORS.items())}; found: {seen}. Fix: "
                f"connect the board by USB and double-tap its RESET button (the orange LED pulses in the "
                f"bootloader), then run again, or pass the port with --port /dev/ttyACMn.")
        if len(arduino) > 1:
            raise FlashError(f"several Arduino serial ports found ({', '.join(arduino)}); choose one with --port")
        port = arduino[0]
    bossac = shutil.which("bossac")
    if bossac is None:
        raise FlashError("bossac is not on PATH: install it (Debian: apt-get install bossa-cli). The Nano 33 BLE's "
                         "bootloader needs Arduino's bossac build (1.9.1-arduino2, installed with the Arduino IDE's "
                         "nRF52 mbed core); pass its folder on PATH. Or flash over SWD with --method pyocd.")
    command = [bossac, "-d", f"--port={Path(port).name}", "-U", "-i", "-e", "-w", str(image.bin), "-R"]
    say(" ".join(command))
    result = run_child(command, text=True)
    if result.returncode != 0:
        raise FlashError(f"bossac failed (exit status {result.returncode}):\n{(result.stdout + result.stderr).strip()}")
    return f"flashed {image.bin} through {port} with bossac"


def _flash_pyocd(image, board, probe, say) -> str:
    probes = pyocd_probes()
    if probe is None and not probes:
        raise FlashError(
            f"no debug probe found for {board.name}: pyocd looked for CMSIS-DAP (v1 HID and v2 bulk), SEGGER J-Link "
            f"and ST-Link probes on USB and found none. Fix: connect the probe (on the nRF52840 DK: the USB port "
            f"of the on-board J-Link; pyocd uses J-Link probes through SEGGER's J-Link software, or reprogram the "
            f"interface MCU with CMSIS-DAP firmware) and check that your user may access it (udev rules), then "
            f"run again; `pyocd list` shows what pyocd sees. Several probes: choose one with --probe UID.")
    if probe is None and len(probes) > 1:
        raise FlashError(f"several debug probes found ({', '.join(probes)}); choose one with --probe UID")
    command = [sys.executable, "-m", "pyocd", "flash", "-t", board.device.pyocd_target,
               "-u", probe or probes[0], str(image.hex)]
    say(" ".join(command))
    result = run_child(command, text=True)
    if result.returncode != 0:
        raise FlashError(f"pyocd flash failed (exit status {result.returncode}):\n"
                         f"{(result.stdout + result.stderr).strip()}")
    return f"flashed {image.hex} with pyocd (target {board.device.pyocd_target}, probe {probe or probes[0]})"
