"""bench/run.py's machinery on a small model: the table's columns, the targets, determinism."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import load_bench_script

pytestmark = pytest.mark.firmware


@pytest.fixture(scope="module")
def bench():
    return load_bench_script("run")


@pytest.fixture(scope="module")
def small_case(bench):
    from silifc.io.checkpoint import parse_state_dict
    from silifc.reference.float_ref import run_float
    from silifc.passes.fold import fold_network
    from silifc.io.inputs import random_input
    from silifc.passes.quantize import quantize_network
    from synthetic import random_state_dict

    folded = fold_network(parse_state_dict(random_state_dict((24, 40, 32, 5), ("silif", "csilif"), seed=5)))
    counts = random_input(24, 2, 40, 0.05, 1, seed=5)
    quantized = quantize_network(folded, calibration=counts)
    return bench.case_from("small", quantized, counts, "random", run_float(folded, counts))


def test_bench_table_and_targets_on_a_small_model(bench, small_case):
    results = bench.run_bench([small_case], boards=("nrf52840",))
    rows = results["rows"]
    assert [(r["synapses"], r["board"]) for r in rows] == [("event", "nrf52840"), ("dense", "nrf52840")]
    for row in rows:
        assert row["bit_exact"] and row["firmware_vs_int"] == "2/2"
        assert row["step_max"] >= row["step_mean"] > 0 and row["steps"] == 80
        assert row["step_mean"] == pytest.approx(row["synaptic_mean"] + row["neuron_mean"] + row["readout_mean"])
        assert row["neuron_updates"] == 72 and row["budget_cycles"] == 256_000
        assert sum(row["ram_buffers"].values()) + row["stack"] + row["ram_other"] == row["ram"]
        assert row["bound"] == pytest.approx(1.3 * row["sops_mean"] + 15 * 72 + row["readout_mean"])
        # estimated cycles: the same split, every instruction at least one cycle, the budget in cycles
        assert row["cycle_model"] == "cortex-m4"
        assert row["cycles_mean"] == pytest.approx(row["synaptic_cycles_mean"] + row["neuron_cycles_mean"]
                                                   + row["readout_cycles_mean"])
        assert row["cycles_max"] >= row["cycles_mean"] >= row["step_mean"]
        assert row["budget_percent"] == pytest.approx(100 * row["cycles_mean"] / 256_000)
        assert row["cycles_per_neuron"] == pytest.approx(row["neuron_cycles_mean"] / 72)
    event, dense = rows
    assert event["sops_mean"] == dense["sops_mean"]                # a property of the model and input
    assert dense["macs_per_step"] == 24 * 40 + 40 * 32 + 32 * 5
    assert results["determinism"]["identical"]
    text = bench.table(rows)
    for _, header, _ in bench.COLUMNS:
        assert header in text.splitlines()[0]
    md = bench.markdown(results)
    assert "| model | board | synapses | instr/step |" in md and "## Targets" in md and "## RAM per buffer" in md
    checks = results["targets"][0]["checks"]
    assert set(checks) == {"dense_over_event", "measured_over_bound", "budget_fraction", "worst_step",
                           "cycles_per_neuron", "cycles_per_sop", "flash", "bit_exact"}
    assert "one instruction" not in md and "est. cycles/step" in md
    json.dumps(results)                                            # serialisable as written to results.json


def test_bench_counts_are_deterministic(bench, small_case):
    first = bench.measure(small_case, "nrf52840", "dense")
    second = bench.measure(small_case, "nrf52840", "dense")
    assert first == second
    assert first["per_step_sha256"] == second["per_step_sha256"]
    assert np.isfinite(first["instructions_per_mac"])


def test_board_without_a_cycle_model_reports_instructions_only(bench, small_case):
    row = bench.measure(small_case, "mps2_an500", "event")               # Cortex-M7: no cycle model
    assert row["bit_exact"] and row["step_mean"] > 0
    assert row["cycle_model"] is None and row["cycles_mean"] is None and row["budget_percent"] is None
    assert row["per_step_cycles_sha256"] is None
    cells = bench.table([row]).splitlines()[2].split()
    assert "-" in cells


# A stand-in for a CMSIS-NN checkout: the same file layout and API as CMSIS-NN's, with a plain
# C matrix-vector product, so the peer row's plumbing (weights header, input blob, markers,
# per-step split, targets) is tested without CMSIS-NN, which silifc does not ship.
_STAND_IN_HEADER = """#include <stdint.h>
typedef enum { ARM_CMSIS_NN_SUCCESS = 0, ARM_CMSIS_NN_ARG_ERROR = -1 } arm_cmsis_nn_status;
typedef struct { void *buf; int32_t size; } cmsis_nn_context;
typedef struct { int32_t n, h, w, c; } cmsis_nn_dims;
typedef struct { int32_t min, max; } cmsis_nn_activation;
typedef struct { int32_t input_offset, filter_offset, output_offset; cmsis_nn_activation activation; } cmsis_nn_fc_params;
typedef struct { int32_t multiplier, shift; } cmsis_nn_per_tensor_quant_params;
arm_cmsis_nn_status arm_fully_connected_s8(const cmsis_nn_context *ctx, const cmsis_nn_fc_params *fc,
    const cmsis_nn_per_tensor_quant_params *q, const cmsis_nn_dims *input_dims, const int8_t *input,
    const cmsis_nn_dims *filter_dims, const int8_t *kernel, const cmsis_nn_dims *bias_dims, const int32_t *bias,
    const cmsis_nn_dims *output_dims, int8_t *output);
"""
_STAND_IN_SOURCE = """#include "arm_nnfunctions.h"
arm_cmsis_nn_status arm_fully_connected_s8(const cmsis_nn_context *ctx, const cmsis_nn_fc_params *fc,
    const cmsis_nn_per_tensor_quant_params *q, const cmsis_nn_dims *input_dims, const int8_t *input,
    const cmsis_nn_dims *filter_dims, const int8_t *kernel, const cmsis_nn_dims *bias_dims, const int32_t *bias,
    const cmsis_nn_dims *output_dims, int8_t *output)
{
    (void)ctx; (void)q; (void)input_dims; (void)bias_dims; (void)bias;
    for (int32_t o = 0; o < output_dims->c; o++) {
        int32_t acc = 0;
        for (int32_t i = 0; i < filter_dims->n; i++)
            acc += (input[i] + fc->input_offset) * kernel[o * filter_dims->n + i];
        output[o] = (int8_t)(acc > 127 ? 127 : acc < -128 ? -128 : acc);
    }
    return ARM_CMSIS_NN_SUCCESS;
}
"""


def test_cmsis_nn_peer_row_with_a_stand_in_checkout(bench, small_case, tmp_path):
    cmsis = bench._cmsis_nn()
    with pytest.raises(cmsis.CmsisNnError, match="not a CMSIS-NN checkout: missing Include/arm_nnfunctions.h"):
        cmsis.check_checkout(tmp_path)
    (tmp_path / "Include").mkdir()
    (tmp_path / "Include" / "arm_nnfunctions.h").write_text(_STAND_IN_HEADER)
    for source in cmsis.SOURCES:
        (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / source).write_text(_STAND_IN_SOURCE if "fully_connected" in source else "typedef int empty;\n")
    row = cmsis.measure(small_case, tmp_path)
    assert row["synapses"] == "cmsis-nn" and row["steps"] == 80
    assert row["macs_per_step"] == 24 * 40 + 40 * 32 + 32 * 5
    assert row["cycles_mean"] == pytest.approx(sum(row["layer_cycles_mean"]))
    assert row["step_mean"] == pytest.approx(sum(row["layer_instructions_mean"]))
    assert row["cycles_max"] >= row["cycles_mean"] >= row["step_mean"] > row["macs_per_step"]  # >1 instruction per MAC in plain C
    assert row["cmsis_nn_commit"] == "unknown (not a git checkout)"
    event = bench.measure(small_case, "nrf52840", "event")
    rows = [event, row]
    check = bench.targets(rows)[0]["checks"]["cmsis_nn_over_event"]
    assert check["value"] == pytest.approx(row["cycles_mean"] / event["cycles_mean"])
    assert "## CMSIS-NN (dense" in bench.cmsis_nn_text(rows)
    assert "cmsis-nn" in bench.table(rows)
    # carried over from saved results only while the counting plugin is the same
    saved = tmp_path / "results.json"
    saved.write_text(json.dumps({"rows": rows}))
    fresh = {"rows": [event], "targets": []}
    assert bench.carry_over_cmsis_nn(fresh, saved) and fresh["rows"][-1]["carried_over"]
    saved.write_text(json.dumps({"rows": [event, {**row, "plugin_sha256": "other"}]}))
    fresh = {"rows": [event], "targets": []}
    assert "dropped" in bench.carry_over_cmsis_nn(fresh, saved)[0] and len(fresh["rows"]) == 1
