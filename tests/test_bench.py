"""bench/run.py's machinery on a small model: the table's columns, the targets, determinism."""
from __future__ import annotations

import importlib.util
import json
import sys

import numpy as np
import pytest

from conftest import ROOT

pytestmark = pytest.mark.firmware


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("silifc_bench_run", ROOT / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module                  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


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
    assert set(checks) == {"dense_over_event", "measured_over_bound", "budget_fraction", "flash", "bit_exact"}
    json.dumps(results)                                            # serialisable as written to results.json


def test_bench_counts_are_deterministic(bench, small_case):
    first = bench.measure(small_case, "nrf52840", "dense")
    second = bench.measure(small_case, "nrf52840", "dense")
    assert first == second
    assert first["per_step_sha256"] == second["per_step_sha256"]
    assert np.isfinite(first["instructions_per_mac"])
