"""Training: learning, delays, QAT, best-model checkpoints, train -> infer exactness, CLI, bad data."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from silifc.io.models import load_model
from silifc.cli import main
from silifc.io.datasets import load_dataset
from silifc.errors import ConfigError, InputDataError
from silifc.passes.fold import fold_network
from silifc.reference.float_ref import run_float, run_float32
from silifc.reference.int_ref import run_int
from silifc.reference.nn import load_module
from silifc.io.native import read_native
from silifc.passes.quantize import quantize_network
from silifc.train.tasks import TimingTask, make_timing_task, write_timing_task
from silifc.train.training import TrainOptions, accuracy, parameter_counts, parse_arch, train
from silifc.io.inputs import check_dataset

from test_inputs import write_shd

pytestmark = pytest.mark.unit

TASK = TimingTask(n_groups=3, group_size=4, steps=24, n_classes=3, max_offset=8, min_distance=4, tail=6,
                  jitter=0, n_train=192, n_test=96, seed=5)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data():
    return make_timing_task(TASK)


def _options(**changes):
    base = dict(epochs=4, finetune_epochs=2, qat_epochs=0, batch_size=16, lr=0.02, progress=False, seed=0)
    base.update(changes)
    return TrainOptions(**base)


@pytest.fixture(scope="module")
def delay_run(data, tmp_path_factory):
    torch.set_num_threads(1)
    x, y, xt, yt = data
    spec = parse_arch("silif:12", TASK.n_inputs, TASK.n_classes, 8, "all")
    out = tmp_path_factory.mktemp("delay") / "best.pt"
    result = train(x, y, spec, _options(qat_epochs=2, out=out), val=(xt, yt))
    return result, out


def test_loss_decreases_and_history_has_every_phase(delay_run):
    result, _ = delay_run
    phases = [h["phase"] for h in result.history]
    assert phases.count("train") == 4 and phases.count("finetune") == 2 and phases.count("qat") == 3
    train_losses = [h["loss"] for h in result.history if h["phase"] == "train"]
    assert min(train_losses[1:]) < train_losses[0]
    sigmas = [h["sigma"] for h in result.history if h["phase"] == "train"]
    assert sigmas == sorted(sigmas, reverse=True) and sigmas[0] > sigmas[-1]


def test_best_checkpoint_is_saved_reloadable_and_what_was_selected(delay_run, data):
    result, out = delay_run
    _, _, xt, yt = data
    network, spec, meta = read_native(out)
    assert spec == result.spec and meta["best"]["phase"] == "qat" and meta["best"]["weight_bits"] == 8
    module, _ = load_module(out)
    module.set_weight_bits(8)
    assert accuracy(module, xt, yt) == pytest.approx(result.best["val_accuracy"])
    assert result.best["val_accuracy"] > 0.6                       # it learned (chance is 1/3)
    qat_start = next(h for h in result.history if h["phase"] == "qat" and h["epoch"] == 0)["val_accuracy"]
    assert result.best["val_accuracy"] >= qat_start            # QAT never returns a worse model


def test_rounded_delays_are_integers_within_range(delay_run):
    _, out = delay_run
    network = load_model(out)
    for layer in network.layers:
        assert layer.delays is not None and layer.delays.dtype == np.int64
        assert layer.delays.min() >= 0 and layer.delays.max() <= 8
    assert len(np.unique(network.layers[0].delays)) > 3        # learned, not all equal
    obj = torch.load(out, weights_only=True)
    assert not any("delay_pos" in key for key in obj["state_dict"])


def test_train_then_infer_is_spike_exact(delay_run, data):
    """The trained module, the float32 engine of the saved file and (in float64) the compiler's
    float reference over folded constants produce the same spikes on the test set."""
    result, out = delay_run
    _, _, xt, _ = data
    model = result.model
    with torch.no_grad():
        out32, spikes32 = model(torch.as_tensor(xt, dtype=torch.float32))
    network = load_model(out)
    engine = run_float32(network, xt)
    assert sum(int(s.sum()) for s in spikes32) > 0
    for got, want in zip(engine.spikes, spikes32):
        assert np.array_equal(got, want.numpy().astype(np.uint8))
    model64 = load_module(out)[0].double()
    with torch.no_grad():
        out64, spikes64 = model64(torch.as_tensor(xt, dtype=torch.float64))
    reference = run_float(fold_network(network), xt)
    for got, want in zip(reference.spikes, spikes64):
        assert np.array_equal(got, want.numpy().astype(np.uint8))
    assert np.abs(reference.outputs - out64.numpy()).max() < 1e-9
    assert np.array_equal(reference.decisions, out32.numpy().argmax(axis=1)) or \
        (reference.decisions != out32.numpy().argmax(axis=1)).mean() < 0.02


def test_integer_reference_runs_the_trained_delay_model(delay_run, data):
    _, out = delay_run
    x, _, xt, yt = data
    folded = fold_network(load_model(out))
    quantized = quantize_network(folded, x[:32], 16)
    assert quantized.hidden[0].synapses.max_delay > 0
    agree = (run_int(quantized, xt).decisions == run_float(folded, xt).decisions).mean()
    assert agree >= 0.95


def test_model_learns_the_task(data):
    x, y, xt, yt = data
    spec = parse_arch("silif:12", TASK.n_inputs, TASK.n_classes)
    result = train(x, y, spec, _options(epochs=5), val=(xt, yt))
    assert result.best["val_accuracy"] > 0.5                       # chance is 1/3
    assert "snn.0.delays" not in result.model.state_dict()


def test_seed_makes_runs_reproducible(data):
    x, y, _, _ = data
    spec = parse_arch("silif:6", TASK.n_inputs, TASK.n_classes, 4, "first")
    runs = [train(x[:64], y[:64], spec, _options(epochs=1, finetune_epochs=1, seed=seed, val_split=0.25))
            for seed in (3, 3, 4)]
    states = [r.model.state_dict() for r in runs]
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    assert not torch.equal(states[0]["snn.0.W.weight"], states[2]["snn.0.W.weight"])


def test_csilif_trains_and_loads(data, tmp_path):
    x, y, _, _ = data
    spec = parse_arch("csilif:8", TASK.n_inputs, TASK.n_classes, 3, "first")
    result = train(x[:64], y[:64], spec, _options(epochs=2, finetune_epochs=1, out=tmp_path / "c.pt"))
    assert np.isfinite(result.history[-1]["loss"])
    assert [layer.kind for layer in load_model(tmp_path / "c.pt").layers] == ["csilif", "readout"]


def test_init_from_a_model_keeps_its_delays(delay_run, data, tmp_path):
    _, out = delay_run
    x, y, _, _ = data
    init, spec = load_module(out)
    result = train(x[:96], y[:96], spec, _options(epochs=1, out=tmp_path / "ft.pt"), init_state=init.state_dict())
    assert result.history[0]["phase"] == "train"
    assert np.array_equal(load_model(tmp_path / "ft.pt").layers[0].delays, load_model(out).layers[0].delays)


def test_parameter_counts():
    spec = parse_arch("silif:16", 32, 8, 24, "hidden")
    counts = parameter_counts(spec)
    assert counts["weights"] == 32 * 16 + 16 * 8 and counts["delays"] == 32 * 16 and counts["delay_bits"] == 5
    assert spec.layer_max_delays == (24, 0)


@pytest.mark.parametrize("arch,error", [("", "empty"), ("lif:8", "KIND:WIDTH"), ("silif:x", "KIND:WIDTH"),
                                        ("silif:0", "KIND:WIDTH")])
def test_bad_architecture(arch, error):
    with pytest.raises(ConfigError, match=error):
        parse_arch(arch, 4, 2)


@pytest.mark.parametrize("counts,labels,words", [
    (np.zeros((4, 5)), np.zeros(4), ["[samples, steps, channels]"]),
    (np.zeros((4, 5, 3)), None, ["no labels"]),
    (np.zeros((4, 5, 3)), np.zeros(3), ["3 labels", "4 samples"]),
    (np.zeros((4, 5, 3)), np.array([0, 1, 2, 3]), ["label 3 out of range", "--classes"]),
    (np.zeros((4, 5, 3)), np.array([0, 1, -1, 0]), [">= 0"]),
    (np.full((4, 5, 3), 0.5), np.zeros(4), ["whole numbers"]),
    (-np.ones((4, 5, 3)), np.zeros(4), ["non-negative"]),
    (np.zeros((4, 5, 3)), np.array([0.5, 1, 0, 1]), ["integer class"]),
])
def test_bad_data(counts, labels, words):
    with pytest.raises(InputDataError) as info:
        check_dataset(counts, labels, 3)
    for word in words:
        assert word in str(info.value)


def test_bad_options(data):
    x, y, _, _ = data
    spec = parse_arch("silif:4", TASK.n_inputs, TASK.n_classes)
    with pytest.raises(ConfigError, match="validation split"):
        train(x[:3], y[:3], spec, _options(val_split=0.1))
    with pytest.raises(ConfigError, match="nothing to train"):
        train(x, y, spec, _options(epochs=0, finetune_epochs=0))
    with pytest.raises(InputDataError, match="channels"):
        train(x[:, :, :5], y, spec, _options())


# ---------------------------------------------------------------- command line

@pytest.fixture(scope="module")
def task_files(tmp_path_factory):
    return write_timing_task(tmp_path_factory.mktemp("task"), TASK)


def test_cli_train_then_infer(task_files, tmp_path, capsys):
    train_file, test_file = task_files
    out = tmp_path / "cli.pt"
    assert main(["train", str(train_file), "--arch", "silif:8", "--delays", "6", "--epochs", "2",
                 "--finetune-epochs", "1", "--qat-epochs", "1", "--batch-size", "32", "--seed", "1",
                 "--out", str(out), "--test", str(test_file), "--threads", "1", "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert "train 1/2" in captured.err and "qat start" in captured.err          # progress on stderr
    assert summary["out"] == str(out) and summary["arch"]["layer_max_delays"] == [6, 0]
    assert summary["best"]["phase"] in ("qat", "finetune", "train") and 0 <= summary["test_accuracy"] <= 1
    assert summary["parameters"]["weights"] == 12 * 8 + 8 * 3
    config = torch.load(out, weights_only=True)["config"]
    assert config["nb_steps"] == TASK.steps and config["spatial_bin"] == 1
    assert main(["infer", str(out), "--input", str(test_file), "--engine", "int", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["samples"] == TASK.n_test and 0 <= report["accuracy"] <= 1


def test_cli_init_qat_only(task_files, tmp_path, capsys):
    train_file, _ = task_files
    first = tmp_path / "first.pt"
    assert main(["train", str(train_file), "--arch", "silif:6", "--epochs", "1", "--out", str(first),
                 "--quiet", "--json"]) == 0
    capsys.readouterr()
    second = tmp_path / "second.pt"
    assert main(["train", str(train_file), "--init", str(first), "--epochs", "0", "--qat-epochs", "1",
                 "--out", str(second), "--quiet", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["best"]["weight_bits"] == 8 and second.exists()
    assert main(["train", str(train_file), "--init", str(first), "--arch", "silif:4", "--out",
                 str(tmp_path / "x.pt")]) == 2
    assert "--init takes the architecture" in capsys.readouterr().err


def test_cli_train_on_hdf5(tmp_path, capsys):
    rng = np.random.default_rng(0)
    samples = [(np.sort(rng.uniform(0, 0.5, 60)), rng.integers(0, 20, 60)) for _ in range(12)]
    path = write_shd(tmp_path / "tiny.h5", samples, [i % 2 for i in range(12)])
    out = tmp_path / "h5.pt"
    assert main(["train", str(path), "--arch", "silif:4", "--epochs", "1", "--nb-steps", "20",
                 "--max-time-s", "0.5", "--spatial-bin", "5", "--val-split", "0.25", "--out", str(out),
                 "--quiet", "--json"]) == 0
    config = torch.load(out, weights_only=True)["config"]
    assert config["widths"][0] == 4 and config["nb_steps"] == 20 and config["spatial_bin"] == 5
    assert config["max_time_s"] == 0.5 and config["time_step_ms"] == pytest.approx(500 / 19)
    data = load_dataset(path, spatial_bin=5, nb_steps=20, max_time_s=0.5)
    assert data.counts.shape == (12, 20, 4) and data.counts.sum() > 0


def test_cli_train_errors(tmp_path, capsys):
    unlabelled = tmp_path / "nolabels.npz"
    np.savez(unlabelled, inputs=np.zeros((4, 5, 3), np.uint8))
    assert main(["train", str(unlabelled), "--out", str(tmp_path / "m.pt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("silifc: error:") and "no labels" in err and "Traceback" not in err
    good = tmp_path / "good.npz"
    np.savez(good, inputs=np.zeros((8, 5, 3), np.uint8), labels=np.arange(8) % 2)
    assert main(["train", str(good), "--arch", "silif:4,bogus:3", "--out", str(tmp_path / "m.pt")]) == 2
    assert "bogus:3" in capsys.readouterr().err
    assert main(["train", str(good), "--classes", "1", "--out", str(tmp_path / "m.pt")]) == 2
    assert "out of range" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "missing.npz")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_cli_train_refuses_a_device_it_cannot_use_before_reading_data(tmp_path, capsys):
    missing = str(tmp_path / "missing.npz")        # never read: the device is checked first
    assert main(["train", missing, "--device", "mps"]) == 2       # a torch device, not one we support
    err = capsys.readouterr().err
    assert "only cpu and cuda" in err and "Traceback" not in err
    for malformed in ("tpu", "cuda:x"):
        assert main(["train", missing, "--device", malformed]) == 2
        assert "unknown training device" in capsys.readouterr().err
    if not torch.cuda.is_available():              # this CPU build: CUDA asked for, refused with what to do
        assert main(["train", missing, "--device", "cuda"]) == 2
        assert "sees no CUDA GPU" in capsys.readouterr().err

