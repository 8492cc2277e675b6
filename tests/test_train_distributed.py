"""Training under torchrun (2 CPU processes, gloo) = its documented single-process equivalent
(--shards 2), bit for bit; masked (stream) training data."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from silifc.errors import InputDataError
from silifc.train.training import TrainOptions, parse_arch, train
from silifc.io.inputs import check_mask

pytestmark = pytest.mark.unit


def _data(path, n=48, steps=24, inputs=8):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, n)
    counts = rng.poisson(0.2, (n, steps, inputs))
    for i, label in enumerate(labels):          # a learnable class signal in the second half
        counts[i, 12:, label * 2:(label + 1) * 2] += rng.poisson(1.0, (steps - 12, 2))
    mask = np.zeros((n, steps), np.uint8)
    mask[:, 10:] = 1
    np.savez(path, inputs=counts.astype(np.uint8), labels=labels, mask=mask)
    return counts, labels, mask


def _silifc(args, cwd, nproc=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("WORLD_SIZE", None)
    if nproc:
        command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(nproc),
                   "--standalone", "-m", "silifc.cli", *args]
    else:
        command = [sys.executable, "-m", "silifc.cli", *args]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_torchrun_two_processes_equal_single_process_shards(tmp_path):
    _data(tmp_path / "d.npz")
    common = ["train", "d.npz", "--arch", "silif:8", "--epochs", "2", "--batch-size", "16", "--seed", "3",
              "--threads", "1", "--quiet", "--dropout", "0.2"]
    _silifc([*common, "--out", "ddp.pt"], tmp_path, nproc=2)
    _silifc([*common, "--shards", "2", "--out", "one.pt"], tmp_path)
    _silifc([*common, "--out", "plain.pt"], tmp_path)
    ddp = torch.load(tmp_path / "ddp.pt", weights_only=True)["state_dict"]
    one = torch.load(tmp_path / "one.pt", weights_only=True)["state_dict"]
    plain = torch.load(tmp_path / "plain.pt", weights_only=True)["state_dict"]
    assert ddp.keys() == one.keys()
    assert all(torch.equal(ddp[k], one[k]) for k in ddp), "torchrun x2 differs from --shards 2"
    # the equivalence is not vacuous: one process without shards trains a different model
    assert not all(torch.equal(plain[k], one[k]) for k in plain)


def test_mask_restricts_the_loss_to_marked_steps(tmp_path):
    counts, labels, mask = _data(tmp_path / "d.npz")
    spec = parse_arch("silif:8", counts.shape[2], 3)
    options = TrainOptions(epochs=1, batch_size=16, progress=False, seed=0)
    masked = train(counts, labels, spec, options, mask=mask)
    unmasked = train(counts, labels, spec, options)
    a, b = masked.model.state_dict(), unmasked.model.state_dict()
    assert not all(torch.equal(a[k], b[k]) for k in a)
    x = torch.as_tensor(counts[:4], dtype=torch.float32)
    m = torch.zeros(4, counts.shape[1])
    m[:, -1] = 1
    out_last, _ = masked.model(x, m)                 # one marked step: a probability vector
    assert torch.allclose(out_last.sum(dim=1), torch.ones(4), atol=1e-5)


def test_mask_errors():
    counts = np.zeros((3, 5, 2))
    with pytest.raises(InputDataError, match="mask shape"):
        check_mask(np.ones((3, 4), np.uint8), counts, "d")
    with pytest.raises(InputDataError, match="0/1"):
        check_mask(np.full((3, 5), 2, np.uint8), counts, "d")
    with pytest.raises(InputDataError, match="sample 1 has an all-zero mask"):
        check_mask(np.array([[1] * 5, [0] * 5, [1] * 5], np.uint8), counts, "d")
    assert check_mask(None, counts, "d") is None


def test_framewise_loss(tmp_path):
    from silifc.errors import ConfigError

    counts, labels, mask = _data(tmp_path / "d.npz")
    spec = parse_arch("silif:8", counts.shape[2], 3)
    result = train(counts, labels, spec, TrainOptions(epochs=1, batch_size=16, progress=False, loss="framewise"),
                   mask=mask)
    x = torch.as_tensor(counts[:4], dtype=torch.float32)
    one = torch.zeros(4, counts.shape[1])
    one[:, 5] = 1
    out, _ = result.model(x, one, framewise=True)             # one marked step: that step's log-softmax
    assert torch.allclose(out.exp().sum(dim=1), torch.ones(4), atol=1e-5)
    out_all, _ = result.model(x, torch.as_tensor(mask[:4], dtype=torch.float32), framewise=True)
    assert (out_all.exp().sum(dim=1) <= 1 + 1e-5).all()        # a mean of log-probabilities: a geometric mean
    with pytest.raises(ConfigError, match="loss must be one of"):
        TrainOptions(loss="hinge").check()
