"""Differential fuzzing: random models x random inputs, each either refused with a message or
compiled, built and run in QEMU bit-exactly against the integer reference (issue 18).

Default tier: a few derandomized cases (the harness itself is tested on every run). The slow
tier (`scripts/test.sh --slow`) draws FUZZ_SLOW_MODELS models with FUZZ_SLOW_SAMPLES input
samples each and requires >= FUZZ_SLOW_MIN_CASES model x input cases run bit-exact. A failing case is shrunk by hypothesis and written to
tests/data/fuzz_regressions/new-failure.json; rename it and it becomes a regression case that
`test_saved_regression_cases` replays in the default tier. The counts (models refused by
reason, inputs refused by reason, cases run, mismatches) are printed at the end of the run.
"""
from __future__ import annotations

import collections
import json
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from silifc.codegen.boards import load_board
from silifc.errors import SilifcError
from silifc.io.checkpoint import parse_state_dict
from silifc.ir import ModelConfig
from silifc.pipeline import Artifacts, Options, run_pipeline
from silifc.reference.int_ref import run_int
from silifc.target.firmware import run_model
from silifc.target.qemu import EmulatorError
from silifc.target.toolchain import FirmwareBuildError

from fuzz_models import EXTREMES, case_input, case_model, extremes_for

REGRESSIONS = Path(__file__).parent / "data" / "fuzz_regressions"
FUZZ_SLOW_MODELS = 200
FUZZ_SLOW_SAMPLES = 32
FUZZ_SLOW_MIN_CASES = 2000        # model x input cases that must run bit-exact in the slow tier
BOARD = "nrf52840"

pytestmark = pytest.mark.firmware

STATS = {"models": 0, "compiled": 0, "cases": 0, "mismatches": 0,
         "models_refused": collections.Counter(), "inputs_refused": collections.Counter()}


def reason(exc: Exception) -> str:
    """A refusal's class and message head without numbers or paths: what the counts group by."""
    text = str(exc).split("\n")[0]
    text = re.sub(r"^[^:]*\.pth?: |^[^ ]*/[^ ]*: ", "", text)
    text = re.sub(r"snn\.\d+|layer\d+|\d[\d,.]*(e[+-]?\d+)?|nan|inf|-?\d+", "#", text)
    return f"{type(exc).__name__}: {' '.join(text.split()[:9])}"


@st.composite
def cases(draw, samples=None):
    hidden = draw(st.integers(1, 3))
    kinds = [draw(st.sampled_from(("silif", "csilif"))) for _ in range(hidden)]
    widths = [draw(st.integers(1, 300)) for _ in range(hidden + 1)] + [draw(st.integers(2, 50))]
    delays = [draw(st.sampled_from((0, 0, 0, 1, 3, 15, 15, 16) if index == 0 else (0, 0, 0, 0, 1, 3, 15, 16)))
              for index in range(hidden + 1)]                 # 16: past the runtime's 4-bit delays, refused
    layer_kinds = kinds + ["readout"]
    extremes = [sorted(set(draw(st.lists(st.sampled_from(extremes_for(kind)), max_size=2))))
                if draw(st.booleans()) else [] for kind in layer_kinds]
    return {"kinds": kinds, "widths": widths, "delays": delays, "extremes": extremes,
            "weights": draw(st.sampled_from(("int8", "int16"))), "seed": draw(st.integers(0, 2**16)),
            "input": {"samples": samples or draw(st.integers(1, 4)), "steps": draw(st.integers(1, 24)),
                      "rate": draw(st.sampled_from((0.0, 0.05, 0.3, 1.0))),
                      "max_count": draw(st.sampled_from((1, 2, 5, 15, 40))), "seed": draw(st.integers(0, 2**16))}}


def check_case(case: dict) -> str:
    """Run one case: 'refused' (model), 'input refused', or 'exact'. Raises AssertionError on any
    mismatch or on an error that is not a refusal (a build that fails, a firmware that faults)."""
    STATS["models"] += 1
    state = case_model(case)
    board = load_board(BOARD)
    with tempfile.TemporaryDirectory(prefix="silifc-fuzz-") as tmp:
        try:
            network = parse_state_dict(state, path="fuzz.pth", config=ModelConfig(spatial_bin=1, nb_steps=16))
            options = Options(weights=case["weights"], board=board, output=Path(tmp) / "p")
            done = run_pipeline(Artifacts(network=network), options, until="emit")
        except SilifcError as exc:
            STATS["models_refused"][reason(exc)] += 1
            return "refused"
        STATS["compiled"] += 1
        try:
            done = run_pipeline(done, options, until="build")
        except FirmwareBuildError as exc:
            raise AssertionError(f"generated C does not build: {exc}") from None
        counts = case_input(case, done.quantized.n_inputs)
        try:
            reference = run_int(done.quantized, counts)
        except SilifcError as exc:
            STATS["inputs_refused"][reason(exc)] += 1
            with pytest.raises(SilifcError, match=re.escape(str(exc).split(";")[0][:60])):
                run_model(done.project, done.image, done.quantized, counts, record_spikes=True)
            return "input refused"
        try:
            report = run_model(done.project, done.image, done.quantized, counts, record_spikes=True)
        except EmulatorError as exc:
            raise AssertionError(f"the firmware failed where the reference ran: {exc}") from None
        STATS["cases"] += counts.shape[0]
        firmware = report.result
        same = (np.array_equal(firmware.outputs, reference.outputs)
                and np.array_equal(firmware.decisions, reference.decisions)
                and all(np.array_equal(a, b) for a, b in zip(firmware.spikes, reference.spikes)))
        if not same:
            STATS["mismatches"] += 1
            raise AssertionError("firmware differs from the integer reference")
        return "exact"


def run_and_save(case: dict) -> None:
    try:
        check_case(case)
    except AssertionError:
        REGRESSIONS.mkdir(parents=True, exist_ok=True)
        (REGRESSIONS / "new-failure.json").write_text(json.dumps(case, indent=1) + "\n")   # the last is the shrunk one
        raise


def summary_lines() -> list[str]:
    """The run's counts, printed by conftest.pytest_terminal_summary."""
    if not STATS["models"]:
        return []
    lines = [f"fuzzing: {STATS['models']} random models, {STATS['compiled']} compiled and run, "
             f"{STATS['cases']} model x input cases bit-exact, {STATS['mismatches']} mismatches"]
    for title, key in (("models refused", "models_refused"), ("inputs refused", "inputs_refused")):
        for text, count in STATS[key].most_common():
            lines.append(f"  {title}: {count:4d}  {text}")
    return lines


_SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck), database=None)


@settings(max_examples=4, derandomize=True, **_SETTINGS)
@given(cases())
def test_random_models_are_refused_or_bit_exact(case):
    run_and_save(case)


@pytest.mark.slow
@settings(max_examples=FUZZ_SLOW_MODELS, **_SETTINGS)
@given(cases(samples=FUZZ_SLOW_SAMPLES))
def test_random_models_are_refused_or_bit_exact_slow(case):
    run_and_save(case)


@pytest.mark.slow
def test_the_slow_tier_ran_enough_cases():
    """Runs after the slow fuzzing test (file order): it must have run >= FUZZ_SLOW_MIN_CASES
    model x input cases bit-exact (refused models and inputs do not count)."""
    assert STATS["cases"] >= FUZZ_SLOW_MIN_CASES, summary_lines()


@pytest.mark.parametrize("path", sorted(REGRESSIONS.glob("*.json")), ids=lambda p: p.stem)
def test_saved_regression_cases(path):
    case = json.loads(path.read_text())
    expected = case.pop("expect", None)
    case.pop("note", None)
    outcome = check_case(case)
    if expected is not None:
        assert outcome == expected


@pytest.mark.unit
def test_every_extreme_is_drawn_by_some_kind():
    for kind in ("silif", "csilif", "readout"):
        assert set(EXTREMES[kind]) <= set(extremes_for(kind))
