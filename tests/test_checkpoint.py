"""Checkpoint loading: architecture inference and every bad-input case, by message content."""
from __future__ import annotations


import pytest
import torch

from silifc import errors
from silifc.io.models import load_model
from silifc.io.checkpoint import parse_state_dict
from synthetic import random_state_dict

from conftest import PAPER_MODELS, save_state_dict

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("kind", ["silif", "csilif"])
def test_paper_models_architecture(kind, paper_networks):
    net = paper_networks[kind]
    assert net.widths == (140, 512, 512, 35)
    assert [layer.kind for layer in net.layers] == [kind, kind, "readout"]
    assert len(net.sha256) == 64


@pytest.mark.parametrize("widths,kinds", [
    ((7, 9, 3), ("csilif",)),
    ((20, 33, 17, 41, 5), ("silif", "csilif", "silif")),
    ((3, 1, 2), ("silif",)),
])
def test_any_depth_and_width(tmp_path, widths, kinds):
    path = save_state_dict(random_state_dict(widths, kinds, seed=3), tmp_path / "m.pth")
    net = load_model(path)
    assert net.widths == widths
    assert tuple(layer.kind for layer in net.hidden) == kinds


def _base():
    return random_state_dict((6, 8, 4), ("silif",), seed=0)


def _load_error(tmp_path, state, error):
    path = save_state_dict(state, tmp_path / "bad.pth")
    with pytest.raises(error) as info:
        load_model(path)
    return str(info.value)


def test_missing_key(tmp_path):
    state = _base()
    del state["snn.0.beta"]
    message = _load_error(tmp_path, state, errors.MissingKeysError)
    assert "snn.0.beta" in message and "silif" in message


def test_unexpected_key_in_layer(tmp_path):
    state = _base()
    state["snn.0.gamma_extra"] = torch.zeros(8)
    message = _load_error(tmp_path, state, errors.UnexpectedKeysError)
    assert "snn.0.gamma_extra" in message


def test_wrapped_prefix_is_explained(tmp_path):
    state = {"module." + k: v for k, v in _base().items()}
    message = _load_error(tmp_path, state, errors.UnexpectedKeysError)
    assert "module." in message and "prefix" in message


def test_shape_mismatch_between_layers(tmp_path):
    state = _base()
    state["snn.1.W.weight"] = torch.zeros(4, 9)
    message = _load_error(tmp_path, state, errors.ShapeMismatchError)
    assert "9 inputs" in message and "8 neurons" in message


def test_shape_mismatch_of_neuron_parameter(tmp_path):
    state = _base()
    state["snn.0.alpha"] = torch.zeros(7)
    message = _load_error(tmp_path, state, errors.ShapeMismatchError)
    assert "snn.0.alpha" in message and "[8]" in message


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_values(tmp_path, bad):
    state = _base()
    state["snn.1.W.weight"][0, 0] = bad
    message = _load_error(tmp_path, state, errors.NonFiniteValueError)
    assert "snn.1.W.weight" in message and "NaN/Inf" in message


def test_unknown_neuron_type(tmp_path):
    state = _base()
    for key in ("dt", "alpha", "beta", "a", "b"):
        del state[f"snn.0.{key}"]
    state["snn.0.tau_mem"] = torch.zeros(8)
    message = _load_error(tmp_path, state, errors.UnknownNeuronTypeError)
    assert "tau_mem" in message and "csilif" in message and "silif" in message


def test_readout_must_be_last(tmp_path):
    state = _base()
    for key in ("alpha",):
        del state[f"snn.1.{key}"]
    state["snn.1.dt"] = torch.zeros(4)
    state["snn.1.beta"] = torch.zeros(4)
    state["snn.1.a"] = torch.zeros(4)
    state["snn.1.b"] = torch.zeros(4)
    state["snn.1.alpha"] = torch.zeros(4)
    message = _load_error(tmp_path, state, errors.UnknownNeuronTypeError)
    assert "last layer" in message and "readout" in message


def test_missing_layer_index(tmp_path):
    state = {k.replace("snn.1.", "snn.2."): v for k, v in _base().items()}
    message = _load_error(tmp_path, state, errors.MissingKeysError)
    assert "snn.1" in message


def test_truncated_file(tmp_path):
    data = PAPER_MODELS["silif"].read_bytes()
    path = tmp_path / "cut.pth"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(errors.TruncatedCheckpointError) as info:
        load_model(path)
    assert "copy it again" in str(info.value)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pth"
    path.write_bytes(b"")
    with pytest.raises(errors.TruncatedCheckpointError, match="empty"):
        load_model(path)


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "notes.pth"
    path.write_text("hello, I am a text file\n")
    with pytest.raises(errors.NotACheckpointError) as info:
        load_model(path)
    assert "not a PyTorch checkpoint" in str(info.value) and "state_dict" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(errors.CheckpointError, match="no such file"):
        load_model(tmp_path / "nope.pth")


class _Payload:
    """Unpickling this would create a marker file: proof of code execution."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_code_is_refused_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"snn.0.W.weight": torch.zeros(2, 2), "payload": _Payload(marker)}, path)
    with pytest.raises(errors.UnsafeCheckpointError) as info:
        load_model(path)
    assert not marker.exists()
    assert "never executes" in str(info.value)


def test_legacy_pickle_with_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "legacy.pth"
    torch.save({"payload": _Payload(marker)}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(errors.UnsafeCheckpointError):
        load_model(path)
    assert not marker.exists()


def test_whole_model_object_is_refused(tmp_path):
    from silifc.reference.nn import SNN, Readout, SiLIF

    path = tmp_path / "model_object.pth"
    torch.save(SNN([SiLIF(4, 5), Readout(5, 2)]), path)
    with pytest.raises(errors.UnsafeCheckpointError, match="state_dict"):
        load_model(path)


def test_not_a_dict(tmp_path):
    path = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), path)
    with pytest.raises(errors.NotACheckpointError, match="not a state dict"):
        load_model(path)


def test_delays_key_is_checked():
    state = _base()
    state["snn.0.delays"] = torch.full((8, 6), -1, dtype=torch.int64)
    with pytest.raises(errors.CheckpointError, match="non-negative integer"):
        parse_state_dict(state)
    state["snn.0.delays"] = torch.zeros((8, 5), dtype=torch.int64)
    with pytest.raises(errors.ShapeMismatchError, match="delays"):
        parse_state_dict(state)
