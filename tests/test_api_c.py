"""The generated C API (templates/model/model.{h,c}.j2): contexts that share nothing (two
instances of one model and two of another in one firmware, bit-exact in QEMU), per-step
outputs, status strings, metadata and placement macros. The exhaustive misuse battery (every
NULL, every limit, under sanitizers) is the reliability suite's."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from silifc.codegen.boards import load_board
from silifc.codegen.emit import SLF_STATUSES, CompileOptions, write_project
from silifc.io.checkpoint import parse_state_dict
from silifc.io.inputs import random_input
from silifc.kws.stream import step_probabilities
from silifc.passes.fold import fold_network
from silifc.passes.quantize import quantize_network
from silifc.reference.int_ref import run_int
from synthetic import random_state_dict

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "firmware"
STEPS = 40


def _model(widths, kinds, seed, max_delay):
    folded = fold_network(parse_state_dict(random_state_dict(widths, kinds, seed=seed, max_delay=max_delay)))
    return quantize_network(folded, calibration=random_input(widths[0], 3, 60, 0.05, 1, seed=seed))


@pytest.fixture(scope="module")
def two_models():
    """ma: 24 -> SiLIF 40 -> C-SiLIF 32 -> 5 with synaptic delays (event-driven);
    mb: 16 -> C-SiLIF 24 -> 4 without delays, compiled with dense synapses."""
    return _model((24, 40, 32, 5), ("silif", "csilif"), 3, 3), _model((16, 24, 4), ("csilif",), 5, 0)


def _c_events(counts) -> tuple[list[int], list[tuple[int, int]]]:
    start, events = [0], []
    for step in counts:
        for index in np.flatnonzero(step):
            events.append((int(index), int(step[index])))
        start.append(len(events))
    return start, events


def _data_header(streams) -> str:
    lines = [f"#define STEPS {STEPS}u"]
    for i, counts in enumerate(streams):
        start, events = _c_events(counts)
        lines.append(f"static const uint32_t start_{i}[STEPS + 1] = {{{', '.join(map(str, start))}}};")
        body = ", ".join(f"{{{index}, {count}}}" for index, count in events) or "{0, 0}"
        lines.append(f"static const slf_event events_{i}[{max(len(events), 1)}] = {{{body}}};")
    return "\n".join(lines) + "\n"


@pytest.mark.firmware
def test_two_instances_of_two_models_in_one_firmware_are_bit_exact(two_models, tmp_path):
    """Stepped in turn, every step: ma#1 (with outputs), mb#1, ma#2 (without), mb#2. Each
    instance's per-step probabilities and final totals equal the integer reference of its own
    input stream: nothing is shared between contexts or models."""
    from silifc.target.qemu import run_firmware
    from silifc.target.toolchain import build_firmware

    ma, mb = two_models
    board = load_board("nrf52840")
    a = write_project(ma, CompileOptions(board=board, prefix="ma"), tmp_path / "ma")
    b = write_project(mb, CompileOptions(board=board, prefix="mb", synapses="dense"), tmp_path / "mb")
    streams = [random_input(24, 1, STEPS, 0.08, 1, seed=10)[0], random_input(16, 1, STEPS, 0.10, 1, seed=11)[0],
               random_input(24, 1, STEPS, 0.08, 1, seed=12)[0], random_input(16, 1, STEPS, 0.10, 1, seed=13)[0]]
    (tmp_path / "instances_data.h").write_text(_data_header(streams))
    # one runtime (both projects copy the same one), both models, the test's main
    sources = [DATA / "instances.c", a.model_sources[0], b.model_sources[0], *a.model_sources[1:]]
    image = build_firmware(sources, [tmp_path, a.directory / "model", b.directory / "model",
                                     a.directory / "runtime" / "include"], board, tmp_path / "build",
                           extra_cflags=("-Werror",), name="instances")
    run = run_firmware(image, board, check=True)
    assert run.exit_status == 0, run.stdout
    rows = [line.split() for line in run.stdout.splitlines()]
    probabilities = {i: np.array([[int(v) for v in row[3:]] for row in rows if row[:2] == ["p", str(i)]])
                     for i in (0, 1, 3)}
    results = {int(row[1]): (int(row[2]), [int(v) for v in row[3:]]) for row in rows if row[0] == "result"}
    models = (ma, mb, ma, mb)
    for i, (model, counts) in enumerate(zip(models, streams)):
        reference = run_int(model, counts[None])
        assert results[i] == (int(reference.decisions[0]), reference.outputs[0].tolist()), i
        if i in probabilities:
            assert np.array_equal(probabilities[i], step_probabilities(model, counts)), i
    assert results[0] != results[2] and results[1] != results[3]        # different streams, different results


def _header(rendered, prefix="tiny"):
    return rendered[f"model/{prefix}_model.h"]


@pytest.fixture(scope="module")
def tiny_project(tmp_path_factory):
    from test_codegen import tiny_quantized

    out = tmp_path_factory.mktemp("tiny")
    return write_project(tiny_quantized(), CompileOptions(board=load_board("nrf52840"), prefix="tiny",
                                                          class_names=("yes", "no", "maybe")), out)


@pytest.mark.unit
def test_status_table_is_the_runtimes_enum():
    header = (ROOT / "runtime_c" / "include" / "slf_common.h").read_text()
    enum = re.search(r"typedef enum \{(.*?)\} slf_status;", header, re.S).group(1)
    values = [(name, int(value)) for name, value in re.findall(r"(SLF_\w+) = (-?\d+)", enum)]
    assert values == [(name, value) for name, value, _ in SLF_STATUSES]


@pytest.mark.unit
def test_header_carries_metadata_with_units_and_no_bare_numbers_in_loops(tiny_project):
    header = (tiny_project.directory / "model" / "tiny_model.h").read_text()
    source = (tiny_project.directory / "model" / "tiny_model.c").read_text()
    for line in ('#define TINY_N_CLASSES 3', '#define TINY_TIME_STEP_US 4000', '"yes", "no", "maybe"',
                 f'#define TINY_CTX_BYTES {tiny_project.plan.ram_bytes}', "#define TINY_SILIFC_VERSION"):
        assert line in header, line
    metadata = r"N_\w+|L\d_WIDTH|\w+_RING_DEPTH|TIME_STEP_US|MAX_EVENT_COUNT|\w+_FRAC_BITS|WEIGHT_BITS|CTX_BYTES"
    defines = re.findall(rf"^#define (TINY_(?:{metadata})) .*$", header, re.M)
    assert len(defines) == 15           # 4 N_, 2 widths, 3 ring depths, time, count, 2 formats, weights, context
    for define in defines:
        assert re.search(rf"^#define {define} .*/\*", header, re.M), f"{define} has no comment (unit, format)"
    assert not re.search(r"for \(uint16_t \w+ = 0; \w+ < \d", source), "a loop bound is a bare number"
    assert "RETURN_IF_FAILED" not in source.replace("TINY_RETURN_IF_FAILED", "")
    public = set(re.findall(r"^(?:slf_status |const \w+ \*)(\w+)\(", header, re.M))
    assert public == {"tiny_init", "tiny_reset", "tiny_step", "tiny_result", "tiny_spikes", "tiny_status_str",
                      "tiny_get_info"}


HOST_DRIVER = r'''
#include <stdio.h>
#include <string.h>
#include "tiny_model.h"

int main(void)
{
    static tiny_ctx a, b, zeroed;
    tiny_output out;
    const slf_spike_list *spikes = 0;
    const slf_event events[2] = {{0, 1}, {5, 2}};
    const slf_event bad_index[1] = {{6, 1}};
    const slf_event bad_count[1] = {{1, TINY_MAX_EVENT_COUNT + 1}};
    int32_t totals_a[TINY_N_CLASSES], totals_b[TINY_N_CLASSES];
    uint16_t decision = 99;
    printf("%d %d %d\n", tiny_step(&zeroed, events, 2, 0), tiny_step(0, events, 2, 0), tiny_init(0));
    slf_status init_a = tiny_init(&a);
    printf("%d %d\n", init_a, tiny_init(&b));
    printf("%d %d %d\n", tiny_step(&a, 0, 1, 0), tiny_step(&a, bad_index, 1, 0), tiny_step(&a, bad_count, 1, 0));
    for (int t = 0; t < 20; t++) {
        if (tiny_step(&a, events, 2, &out) != SLF_OK || tiny_step(&b, events, 2, 0) != SLF_OK)
            return 1;
    }
    tiny_result(&a, totals_a, &decision);
    tiny_result(&b, totals_b, 0);
    printf("%d %d %d\n", memcmp(totals_a, totals_b, sizeof totals_a) == 0, decision == out.decision,
           tiny_spikes(&a, 2, &spikes));
    slf_status reset = tiny_reset(&a);                /* (argument evaluation order is unspecified) */
    printf("%d %d\n", reset, tiny_result(&a, totals_a, &decision));
    printf("%d %d\n", totals_a[0], tiny_spikes(&a, 1, &spikes) == SLF_OK && spikes->count == 0);
    const tiny_info *info = tiny_get_info();
    printf("%s %u %u %s\n", info->class_names[2], info->n_inputs, info->time_step_us, tiny_status_str(SLF_ERR_STATE));
    printf("%s|%s\n", tiny_status_str(SLF_OK), tiny_status_str((slf_status)42));
    return 0;
}
'''


@pytest.mark.host
@pytest.mark.skipif(shutil.which("gcc") is None, reason="no host C compiler")
def test_api_on_the_host_under_sanitizers(tiny_project, tmp_path):
    """The API compiles on a 64-bit host with -Werror under ASan/UBSan; statuses of a few misuses,
    outputs equal with and without an output struct, reset, metadata, status strings."""
    d = tiny_project.directory
    (tmp_path / "driver.c").write_text(HOST_DRIVER)
    from silifc.codegen.runtime import runtime_sources

    runtime = runtime_sources(dsp=False, root=d / "runtime")            # the host: the portable path
    exe = tmp_path / "driver"
    subprocess.run(["gcc", "-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined",
                    "-fno-sanitize-recover=all", f"-I{d / 'model'}", f"-I{d / 'runtime' / 'include'}",
                    str(tmp_path / "driver.c"), str(d / "model" / "tiny_model.c"), *map(str, runtime), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    lines = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.splitlines()
    assert lines[0] == "-7 -1 -1"                  # a zeroed context: SLF_ERR_STATE; NULL: SLF_ERR_NULL
    assert lines[1] == "0 0"
    assert lines[2] == "-1 -3 -6"                  # NULL events with n > 0, index >= N_INPUTS, count > limit
    assert lines[3] == "1 1 -3"                    # a and b equal; decision; no hidden layer 2
    assert lines[4] == "0 0" and lines[5] == "0 1"
    assert lines[6] == "maybe 6 4000 SLF_ERR_STATE: the context was not set up by <prefix>_init"
    assert lines[7] == "SLF_OK: no error|not an slf_status value"


@pytest.mark.unit
def test_placement_macros_move_every_constant_table(tiny_project, tmp_path):
    """TINY_WEIGHTS_SECTION/_ALIGN put every constant table of the model in the section, aligned;
    without them nothing is placed (today's placement)."""
    d = tiny_project.directory
    flags = ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror",
             "-fdata-sections", f"-I{d / 'model'}", f"-I{d / 'runtime' / 'include'}", "-c",
             str(d / "model" / "tiny_model.c")]
    placed, plain = tmp_path / "placed.o", tmp_path / "plain.o"
    subprocess.run(flags + ['-DTINY_WEIGHTS_SECTION=".extflash"', "-DTINY_WEIGHTS_ALIGN=64", "-o", str(placed)],
                   check=True, capture_output=True)
    subprocess.run(flags + ["-o", str(plain)], check=True, capture_output=True)

    def table_sections(obj):
        out = subprocess.run(["arm-none-eabi-objdump", "-t", str(obj)], capture_output=True, text=True, check=True).stdout
        return {parts[-1]: (parts[-3], int(parts[-2], 16)) for parts in map(str.split, out.splitlines())
                if len(parts) >= 5 and parts[-1].startswith("tiny_") and "O" in parts}

    tables = {name: (section, size) for name, (section, size) in table_sections(placed).items()
              if not name.endswith("_class_names") and not name.endswith("_model_info")}
    names = {b.name for b in tiny_project.plan.buffers if b.section == "flash" and not b.name.endswith("_descriptors")}
    assert names <= set(tables)
    assert {section for section, _ in tables.values()} == {".extflash"}
    headers = subprocess.run(["arm-none-eabi-readelf", "-S", "-W", str(placed)], capture_output=True, text=True).stdout
    assert re.search(r"\.extflash\s+PROGBITS.* 64$", headers, re.M)        # section alignment 2^6
    assert ".extflash" not in subprocess.run(["arm-none-eabi-readelf", "-S", str(plain)], capture_output=True,
                                             text=True).stdout
