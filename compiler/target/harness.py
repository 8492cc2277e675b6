"""Binary files exchanged with the test firmware over semihosting.

Input (`SLFI`), little-endian:
    char magic[4] = "SLFI"; uint32 version = 1; uint32 samples; uint32 steps; uint32 inputs;
    then per sample, per step: uint32 n_events, then n_events x (uint16 index, uint16 count)
Output (`SLFO`), written by the firmware:
    char magic[4] = "SLFO"; uint32 version = 1; uint32 samples; uint32 classes;
    uint32 n_layers; uint32 record_spikes; then per sample:
        if record_spikes: per step, per spiking layer: uint32 n, uint16 index[n] (padded to 4 bytes)
        int32 totals[classes]; int32 decision
    (the spikes come first: the harness writes them while the sample runs, the totals after it)
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

INPUT_MAGIC = b"SLFI"
OUTPUT_MAGIC = b"SLFO"
VERSION = 1


def encode_events(counts: np.ndarray) -> bytes:
    """[B, T, n_inputs] counts -> SLFI bytes (events sorted by input index)."""
    counts = np.asarray(counts)
    if counts.ndim != 3:
        raise ValueError("counts must be [samples, steps, inputs]")
    if counts.max(initial=0) > 0xFFFF:
        raise ValueError("an event count exceeds 65535")
    samples, steps, inputs = counts.shape
    parts = [INPUT_MAGIC, struct.pack("<4I", VERSION, samples, steps, inputs)]
    for sample in range(samples):
        for step in range(steps):
            index = np.flatnonzero(counts[sample, step])
            record = np.empty((index.size, 2), dtype="<u2")
            record[:, 0] = index
            record[:, 1] = counts[sample, step, index]
            parts.append(struct.pack("<I", index.size))
            parts.append(record.tobytes())
    return b"".join(parts)


@dataclass(frozen=True, eq=False)
class FirmwareOutput:
    totals: np.ndarray            # [B, classes] int64
    decisions: np.ndarray         # [B]
    spikes: tuple | None          # per spiking layer [B, T, width] uint8, when recorded


def decode_output(data: bytes, steps: int, widths: tuple[int, ...]) -> FirmwareOutput:
    """Parse SLFO bytes; `widths` are the spiking layers' widths (for spike arrays)."""
    if data[:4] != OUTPUT_MAGIC:
        raise ValueError(f"firmware output does not start with {OUTPUT_MAGIC!r} (got {data[:4]!r})")
    version, samples, classes, n_layers, record = struct.unpack_from("<5I", data, 4)
    if version != VERSION or n_layers != len(widths):
        raise ValueError(f"firmware output version {version} with {n_layers} layers; expected "
                         f"{VERSION} with {len(widths)}")
    offset = 24
    totals = np.zeros((samples, classes), np.int64)
    decisions = np.zeros(samples, np.int64)
    spikes = tuple(np.zeros((samples, steps, w), np.uint8) for w in widths) if record else None
    for sample in range(samples):
        if record:
            for step in range(steps):
                for layer in range(n_layers):
                    (n,) = struct.unpack_from("<I", data, offset)
                    offset += 4
                    index = np.frombuffer(data, "<u2", n, offset)
                    spikes[layer][sample, step, index] = 1
                    offset += 2 * n + (2 if n % 2 else 0)
        totals[sample] = np.frombuffer(data, "<i4", classes, offset)
        offset += 4 * classes
        decisions[sample] = struct.unpack_from("<i", data, offset)[0]
        offset += 4
    if offset != len(data):
        raise ValueError(f"firmware output has {len(data) - offset} unexpected trailing bytes")
    return FirmwareOutput(totals=totals, decisions=decisions, spikes=spikes)


def complete_samples(data: bytes, steps: int, n_layers: int) -> int:
    """Samples whose records are complete in the first bytes of an SLFO file the firmware is
    still writing (for progress; 0 while the header is incomplete)."""
    if len(data) < 24 or data[:4] != OUTPUT_MAGIC:
        return 0
    classes, layers, record = struct.unpack_from("<3I", data, 12)
    if not record:
        return (len(data) - 24) // (4 * classes + 4)
    offset, done = 24, 0
    while True:
        for _ in range(steps * layers):
            if offset + 4 > len(data):
                return done
            (n,) = struct.unpack_from("<I", data, offset)
            offset += 4 + 2 * n + (2 if n % 2 else 0)
        offset += 4 * classes + 4
        if offset > len(data):
            return done
        done += 1
