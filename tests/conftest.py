"""Shared fixtures. Tests never read ../shared: golden data lives in tests/data/golden."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_bench_script(name: str):
    """bench/<name>.py as a module (bench/ is not a package), registered in sys.modules because
    dataclasses look their module up there."""
    spec = importlib.util.spec_from_file_location(f"silifc_bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
DATA = Path(__file__).resolve().parent / "data"
GOLDEN = DATA / "golden"
PAPER_MODELS = {"silif": ROOT / "models" / "paper-ssc" / "silif_ssc_4ms.pth",
                "csilif": ROOT / "models" / "paper-ssc" / "csilif_ssc_4ms.pth"}


@pytest.fixture(scope="session")
def golden_counts():
    """The 8 golden samples binned 700 -> 140, [8, 300, 140] int64."""
    raw = np.load(GOLDEN / "inputs.npz")["inputs"].astype(np.int64)
    return raw.reshape(8, 300, 140, 5).sum(axis=-1)


@pytest.fixture(scope="session")
def paper_networks():
    from silifc.io.models import load_model

    return {kind: load_model(path) for kind, path in PAPER_MODELS.items()}


@pytest.fixture(scope="session")
def paper_folded(paper_networks):
    from silifc.passes.fold import fold_network

    return {kind: fold_network(net) for kind, net in paper_networks.items()}


@pytest.fixture(scope="session")
def paper_float(paper_folded, golden_counts):
    from silifc.reference.float_ref import run_float

    return {kind: run_float(net, golden_counts) for kind, net in paper_folded.items()}


@pytest.fixture(scope="session")
def runtime_drivers(tmp_path_factory):
    """The C runtime's test driver, built once per configuration for the whole session
    (tests/runtime_harness/build.py DriverBuilds)."""
    from runtime_harness.build import DriverBuilds

    return DriverBuilds(tmp_path_factory.mktemp("runtime-drivers"))


def golden(kind: str):
    return np.load(GOLDEN / f"{kind}_reference.npz")


def save_state_dict(state, path):
    import torch

    torch.save(state, path)
    return path


_WORKER_FUZZ_LINES = pytest.StashKey[list]()     # the controller's: lines the xdist workers sent


def _fuzz_summary_lines() -> list[str]:
    """The fuzzing harness's counts (tests/test_fuzz.py) in this process, when it ran here."""
    import sys

    fuzz = sys.modules.get("test_fuzz")
    return fuzz.summary_lines() if fuzz is not None else []


def pytest_sessionfinish(session):
    """An xdist worker hands its fuzzing counts to the controller, which prints the summary."""
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["fuzz_summary"] = _fuzz_summary_lines()


@pytest.hookimpl(optionalhook=True)          # an xdist hook: unknown when xdist is not loaded
def pytest_testnodedown(node, error):
    node.config.stash.setdefault(_WORKER_FUZZ_LINES, []).extend(
        getattr(node, "workeroutput", {}).get("fuzz_summary", []))


def pytest_terminal_summary(terminalreporter, config):
    """The fuzzing counts: this process's (a serial run) or the workers' (pytest -n)."""
    for line in _fuzz_summary_lines() + config.stash.get(_WORKER_FUZZ_LINES, []):
        terminalreporter.write_line(line)
