"""The native model format: round trip, strict checks, and every command accepting it."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from silifc import errors
from silifc.cli import main
from silifc.ir import ModelConfig
from silifc.io.native import FORMAT_NAME, ModelSpec, native_dict, read_native, save_native, spec_of
from silifc.io.models import convert, load_model
from silifc.reference.results import RunResult
from synthetic import random_state_dict

from conftest import PAPER_MODELS, save_state_dict

pytestmark = pytest.mark.unit

IO = ModelConfig(spatial_bin=2, time_step_ms=2.5, nb_steps=24, max_time_s=0.06)
WIDTHS = (10, 12, 9, 4)
KINDS = ("silif", "csilif")


def _state(max_delay=5, seed=1):
    state = random_state_dict(WIDTHS, KINDS, seed=seed, max_delay=max_delay)
    if max_delay:
        del state["snn.2.delays"]                    # delays on the hidden layers only
    return state


def _spec(max_delay=5):
    return ModelSpec(kinds=(*KINDS, "readout"), widths=WIDTHS,
                     layer_max_delays=(max_delay, max_delay, 0), io=IO)


@pytest.fixture
def native_file(tmp_path):
    return save_native(tmp_path / "model.pt", _state(), _spec(), {"note": "test", "accuracy": 0.5})


def _same_network(a, b):
    assert a.widths == b.widths and [x.kind for x in a.layers] == [x.kind for x in b.layers]
    for la, lb in zip(a.layers, b.layers):
        assert np.array_equal(la.weight, lb.weight)
        assert (la.delays is None) == (lb.delays is None)
        if la.delays is not None:
            assert np.array_equal(la.delays, lb.delays) and la.delays.dtype == np.int64


def test_round_trip_same_ir_as_authors_format(tmp_path, native_file):
    native = load_model(native_file)
    authors = load_model(save_state_dict(_state(), tmp_path / "authors.pth"), dataclasses.asdict(IO))
    _same_network(native, authors)
    assert native.config == IO                       # settings come from the file
    assert load_model(save_state_dict(_state(), tmp_path / "bare.pth")).config == ModelConfig()


def test_loads_with_weights_only_and_is_self_describing(native_file):
    obj = torch.load(native_file, weights_only=True)
    assert obj["format"] == FORMAT_NAME and obj["version"] == 1
    config = obj["config"]
    assert config["kinds"] == ["silif", "csilif", "readout"] and config["widths"] == list(WIDTHS)
    assert config["layer_max_delays"] == [5, 5, 0] and config["max_delay"] == 5
    assert config["nb_steps"] == 24 and config["spatial_bin"] == 2
    assert obj["state_dict"]["snn.0.delays"].dtype == torch.int64
    network, spec, meta = read_native(native_file)
    assert spec == _spec() and meta == {"note": "test", "accuracy": 0.5}


def test_overrides_win_over_the_file(native_file):
    assert load_model(native_file, {"nb_steps": 40}).config.nb_steps == 40
    assert load_model(native_file, {"nb_steps": None}).config.nb_steps == 24
    assert load_model(native_file, {"nb_steps": 77}).config.nb_steps == 77


def _edit(path, tmp_path, change):
    obj = torch.load(path, weights_only=True)
    change(obj)
    out = tmp_path / "edited.pt"
    torch.save(obj, out)
    return out


@pytest.mark.parametrize("change,error,words", [
    (lambda o: o.update(version=2), errors.CheckpointError, ["version 2", "reads version(s) 1"]),
    (lambda o: o.update(format="other"), errors.CheckpointError, ["'other'", FORMAT_NAME]),
    (lambda o: o["config"].update(widths=[10, 12, 9, 5]), errors.ShapeMismatchError, ["widths", "[10, 12, 9, 4]"]),
    (lambda o: o["config"].update(kinds=["silif", "silif", "readout"]), errors.CheckpointError, ["kinds", "csilif"]),
    (lambda o: o["config"].update(layer_max_delays=[0, 5, 0]), errors.CheckpointError, ["snn.0.delays", "is 0"]),
    (lambda o: o["config"].update(layer_max_delays=[5, 3, 0], max_delay=5), errors.CheckpointError,
     ["beyond", "layer_max_delays[1] = 3"]),
    (lambda o: o["config"].update(layer_max_delays=[5, 5, 2], max_delay=5), errors.MissingKeysError,
     ["snn.2.delays"]),
    (lambda o: o["config"].update(max_delay=9), errors.CheckpointError, ["max_delay"]),
    (lambda o: o["config"].pop("nb_steps"), errors.MissingKeysError, ["nb_steps"]),
    (lambda o: o["config"].update(colour="blue"), errors.UnexpectedKeysError, ["colour"]),
    (lambda o: o["config"].update(nb_steps=2.5), errors.CheckpointError, ["nb_steps", "positive int"]),
    (lambda o: o.update(extra=1), errors.UnexpectedKeysError, ["extra"]),
    (lambda o: o.pop("state_dict"), errors.MissingKeysError, ["state_dict"]),
    (lambda o: o["state_dict"].pop("snn.1.b"), errors.MissingKeysError, ["snn.1.b"]),
])
def test_inconsistent_files_are_refused(native_file, tmp_path, change, error, words):
    path = _edit(native_file, tmp_path, change)
    with pytest.raises(error) as info:
        load_model(path)
    for word in words:
        assert word in str(info.value)


def test_refuses_to_write_an_inconsistent_file(tmp_path):
    with pytest.raises(errors.CheckpointError):
        save_native(tmp_path / "bad.pt", _state(), _spec(max_delay=2))      # stored delays reach 5
    assert not (tmp_path / "bad.pt").exists()
    with pytest.raises(errors.CheckpointError):
        native_dict(_state(max_delay=0), _spec())                           # config says delays, none stored


def test_convert_authors_file(tmp_path):
    authors = save_state_dict(random_state_dict((10, 12, 4), ("silif",), seed=2), tmp_path / "a.pth")
    out = convert(authors, tmp_path / "a_native.pt", {"nb_steps": 30})
    network = load_model(out)
    _same_network(network, load_model(authors))
    assert network.config.nb_steps == 30 and spec_of(network).layer_max_delays == (0, 0)


def test_convert_paper_model_keeps_golden_behaviour(tmp_path, golden_counts):
    from silifc.reference.float_ref import run_float32

    out = convert(PAPER_MODELS["silif"], tmp_path / "silif_native.pt")
    from conftest import golden
    result = run_float32(load_model(out), golden_counts[:2])
    assert np.array_equal(result.spikes[0], golden("silif")["spikes_l0"][:2])


@pytest.mark.parametrize("engine", ["float", "float32", "int"])
def test_infer_accepts_native_files_with_delays(native_file, tmp_path, engine):
    out = tmp_path / "r.npz"
    assert main(["infer", str(native_file), "--engine", engine, "--out", str(out), "--json"]) == 0
    result = RunResult.load(out)
    assert result.spikes[0].shape[1] == 24           # random input uses the file's nb_steps


def test_check_accepts_native_files_and_cli_overrides(native_file, capsys):
    assert main(["check", str(native_file), "--weights", "int16", "--nb-steps", "30", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["widths"] == list(WIDTHS) and report["steps"] == 30
    assert report["decision_agreement"] >= 0.75


def test_engines_agree_on_a_delay_model(native_file):
    """Delays reach every engine: float32 torch, float64 reference and int16 agree on spikes."""
    from silifc.passes.fold import fold_network
    from silifc.reference.float_ref import run_float, run_float32
    from silifc.io.inputs import random_input
    from silifc.reference.int_ref import run_int
    from silifc.passes.quantize import quantize_network

    network = load_model(native_file)
    counts = random_input(10, 4, 24, 0.1, 2, seed=5)
    ref = run_float(fold_network(network), counts)
    f32 = run_float32(network, counts)
    q = quantize_network(fold_network(network), counts, 16)
    i16 = run_int(q, counts)
    assert (ref.spikes[0] != f32.spikes[0]).mean() < 0.01
    assert (ref.spikes[0] != i16.spikes[0]).mean() < 0.01
    from silifc.io.checkpoint import parse_state_dict

    plain = parse_state_dict({k: v for k, v in _state().items() if not k.endswith("delays")})
    assert not np.array_equal(run_float(fold_network(plain), counts).spikes[0], ref.spikes[0])
