"""Training SiLIF / C-SiLIF networks, optionally with learnable synaptic delays and
quantization-aware fine-tuning. docs/training.md describes the method; `silifc train`
is the command line.

Phases (each starts from the best model of the one before):

1. `train`   — Adam on all parameters. With delays, each synapse has a real position in
   [0, max_delay] spread over the delay axis by a Gaussian whose width sigma shrinks
   exponentially from `sigma_start` (default max_delay / 2) to `sigma_end` over the first
   `sigma_decay` fraction of the epochs (DCLS, Hammouamri et al. 2024); positions have their
   own learning rate and are clamped to the range after every step.
2. `finetune` — only with delays: positions rounded to integer steps, then training goes
   on with the integer delays (what the compiler and the firmware run).
3. `qat`     — optional: the forward pass uses the per-neuron int8 (or int16) rounding of
   the weights the compiler will produce (straight-through gradient; see silifc.reference.nn).

After every epoch the *deployable* model (delays rounded; in the qat phase with quantized
weights) is evaluated on the validation split, and the best one is kept and written to
`out` (native format). In the qat phase the selection restarts from the quantized
accuracy of the model it starts from, so QAT never returns a model worse on the
validation split than the one it was given.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..codegen.boards import load_board
from ..codegen.memory import MAX_SYNAPTIC_DELAY, ring_bytes
from ..errors import ConfigError, InputDataError
from ..ir import LAYER_KINDS, ModelConfig
from ..io.inputs import check_dataset, check_mask
from ..io.native import KINDS, ModelSpec, save_native
from ..progress import bar
from ..reference.nn import build_module

DELAY_PLACEMENTS = ("all", "hidden", "first")
LOSSES = ("sum-softmax", "framewise")


# ---------------------------------------------------------------- architecture

def parse_arch(arch: str, n_inputs: int, n_classes: int, max_delay: int = 0, delay_layers: str = "hidden",
               io: ModelConfig = ModelConfig()) -> ModelSpec:
    """"silif:64,csilif:32" -> ModelSpec (readout of n_classes appended).

    delay_layers: which layers' input synapses get delays 0..max_delay: "hidden" (every layer
    but the readout; default), "all" (the readout too, as DCLS) or "first" (only the input ->
    first hidden layer)."""
    if not isinstance(arch, str) or not arch.strip():
        raise ConfigError("--arch is empty; give hidden layers like 'silif:64,silif:64'")
    kinds, widths = [], []
    for part in arch.split(","):
        kind, _, width = part.strip().partition(":")
        kind = kind.strip().lower()
        if kind not in KINDS or not width.strip().isdigit() or int(width) < 1:
            raise ConfigError(f"--arch: {part.strip()!r} is not KIND:WIDTH with KIND one of {', '.join(KINDS)} "
                              "and WIDTH a positive integer (example: 'silif:64,silif:64')")
        kinds.append(kind)
        widths.append(int(width))
    if n_classes < 2:
        raise ConfigError(f"need at least 2 classes, got {n_classes}")
    check_max_delay(max_delay)
    if delay_layers not in DELAY_PLACEMENTS:
        raise ConfigError(f"delay layers must be one of {', '.join(DELAY_PLACEMENTS)}, got {delay_layers!r}")
    n_layers = len(kinds) + 1
    with_delays = {"all": range(n_layers), "hidden": range(n_layers - 1), "first": range(1)}[delay_layers]
    delays = tuple(max_delay if i in with_delays else 0 for i in range(n_layers))
    return ModelSpec(kinds=(*kinds, "readout"), widths=(n_inputs, *widths, n_classes), layer_max_delays=delays, io=io)


def check_max_delay(max_delay: int) -> None:
    """Refuse delays the firmware cannot store (one byte per delay: at most MAX_SYNAPTIC_DELAY
    steps), before any training."""
    if max_delay < 0:
        raise ConfigError(f"--delays must be >= 0, got {max_delay}")
    if max_delay > MAX_SYNAPTIC_DELAY:
        raise ConfigError(f"--delays {max_delay}: the firmware runtime stores a synaptic delay in one byte, so "
                          f"delays can be at most {MAX_SYNAPTIC_DELAY} steps (1.02 s at 4 ms per step); "
                          f"use --delays {MAX_SYNAPTIC_DELAY} or less (or a longer --time-step-ms)")


def delay_ram_warning(spec: ModelSpec, board_name: str = "nrf52840") -> str | None:
    """A warning when the delay rings of `spec` alone exceed the RAM of board_name (silifc's
    default board), so that a model that will not compile is noticed before training."""
    rings = [(index, delay, width, ring_bytes(delay, width))
             for index, (delay, width) in enumerate(zip(spec.layer_max_delays, spec.widths[1:])) if delay]
    total = sum(r[3] for r in rings)
    ram = load_board(board_name).ram.size
    if total <= ram:
        return None
    neurons = sum(r[2] for r in rings)
    fits = ram // (4 * neurons) - 1       # the longest delay whose rings alone would fit
    detail = ", ".join(f"layer {i}: {d + 1} slots x {w} neurons x 4 B = {b:,} B" for i, d, w, b in rings)
    return (f"delays up to {spec.max_delay} steps need delay rings of {total:,} bytes of RAM in firmware "
            f"({detail}): more than the {ram:,} bytes of {board_name}, so the trained model will not compile for "
            f"it; " + (f"the rings alone would fit with --delays {fits} or less (the rest of the model and the "
                       f"stack need RAM too)" if fits >= 1 else "use fewer neurons on the delayed layers")
            + " (docs/runtime.md, Delays)")


def parameter_counts(spec: ModelSpec) -> dict:
    """What a model of this spec stores: weights, other float parameters, integer delays."""
    neuron = {name: len(kind.params) for name, kind in LAYER_KINDS.items()}
    per_neuron = sum((neuron[kind] + 4) * width for kind, width in zip(spec.kinds, spec.widths[1:]))  # + BN (4)
    learned_bn = sum((neuron[kind] + 2) * width for kind, width in zip(spec.kinds, spec.widths[1:]))
    return {"weights": spec.weight_count(), "neuron_and_bn": per_neuron,
            "trainable_without_delays": spec.weight_count() + learned_bn,
            "delays": spec.delay_count(),
            "delay_bits": max(1, math.ceil(math.log2(spec.max_delay + 1))) if spec.max_delay else 0}


# ---------------------------------------------------------------- options and results

@dataclass
class TrainOptions:
    epochs: int = 30                 # phase 1
    finetune_epochs: int = 5         # phase 2 (only with delays)
    qat_epochs: int = 0              # phase 3
    qat_bits: int = 8
    batch_size: int = 64
    lr: float = 0.01                 # Adam, the authors' value
    delay_lr: float = 0.2            # Adam on positions (in steps); DCLS uses 100x its weight lr
    finetune_lr: float = 0.002
    qat_lr: float = 0.001
    weight_decay: float = 0.0
    dropout: float = 0.1
    sigma_start: float | None = None  # default max_delay / 2
    sigma_end: float = 0.25
    sigma_decay: float = 0.6         # fraction of phase-1 epochs over which sigma shrinks
    val_split: float = 0.1
    bn_samples: int = 1024           # training samples for the deployed model's batch-norm statistics (0: off)
    seed: int = 0
    out: str | Path | None = None    # best model, native format
    progress: bool = True
    stream: object = None            # progress output (default sys.stderr)
    loss: str = "sum-softmax"        # "sum-softmax": CE on the sum over time of the softmax (the authors');
                                     # "framewise": per-step cross entropy over the (masked) steps
    shards: int = 1                  # each batch in this many parts, batch norm per part, gradients averaged:
                                     # the single-process equivalent of that many data-parallel processes
    device: str = "cpu"              # where the training steps run ("cuda", "cuda:1"); evaluation and the
                                     # deployable copies stay on the CPU

    def check(self):
        for name in ("epochs", "finetune_epochs", "qat_epochs"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.epochs + self.finetune_epochs + self.qat_epochs == 0:
            raise ConfigError("nothing to train: epochs, finetune_epochs and qat_epochs are all 0")
        if self.batch_size < 1:
            raise ConfigError(f"batch size must be >= 1, got {self.batch_size}")
        if not 0 <= self.val_split < 1:
            raise ConfigError(f"validation split must be in [0, 1), got {self.val_split}")
        check_device(self.device)
        if self.qat_bits not in (8, 16):
            raise ConfigError(f"QAT weight bits must be 8 or 16, got {self.qat_bits}")
        for name in ("lr", "delay_lr", "finetune_lr", "qat_lr", "sigma_end"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.loss not in LOSSES:
            raise ConfigError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if self.shards < 1:
            raise ConfigError(f"shards must be >= 1, got {self.shards}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")


@dataclass
class TrainResult:
    model: object                    # torch SNN holding the best (deployable) parameters, eval mode
    spec: ModelSpec
    history: list = field(default_factory=list)   # one dict per epoch
    best: dict = field(default_factory=dict)      # phase, epoch, val accuracy (float or quantized)
    out: str | None = None
    seconds: float = 0.0

    def summary(self) -> dict:
        return {"arch": {"kinds": list(self.spec.kinds), "widths": list(self.spec.widths),
                         "layer_max_delays": list(self.spec.layer_max_delays)},
                "parameters": parameter_counts(self.spec), "best": self.best, "out": self.out,
                "epochs": len(self.history), "seconds": round(self.seconds, 1),
                "history": self.history}


# ---------------------------------------------------------------- data

def check_device(device: str) -> None:
    """Refuse a torch device that is malformed or absent here, before any data is read."""
    try:
        parsed = torch.device(device)
    except RuntimeError as exc:
        raise ConfigError(f"unknown training device {device!r} ({str(exc).splitlines()[0]}); "
                          "use cpu or cuda[:N]") from None
    if parsed.type == "cpu":
        return
    if parsed.type != "cuda":
        raise ConfigError(f"training device {device!r}: only cpu and cuda[:N] are supported")
    if not torch.cuda.is_available():
        raise ConfigError(f"training device {device!r}: this torch ({torch.__version__}) sees no CUDA GPU; "
                          "train with --device cpu, or install a CUDA build of torch on a machine with a GPU")
    if parsed.index is not None and parsed.index >= torch.cuda.device_count():
        raise ConfigError(f"training device {device!r}: only {torch.cuda.device_count()} CUDA device(s) here")


def split(counts, labels, val_split: float, seed: int, mask=None):
    """Seeded random train/validation split (validation: round(val_split * N) samples);
    a mask [N, T] (stream training) is split with its samples."""
    n = counts.shape[0]
    n_val = int(round(val_split * n))
    if val_split > 0 and n_val < 1:
        raise ConfigError(f"validation split {val_split} of {n} samples is empty; use more data or a larger split")
    if n - n_val < 1:
        raise ConfigError(f"validation split {val_split} leaves no training samples")
    order = np.random.default_rng([seed, 7]).permutation(n)
    val, train = order[:n_val], order[n_val:]
    if mask is not None:
        return (counts[train], labels[train], mask[train]), (counts[val], labels[val], mask[val]) if n_val else None
    return (counts[train], labels[train]), (counts[val], labels[val]) if n_val else None


# ---------------------------------------------------------------- evaluation

def predict(model, counts, batch_size: int = 256, dtype=torch.float32, mask=None) -> np.ndarray:
    """Decisions of the module in eval mode (the deployable forward), [N]; with mask [N, T]
    the decision over the marked steps (stream training)."""
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(counts), batch_size):
            x = torch.as_tensor(np.asarray(counts[start:start + batch_size]), dtype=dtype)
            m = None if mask is None else torch.as_tensor(np.asarray(mask[start:start + batch_size]), dtype=dtype)
            out.append(model(x, m)[0].argmax(dim=1).numpy())
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def accuracy(model, counts, labels, batch_size: int = 256, mask=None) -> float:
    return float((predict(model, counts, batch_size, mask=mask) == np.asarray(labels)).mean())


def recalibrate_batch_norm(model, counts, batch_size: int) -> None:
    """Replace every batch norm's running statistics by their exact average over `counts`
    ("precise BN"): forward passes in training mode (batch statistics, as in training),
    no dropout, no gradients. With the authors' momentum of 0.05 the running statistics of a
    short run still remember their initial values; the deployed model needs the real ones."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None                     # cumulative average over the batches below
    drops = [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    probabilities = [m.p for m in drops]
    for m in drops:
        m.p = 0.0
    model.train()
    with torch.no_grad():
        for start in range(0, len(counts), batch_size):
            batch = counts[start:start + batch_size]
            if len(batch) >= 2 or start == 0:
                model(torch.as_tensor(np.asarray(batch), dtype=torch.float32))
    for m, momentum in zip(norms, saved):
        m.momentum = momentum
    for m, p in zip(drops, probabilities):
        m.p = p
    model.eval()


def deployable(model, spec: ModelSpec, weight_bits: int | None = None, calibration=None, batch_size: int = 64):
    """A copy with integer delays (positions rounded), optionally simulated quantized weights,
    and (given calibration counts) batch-norm statistics recomputed for exactly this model."""
    copy_ = build_module(spec)
    copy_.load_state_dict(model.inference_state_dict())
    copy_.set_weight_bits(weight_bits)
    if calibration is not None and len(calibration) >= 2:
        recalibrate_batch_norm(copy_, calibration, batch_size)
    return copy_.eval()


# ---------------------------------------------------------------- progress

class Progress:
    """A progress bar per epoch on a terminal (tqdm: batches, loss); one line per epoch always."""

    def __init__(self, stream=None, enabled: bool = True):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self._bar = None
        self._label = None

    def batch(self, label: str, done: int, total: int, loss: float):
        if not self.enabled:
            return
        if self._bar is None or self._label != label:
            self._close()
            self._bar, self._label = bar(total, label, "batch", stream=self.stream), label
        self._bar.set_postfix_str(f"loss {loss:.3f}", refresh=False)
        self._bar.update(done - self._bar.n)

    def _close(self):
        if self._bar is not None:
            self._bar.close()
        self._bar = self._label = None

    def epoch(self, line: str):
        self._close()
        if self.enabled:
            self.stream.write(line + "\n")
            self.stream.flush()


# ---------------------------------------------------------------- training

def _sigma(options: TrainOptions, spec: ModelSpec, epoch: int) -> float:
    """Exponential decay from sigma_start to sigma_end over the first sigma_decay of the epochs."""
    start = options.sigma_start if options.sigma_start is not None else max(spec.max_delay / 2, options.sigma_end)
    decay_epochs = max(1, int(round(options.sigma_decay * options.epochs)))
    fraction = min(epoch / decay_epochs, 1.0)
    return float(start * (options.sigma_end / start) ** fraction)


def _optimizer(model, lr: float, delay_lr: float, weight_decay: float):
    positions = [p for name, p in model.named_parameters() if name.endswith("delay_pos")]
    others = [p for name, p in model.named_parameters() if not name.endswith("delay_pos")]
    groups = [{"params": others, "lr": lr, "weight_decay": weight_decay}]
    if positions:
        groups.append({"params": positions, "lr": delay_lr, "weight_decay": 0.0})
    return torch.optim.Adam(groups)


def _run_epoch(model, optimizer, counts, labels, batch_size, generator, progress, label, mask=None, shards=1,
               parallel=None, chunk_seed=None, framewise=False, device="cpu"):
    """One epoch. Each batch is cut into `shards` parts (batch norm statistics per part); the
    gradient is the sample-weighted mean of the parts' gradients. In one process all parts
    run here; under torchrun (`parallel`, silifc.train.distributed) rank r runs part r and DDP
    averages the gradients: the same arithmetic, and with shards > 1 every part's dropout
    draws from a seed of (chunk_seed, batch, part), so both give the same model."""
    model.train()
    order = torch.randperm(len(counts), generator=generator).numpy()
    total_loss, correct, seen = 0.0, 0, 0
    batches = math.ceil(len(counts) / batch_size)
    forward = parallel.wrap(model) if parallel is not None else model
    for index in range(batches):
        chosen = order[index * batch_size:(index + 1) * batch_size]
        if len(chosen) < 2 * shards and seen:   # batch norm needs two samples per part; fold strays into the next epoch
            continue
        parts = np.array_split(chosen, shards)
        optimizer.zero_grad()
        for part_index in ([parallel.rank] if parallel is not None else range(shards)):
            part = parts[part_index]
            if shards > 1:
                torch.manual_seed(int(np.random.SeedSequence([*chunk_seed, index, part_index]).generate_state(1)[0]))
            x = torch.as_tensor(counts[part], dtype=torch.float32, device=device)
            y = torch.as_tensor(labels[part], device=device)
            m = None if mask is None else torch.as_tensor(mask[part], dtype=torch.float32, device=device)
            out, _ = forward(x, m, framewise)
            # the authors' loss: CE on the sum over time of softmax; framewise: NLL of the mean log-softmax
            loss = F.nll_loss(out, y) if framewise else F.cross_entropy(out, y)
            weight = len(part) / len(chosen) * (parallel.world if parallel is not None else 1)
            (loss * weight if weight != 1 else loss).backward()
            total_loss += loss.item() * len(part)
            correct += int((out.argmax(dim=1) == y).sum())
            seen += len(part)
        optimizer.step()
        model.clamp_delay_positions()
        progress.batch(label, index + 1, batches, total_loss / max(seen, 1))
    if parallel is not None:
        total_loss, correct, seen = parallel.sum_floats(total_loss, correct, seen)
    return total_loss / max(seen, 1), correct / max(seen, 1)


def train(counts, labels, spec: ModelSpec, options: TrainOptions | None = None, val=None,
          meta: dict | None = None, init_state: dict | None = None, mask=None) -> TrainResult:
    """Train a model of `spec` on counts [N, T, inputs] and labels [N].

    val: optional (counts, labels) used instead of a split of the training data.
    init_state: start from these parameters (a state dict of the spec's modules, integer
    delays included); its delays stay fixed and there is no delay fine-tuning phase."""
    from .distributed import current_parallel

    options = options or TrainOptions()
    parallel = current_parallel(options.device)
    if parallel is not None:
        options = dataclasses.replace(options, shards=parallel.world, device=parallel.device,
                                      progress=options.progress and parallel.rank == 0)
        if parallel.rank != 0:
            options = dataclasses.replace(options, out=None)
    options.check()
    counts, labels = check_dataset(counts, labels, spec.n_classes, "training data")
    mask = check_mask(mask, counts, "training data")
    if counts.shape[2] != spec.n_inputs:
        raise InputDataError(f"training data has {counts.shape[2]} channels but the model takes {spec.n_inputs} inputs")
    if val is None:
        train_part, val = split(counts, labels, options.val_split, options.seed, mask)
        counts, labels = train_part[:2]
        mask = train_part[2] if mask is not None else None
    else:
        val_mask = check_mask(val[2] if len(val) > 2 else None, val[0], "validation data")
        val = (*check_dataset(*val[:2], spec.n_classes, "validation data"), val_mask)
        if val[0].shape[2] != spec.n_inputs:
            raise InputDataError(f"validation data has {val[0].shape[2]} channels; the model takes {spec.n_inputs}")
    if len(counts) < 2:
        raise InputDataError("training needs at least 2 training samples (batch norm uses batch statistics)")

    started = time.time()
    torch.manual_seed(options.seed)
    model = build_module(spec, dropout=options.dropout)
    generator = torch.Generator().manual_seed(options.seed)
    if init_state is not None:
        try:
            model.load_state_dict(init_state)
        except RuntimeError as exc:
            raise ConfigError(f"the initial model does not fit the architecture: {str(exc).splitlines()[0]}") from None
    elif spec.max_delay and options.epochs:
        for layer in model.snn:
            if layer.max_delay:
                layer.start_delay_learning(_sigma(options, spec, 0), generator)
    model.to(options.device)
    learns_delays = model.learning_delays
    progress = Progress(options.stream, options.progress)
    bn_data = None
    if options.bn_samples:
        pick = np.random.default_rng([options.seed, 11]).permutation(len(counts))[:options.bn_samples]
        bn_data = counts[np.sort(pick)]
    history: list[dict] = []
    best = {"score": -1.0}
    best_state = None
    base_meta = {"seed": options.seed, "options": {k: (str(v) if isinstance(v, Path) else v)
                                                    for k, v in dataclasses.asdict(options).items()
                                                    if k not in ("stream", "progress")}}
    base_meta.update(meta or {})

    def evaluate(phase, epoch, weight_bits=None, recalibrate=True):
        nonlocal best, best_state
        candidate = deployable(model, spec, weight_bits, bn_data if recalibrate else None, options.batch_size)
        if val is not None:
            score = accuracy(candidate, val[0], val[1], mask=val[2] if len(val) > 2 else None)
        else:
            score = float(len(history))   # no validation data: keep the latest model
        improved = score > best["score"]
        if improved:
            best = {"score": score, "phase": phase, "epoch": epoch,
                    "val_accuracy": score if val is not None else None,
                    "weight_bits": weight_bits}
            best_state = copy.deepcopy(candidate.inference_state_dict())
            if options.out is not None:
                save_native(options.out, best_state, spec,
                            {**base_meta, "best": {k: v for k, v in best.items() if k != "score"}})
        return score, improved

    def run_phase(phase, epochs, lr, delay_lr=0.0, weight_bits=None):
        nonlocal model
        if epochs == 0:
            return
        optimizer = _optimizer(model, lr, delay_lr, options.weight_decay)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        for epoch in range(1, epochs + 1):
            sigma = None
            if model.learning_delays:
                sigma = _sigma(options, spec, epoch - 1)
                model.set_sigma(sigma)
            label = f"{phase} {epoch}/{epochs}"
            loss, train_acc = _run_epoch(model, optimizer, counts, labels, options.batch_size, generator,
                                         progress, label, mask, options.shards, parallel,
                                         (options.seed, ("train", "finetune", "qat").index(phase), epoch),
                                         options.loss == "framewise", options.device)
            scheduler.step()
            score, improved = evaluate(phase, epoch, weight_bits)
            record = {"phase": phase, "epoch": epoch, "loss": loss, "train_accuracy": train_acc,
                      "val_accuracy": score if val is not None else None, "lr": optimizer.param_groups[0]["lr"]}
            if sigma is not None:
                record["sigma"] = sigma
            history.append(record)
            note = f" sigma {sigma:.2f}" if sigma is not None else ""
            val_text = f" val {100 * score:.1f}%" if val is not None else ""
            progress.epoch(f"{label}: loss {loss:.4f} train {100 * train_acc:.1f}%{val_text}{note}"
                           + (" *" if improved else ""))
            if not math.isfinite(loss):
                raise ConfigError(f"training diverged in phase {phase} epoch {epoch} (loss {loss}); "
                                  "lower the learning rate")

    def restart_from_best(weight_bits=None):
        nonlocal model
        model = build_module(spec, dropout=options.dropout)
        model.load_state_dict(best_state)
        model.set_weight_bits(weight_bits)
        model.to(options.device)

    if init_state is not None:                        # fine-tuning never returns a worse model than it got:
        evaluate("init", 0, recalibrate=False)        # the initial model, exactly as given, is a candidate
    run_phase("train", options.epochs, options.lr, options.delay_lr)
    if learns_delays and options.finetune_epochs:
        if best_state is not None:
            restart_from_best()
        model.round_delays()
        run_phase("finetune", options.finetune_epochs, options.finetune_lr)
    if options.qat_epochs:
        if best_state is not None:
            restart_from_best(options.qat_bits)
        model.round_delays()
        model.set_weight_bits(options.qat_bits)
        best = {"score": -1.0}
        evaluate("qat", 0, options.qat_bits)           # the starting point, quantized
        history.append({"phase": "qat", "epoch": 0, "val_accuracy": best.get("val_accuracy")})
        progress.epoch(f"qat start: int{options.qat_bits} weights, val "
                       + (f"{100 * best['val_accuracy']:.1f}%" if val is not None else "-"))
        run_phase("qat", options.qat_epochs, options.qat_lr, weight_bits=options.qat_bits)

    if best_state is None:                              # nothing was trained (e.g. only fine-tuning asked)
        evaluate("init", 0)
    final = build_module(spec)
    final.load_state_dict(best_state)
    final.eval()
    best.pop("score", None)
    return TrainResult(model=final, spec=spec, history=history, best=best,
                       out=None if options.out is None else str(options.out), seconds=time.time() - started)
