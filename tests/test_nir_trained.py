"""The shipped snnTorch model (models/nir/timing_snntorch.nir, trained on the timing task by
models/nir/train_timing_snntorch.py): silifc's float reference runs exactly what snnTorch runs
(every spike), its accuracy is the one recorded at training, and `silifc run` on the .nir gives
firmware bit-exact with the integer reference in QEMU."""
import importlib.util
import json
import sys

import numpy as np
import pytest

from silifc.cli import main
from silifc.io.models import bundled_model_path, load_model
from silifc.passes.fold import fold_network
from silifc.reference.float_ref import run_float
from silifc.train.tasks import TimingTask, make_timing_task

MODEL = bundled_model_path("timing_snntorch.nir")


@pytest.fixture(scope="module")
def test_set():
    _, _, inputs, labels = make_timing_task(TimingTask())
    return inputs, labels


def _training_script():
    spec = importlib.util.spec_from_file_location("train_timing_snntorch", MODEL.parent / "train_timing_snntorch.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.unit
def test_the_float_reference_is_what_snntorch_runs(test_set):
    import torch

    script = _training_script()
    inputs, labels = test_set
    network = script.build_network(inputs.shape[2], 8)
    network.load_state_dict(torch.load(MODEL.with_suffix(".pt"), weights_only=True))
    with torch.no_grad():
        totals, hidden, out = script.run(network, inputs[:100])
    folded = fold_network(load_model(MODEL))
    assert folded.config.nir_dialect == "snntorch" and folded.config.time_step_ms == 1.0   # metadata, sidecar
    result = run_float(folded, inputs[:100])
    assert hidden.numpy().mean() > 0.01 and out.numpy().mean() > 0.01
    np.testing.assert_array_equal(result.spikes[0], hidden.numpy())
    np.testing.assert_array_equal(result.spikes[1], out.numpy())
    np.testing.assert_array_equal(result.outputs, totals.numpy())


@pytest.mark.unit
def test_accuracy_is_the_recorded_one(test_set):
    inputs, labels = test_set
    recorded = json.loads(MODEL.with_suffix(".json").read_text())["snntorch_test_accuracy"]
    accuracy = float((run_float(fold_network(load_model(MODEL)), inputs).decisions == labels).mean())
    assert accuracy == pytest.approx(recorded, abs=1e-9)
    assert accuracy > 0.5                        # 8 classes: chance is 12.5 %


@pytest.mark.firmware
def test_silifc_run_on_the_nir_file_is_bit_exact(test_set, tmp_path, capsys):
    inputs, labels = test_set
    np.savez(tmp_path / "test.npz", inputs=inputs[:24], labels=labels[:24])
    status = main(["run", "timing_snntorch.nir", "--input", str(tmp_path / "test.npz"), "--spikes", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert status == 0 and summary["bit_exact"]
    assert summary["outputs_equal"] == summary["decisions_equal"] == 24
    assert summary["spike_mismatches"] == [0, 0]
    assert summary["cycles_per_step"] > summary["instructions_per_step"] > 0


@pytest.mark.unit
def test_the_python_api_takes_the_nir_file(test_set):
    """silifc.load on a .nir: the dialect from the graph's metadata, the float engine the float64
    reference, float32 (the SiLIF authors' order) refused, and an explicit dialect honoured."""
    import silifc
    from silifc.errors import ConfigError

    inputs, _ = test_set
    model = silifc.load("timing_snntorch.nir")
    assert model.network.config.nir_dialect == "snntorch"
    got = model.infer(inputs[:8], engine="float")
    assert np.array_equal(got.decisions, run_float(fold_network(load_model(MODEL)), inputs[:8]).decisions)
    with pytest.raises(ConfigError, match="for a NIR graph use --engine float"):
        model.infer(inputs[:8], engine="float32")
    assert silifc.load("timing_snntorch.nir", nir_dialect="norse").network.config.nir_dialect == "norse"
