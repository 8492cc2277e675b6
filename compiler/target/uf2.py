"""UF2 files for drag-and-drop bootloaders (the XIAO's Adafruit nRF52 bootloader).

The format (Microsoft's UF2 specification, github.com/microsoft/uf2, README "File format"):
512-byte blocks, each with 32 header bytes (magic 0x0A324655, magic 0x9E5D5157, flags, target
address, payload size, block number, number of blocks, family ID when flag 0x2000 is set),
476 data bytes of which the first `payload size` are used, and the final magic 0x0AB16F30. The
bootloader writes each block's payload at its address; blocks carry 256 bytes here, the size
the specification recommends and the nRF52 bootloader expects.
"""
from __future__ import annotations

import struct

UF2_MAGIC_START0 = 0x0A324655
UF2_MAGIC_START1 = 0x9E5D5157
UF2_MAGIC_END = 0x0AB16F30
UF2_FLAG_FAMILY_ID = 0x00002000
BLOCK_SIZE = 512
PAYLOAD = 256
DATA_SPACE = 476


def bin_to_uf2(image: bytes, base_address: int, family_id: int) -> bytes:
    """A flat binary that starts at base_address -> UF2 blocks of 256 bytes."""
    if base_address % PAYLOAD:
        raise ValueError(f"UF2 base address 0x{base_address:X} must be a multiple of {PAYLOAD}")
    chunks = [image[i:i + PAYLOAD] for i in range(0, len(image), PAYLOAD)] or [b""]
    blocks = []
    for number, chunk in enumerate(chunks):
        header = struct.pack("<8I", UF2_MAGIC_START0, UF2_MAGIC_START1, UF2_FLAG_FAMILY_ID,
                             base_address + number * PAYLOAD, PAYLOAD, number, len(chunks), family_id)
        data = chunk.ljust(DATA_SPACE, b"\0")
        blocks.append(header + data + struct.pack("<I", UF2_MAGIC_END))
    return b"".join(blocks)


def uf2_to_bin(data: bytes) -> tuple[int, int, bytes]:
    """UF2 -> (family ID, first address, flat image); checks every block's magics and numbering."""
    if len(data) % BLOCK_SIZE or not data:
        raise ValueError(f"a UF2 file is a whole number of {BLOCK_SIZE}-byte blocks; got {len(data)} bytes")
    blocks = [data[i:i + BLOCK_SIZE] for i in range(0, len(data), BLOCK_SIZE)]
    image = bytearray()
    family = first = None
    for number, block in enumerate(blocks):
        m0, m1, flags, address, size, index, total, fam = struct.unpack_from("<8I", block)
        (end,) = struct.unpack_from("<I", block, BLOCK_SIZE - 4)
        if (m0, m1, end) != (UF2_MAGIC_START0, UF2_MAGIC_START1, UF2_MAGIC_END):
            raise ValueError(f"UF2 block {number}: bad magic numbers")
        if index != number or total != len(blocks) or not flags & UF2_FLAG_FAMILY_ID:
            raise ValueError(f"UF2 block {number}: block {index} of {total}, flags 0x{flags:X}")
        family = fam if family is None else family
        first = address if first is None else first
        if address != first + len(image) or fam != family:
            raise ValueError(f"UF2 block {number}: address 0x{address:X} or family 0x{fam:X} out of sequence")
        image += block[32:32 + size]
    return family, first, bytes(image)
