"""Dense synaptic kernels (runtime_c/src/{portable,dsp}/slf_dense_*.c): exact against numpy, host and QEMU.

A small driver replays seeded cases (shapes off the kernels' block sizes, weights at the int8
limits, repeated events, large counts, rings with a head != 0, argument errors) and writes
the ring after each call; every result must equal numpy's exactly. The host build runs the
portable path under sanitizers; QEMU runs the DSP path on Cortex-M4/M7/M33 and the portable
path on Cortex-M4 and M0.
"""
from __future__ import annotations

import struct
import subprocess
import textwrap

import numpy as np
import pytest

from runtime_harness import build

from silifc.codegen.emit import dense_weight_table

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
STATUS = {"ok": 0, "null": -1, "shape": -2, "index": -3, "capacity": -4}
MAX_DATA, MAX_IN, MAX_OUT, MAX_SLOTS, MAX_EVENTS = 24 * 1024, 520, 160, 1024, 256

DRIVER = textwrap.dedent(r"""
    /* Dense-kernel test driver: records of uint32 fields, see tests/test_dense.py. */
    #include <stddef.h>
    #include <stdint.h>

    #include "driver_io.h"
    #include "silifc.h"

    enum { MAX_DATA = %(MAX_DATA)d, MAX_IN = %(MAX_IN)d, MAX_OUT = %(MAX_OUT)d, MAX_SLOTS = %(MAX_SLOTS)d,
           MAX_EVENTS = %(MAX_EVENTS)d };
    static uint32_t data_words[MAX_DATA / 4 + 1];
    static int32_t row_sum[MAX_OUT];
    static uint8_t spiked[MAX_IN + 4];
    static slf_event events[MAX_EVENTS];
    static int32_t slots[MAX_SLOTS];
    static uint32_t scratch[MAX_IN];

    static int truncated;

    static uint32_t u32(void)
    {
        uint32_t v = 0xFFFFFFFFu;
        if (io_read(&v, 4) != 4u) {
            truncated = 1;
        }
        return v;
    }

    static void bytes(void *p, uint32_t n)
    {
        io_read(p, n);
        if (n %% 4u) {
            uint32_t pad;
            io_read(&pad, 4u - n %% 4u);
        }
    }

    int driver_main(void)
    {
        for (;;) {
            uint32_t kind = u32(), k;
            if (kind == 0xFFFFFFFFu) {
                return truncated ? 20 : 0;
            }
            uint32_t n_in = u32(), n_out = u32(), offset = u32(), n_data = u32();
            uint8_t *data = (uint8_t *)data_words + offset;
            bytes(data, n_data);
            bytes(row_sum, 4u * n_out);
            uint32_t flags = u32(); /* bit 0: NULL weights, bit 1: NULL input, bit 2: wrong width */
            uint32_t scratch_words = u32();
            uint32_t n_events = 0;
            if (kind == 0) {
                bytes(spiked, n_in);
            } else if (kind == 1) {
                n_events = u32();
                for (k = 0; k < n_events; k++) {
                    uint32_t e = u32();
                    events[k].index = (uint16_t)(e & 0xFFFFu);
                    events[k].count = (uint8_t)(e >> 16);
                }
            }
            uint32_t depth = u32(), head = u32();
            bytes(slots, 4u * depth * n_out);
            slf_dense_weights_s8 weights = { data, row_sum, (uint16_t)n_in, (uint16_t)n_out };
            slf_dense_scratch buffer = { scratch, (uint16_t)scratch_words };
            slf_delay_ring_s32 ring = { slots, (uint16_t)depth, (uint16_t)(n_out + ((flags >> 2) & 1u)),
                                        (uint16_t)head };
            const slf_dense_weights_s8 *w = (flags & 1u) ? NULL : &weights;
            int32_t status;
            if (kind == 0) {
                status = slf_dense_spikes_s8(w, (flags & 2u) ? NULL : spiked, &buffer, &ring);
            } else if (kind == 1) {
                status = slf_dense_events_s8(w, (flags & 2u) ? NULL : events, (uint16_t)n_events, &buffer, &ring);
            } else {
                status = slf_dense_weights_check_s8(w);
            }
            io_write(&status, 4);
            io_write(slots, 4u * depth * n_out);
        }
    }
    """) % dict(MAX_DATA=MAX_DATA, MAX_IN=MAX_IN, MAX_OUT=MAX_OUT, MAX_SLOTS=MAX_SLOTS, MAX_EVENTS=MAX_EVENTS)


def blocked(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Independent spelling of slf_dense.h's layout: q [n_in, n_out] -> (bytes, row sums)."""
    n_in, n_out = q.shape
    stride, rows = -(-n_in // 8) * 8, -(-n_out // 4) * 4
    u = np.full((rows, stride), 128, np.int64)
    u[:n_out, :n_in] = q.T + 128
    data = u.reshape(rows // 4, 4, stride // 4, 4).transpose(0, 2, 1, 3).ravel()
    return data.astype(np.uint8), u[:n_out].sum(axis=1)


def wrap32(values):
    return ((np.asarray(values, np.int64) + (1 << 31)) % (1 << 32)) - (1 << 31)


class Case:
    def __init__(self, kind, q, x=None, events=None, depth=1, head=0, slots=None, offset=0, flags=0,
                 scratch=None, row_sum_delta=0, expect="ok"):
        self.kind, self.q, self.x, self.events = kind, q, x, events
        n_in, n_out = q.shape
        self.depth, self.head, self.offset, self.flags, self.expect = depth, head, offset, flags, expect
        self.slots = np.zeros((depth, n_out), np.int64) if slots is None else slots
        stride = -(-n_in // 8) * 8
        self.scratch = (stride // 4 if kind == 0 else stride) if scratch is None else scratch
        self.data, self.row_sum = blocked(q)
        self.row_sum = self.row_sum.copy()
        self.row_sum[:1] += row_sum_delta

    def encode(self) -> bytes:
        def pad(b: bytes) -> bytes:
            return b + b"\0" * (-len(b) % 4)

        n_in, n_out = self.q.shape
        out = struct.pack("<5I", self.kind, n_in, n_out, self.offset, len(self.data)) + pad(self.data.tobytes())
        out += self.row_sum.astype("<i4").tobytes() + struct.pack("<2I", self.flags, self.scratch)
        if self.kind == 0:
            out += pad(np.asarray(self.x, np.uint8).tobytes())
        elif self.kind == 1:
            out += struct.pack("<I", len(self.events))
            out += b"".join(struct.pack("<I", j | c << 16) for j, c in self.events)
        return out + struct.pack("<2I", self.depth, self.head) + self.slots.astype("<i4").tobytes()

    def expected(self) -> tuple[int, np.ndarray]:
        if self.expect != "ok" or self.kind == 2:
            return STATUS[self.expect] if self.expect != "param" else -5, self.slots
        n_in, _ = self.q.shape
        if self.kind == 0:
            x = np.asarray(self.x, np.int64) & 1
        else:
            x = np.zeros(n_in, np.int64)
            for j, c in self.events:
                x[j] += c
        slots = self.slots.copy()
        slots[self.head] = wrap32(slots[self.head] + x @ self.q)
        return 0, slots


def standard_cases(seed=0, limit_in=MAX_IN, limit_out=MAX_OUT):
    rng = np.random.default_rng(seed)
    cases = []
    shapes = [(1, 1), (7, 3), (8, 4), (9, 5), (16, 35), (140, 36), (33, 17), (64, 1), (3, 64)]
    shapes += [(512, 35), (144, 130)] if limit_in >= 512 else [(40, 35)]
    for n_in, n_out in shapes:
        for trial in range(3):
            q = rng.integers(-127, 128, (n_in, n_out))
            if trial == 1:                                  # the int8 limits, and -128 (outside the quantizer)
                q = rng.choice([-128, -127, 127, 0], (n_in, n_out))
            depth = 1 if trial == 0 else 3
            head = 0 if trial == 0 else int(rng.integers(0, depth))
            slots = rng.integers(I32_MIN, I32_MAX, (depth, n_out), endpoint=True) if trial else None
            offset = 1 if trial == 2 else 0                  # unaligned table: the portable fallback
            x = rng.random(n_in) < (0.1, 0.5, 0.9)[trial]
            spiked = x.astype(np.uint8) if trial != 2 else (x * rng.choice([1, 3, 255], n_in)).astype(np.uint8)
            cases.append(Case(0, q, x=spiked, depth=depth, head=head, slots=slots, offset=offset))
            n_events = int(rng.integers(0, min(MAX_EVENTS, 3 * n_in) + 1))
            # trial 0: counts <= 3 (the bit-plane path of the DSP kernel), else any count
            counts = rng.choice([0, 1, 1, 1, 2, 3] if trial == 0 else [0, 1, 1, 1, 2, 5, 255], n_events)
            events = list(zip(rng.integers(0, n_in, n_events).tolist(), counts.tolist()))
            cases.append(Case(1, q, events=events, depth=depth, head=head, slots=slots, offset=offset))
    q = rng.integers(-127, 128, (24, 10))
    cases += [
        Case(1, q, events=[(5, 255)] * 120, expect="ok"),                   # c_j = 30600 <= 32767
        Case(1, q, events=[(5, 1), (5, 1), (5, 1), (7, 3), (23, 2)], expect="ok"),   # repeats summing to 3
        Case(1, q, events=[(5, 1), (5, 1), (5, 1), (5, 1), (23, 2)], expect="ok"),   # ... and to 4
        Case(1, q, events=[(0, 1), (24, 1)], expect="index"),
        Case(0, q, x=np.ones(24, np.uint8), flags=1, expect="null"),
        Case(0, q, x=np.ones(24, np.uint8), flags=2, expect="null"),
        Case(1, q, events=[(1, 1)], flags=2, expect="null"),
        Case(0, q, x=np.ones(24, np.uint8), flags=4, expect="shape"),
        Case(0, q, x=np.ones(24, np.uint8), depth=2, head=2, expect="shape"),
        Case(0, q, x=np.ones(24, np.uint8), scratch=5, expect="capacity"),
        Case(1, q, events=[(1, 1)], scratch=23, expect="capacity"),
        Case(2, q, expect="ok"),
        Case(2, q, row_sum_delta=1, expect="param"),
    ]
    return cases


def encode(cases) -> bytes:
    return b"".join(c.encode() for c in cases) + struct.pack("<I", 0xFFFFFFFF)


def check(cases, result: bytes):
    offset = 0
    for index, case in enumerate(cases):
        status, = struct.unpack_from("<i", result, offset)
        offset += 4
        n = case.depth * case.q.shape[1]
        slots = np.frombuffer(result, "<i4", n, offset).reshape(case.depth, -1)
        offset += 4 * n
        want_status, want = case.expected()
        assert status == want_status, (index, case.kind, case.q.shape, status)
        assert np.array_equal(slots, want), (index, case.kind, case.q.shape)
    assert offset == len(result)


def test_codegen_layout_matches_the_header():
    rng = np.random.default_rng(1)
    for shape in [(1, 1), (140, 512), (9, 35), (512, 35)]:
        q = rng.integers(-127, 128, shape)
        data, row_sum = dense_weight_table(q)
        want_data, want_sum = blocked(q)
        assert np.array_equal(data, want_data) and np.array_equal(row_sum, want_sum)


@pytest.fixture(scope="module")
def driver_source(tmp_path_factory):
    path = tmp_path_factory.mktemp("dense") / "dense_driver.c"
    path.write_text(DRIVER)
    return path


@pytest.mark.host
@pytest.mark.skipif(build.host_cc() is None, reason="no host C compiler")
@pytest.mark.parametrize("sanitize", [False, True])
def test_portable_path_on_the_host_is_exact(driver_source, tmp_path, sanitize):
    exe = tmp_path / "dense"
    flags = [*build.C99_WARNINGS, "-O1" if sanitize else "-O2", "-g"] + (list(build.SANITIZE) if sanitize else [])
    subprocess.run([build.host_cc(), *flags, f"-I{build.INCLUDE}", f"-I{build.HARNESS}",
                    *map(str, build.RUNTIME_SOURCES), str(driver_source), str(build.HARNESS / "driver_io_host.c"),
                    "-o", str(exe)], check=True, capture_output=True, text=True)
    cases = standard_cases()
    (tmp_path / "cases.bin").write_bytes(encode(cases))
    subprocess.run([str(exe), str(tmp_path / "cases.bin"), str(tmp_path / "out.bin")], check=True,
                   capture_output=True, text=True, timeout=120)
    check(cases, (tmp_path / "out.bin").read_bytes())


@pytest.mark.firmware
@pytest.mark.parametrize("board_name,dsp", [("nrf52840", True), ("nrf52840", False), ("mps2_an500", True),
                                            ("mps2_an505", True), ("microbit", False)])
def test_dsp_and_portable_paths_in_qemu_are_exact(driver_source, tmp_path, board_name, dsp):
    from silifc.codegen.boards import load_board
    from silifc.target.toolchain import build_firmware
    from silifc.target.qemu import run_firmware

    board = load_board(board_name)
    small = board.ram.size < 64 * 1024
    defines = {"SLF_USE_DSP": int(dsp)}
    source = driver_source
    if small:    # micro:bit: 16 KB of RAM
        source = tmp_path / "dense_driver_small.c"
        source.write_text(DRIVER.replace(f"MAX_DATA = {MAX_DATA}", "MAX_DATA = 2048")
                          .replace(f"MAX_SLOTS = {MAX_SLOTS}", "MAX_SLOTS = 256")
                          .replace(f"MAX_IN = {MAX_IN}", "MAX_IN = 64"))
    image = build_firmware([*build.runtime_sources(dsp), source, build.HARNESS / "driver_io_semihost.c"],
                           [build.INCLUDE, build.HARNESS], board, tmp_path / "build", defines=defines,
                           extra_cflags=("-std=c99", "-Werror"), name="dense")
    cases = standard_cases(seed=2)
    if small:
        cases = [c for c in cases if c.q.size <= 1500 and c.q.shape[0] <= 60]
    (tmp_path / "cases.bin").write_bytes(encode(cases))
    run = run_firmware(image, board, args=[str(tmp_path / "cases.bin"), str(tmp_path / "out.bin")],
                       insn_limit=2_000_000_000, timeout=300)
    assert run.exit_status == 0, run.stdout
    check(cases, (tmp_path / "out.bin").read_bytes())


@pytest.mark.host
@pytest.mark.skipif(build.host_cc() is None, reason="no host C compiler")
def test_dense_header_is_self_contained(tmp_path):
    source = tmp_path / "only.c"
    source.write_text('#include "slf_dense.h"\nint slf_test_unused;\n')
    subprocess.run([build.host_cc(), *build.C99_WARNINGS, f"-I{build.INCLUDE}", "-c", str(source),
                    "-o", str(tmp_path / "only.o")], check=True, capture_output=True, text=True)
