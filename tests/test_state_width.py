"""bench/state_width.py: its narrower-state rows are the deployed format with F lowered by 32 - b."""
from __future__ import annotations

import numpy as np

from conftest import load_bench_script
from silifc.passes.quantize import DEFAULT_HEADROOM, quantize_network
from silifc.pipeline import run_pipeline


def test_state_width_rows_lower_f_by_the_width_drop_and_cost_fidelity():
    state_width = load_bench_script("state_width")
    counts = np.load(state_width.GOLDEN_INPUT)["inputs"][:2, :80]
    rows = state_width.measure("silif", counts)

    deployed = quantize_network(run_pipeline(state_width.MODELS["silif"], until="fold").folded)
    assert rows[0]["bits"] == 32 and rows[0]["frac_bits"] == [layer.frac_bits for layer in deployed.hidden]
    for row in rows:
        if row["headroom"] == DEFAULT_HEADROOM:
            assert row["frac_bits"] == [f - (32 - row["bits"]) for f in rows[0]["frac_bits"]]
            assert row["refused"] == (min(row["frac_bits"]) < 8)
    sixteen = next(row for row in rows if row["bits"] == 16 and row["headroom"] == DEFAULT_HEADROOM)
    assert sixteen["flips"][0] > 2 * rows[0]["flips"][0]
    assert "| silif | 16 | 8 |" in state_width.table(rows)
