"""Figures of the compiler's results, as small PNG files (matplotlib, the `plots` extra):

* `plot_check` (`silifc check --plot`): per hidden layer the spike flip rates float vs
  integer (end to end, and the layer alone on the float reference's input), and a spike
  raster of one sample: spikes both references agree on, and those only one has;
* `plot_run` (`silifc run --plot`): estimated cycles (or, on cores without a cycle model,
  instructions) of every step over time with the phases stacked, the real-time budget, and
  the memory map of flash and RAM by buffer;
* `plot_listen` (`silifc listen --plot`): the front end's counts as an image with the
  detections marked, and each keyword's probability per step.

Each returns a `Plot`: the file and the numbers drawn (tests compare them with their source).
No pyplot: figures are drawn off-screen (Agg) without touching a notebook's backend.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import SilifcError

_LAYER = re.compile(r"(?:^|_)(l\d+|readout)_")   # the layer in a buffer's name (memory.layer_prefixes)
DPI = 80
SIZE = (9.0, 6.0)             # inches: 720 x 480 pixels


class PlotError(SilifcError):
    pass


@dataclass(frozen=True, eq=False)
class Plot:
    path: Path
    series: dict = field(default_factory=dict)     # name -> the values drawn


def _figure(rows: int, height_ratios=None):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise PlotError("plots need matplotlib: pip install 'silifc[plots]' (or pip install matplotlib)") from exc
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, 1, gridspec_kw={"height_ratios": height_ratios} if height_ratios else None)
    return figure, axes


def _save(figure, path: str | Path, series: dict) -> Plot:
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise PlotError(f"{path}: plots are PNG files; give a name ending in .png")
    path.parent.mkdir(parents=True, exist_ok=True)
    from io import BytesIO

    from PIL import Image              # matplotlib's own dependency

    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    # A 256-colour palette: a third of the bytes of the RGBA image, the same picture to the eye.
    image = Image.open(buffer).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    image.save(path, format="PNG", optimize=True)
    return Plot(path=path, series=series)


# ---------------------------------------------------------------- silifc check

def plot_check(check, path: str | Path, sample: int = 0, title: str = "") -> Plot:
    """check: silifc.api.Check (FidelityReport + both references' spikes)."""
    report = check.report
    figure, (rates, raster) = _figure(2, height_ratios=(1, 2))
    names = [layer.name for layer in report.layers]
    end_to_end = [100 * layer.flip_rate for layer in report.layers]
    alone = [100 * layer.flip_rate_alone for layer in report.layers]
    x = np.arange(len(names))
    rates.bar(x - 0.2, end_to_end, 0.4, label="end to end", color="tab:red")
    rates.bar(x + 0.2, alone, 0.4, label="layer alone (float input)", color="tab:orange")
    rates.set_xticks(x, [f"{n} ({layer.kind}, Q{31 - layer.frac_bits}.{layer.frac_bits})"
                         for n, layer in zip(names, report.layers)])
    rates.set_ylabel("spikes flipped, %")
    rates.set_title(f"{title + ': ' if title else ''}float64 vs integer (int{report.weight_bits} weights), "
                    f"{report.samples} samples x {report.steps} steps; decisions agree "
                    f"{100 * report.decision_agreement:.1f} %", fontsize=10)
    rates.legend(fontsize=8)
    offset, both, float_only, int_only, ticks = 0, [], [], [], []
    for layer, f, i in zip(report.layers, check.float_result.spikes, check.int_result.spikes):
        f, i = np.asarray(f[sample], bool), np.asarray(i[sample], bool)
        for mask, out in ((f & i, both), (f & ~i, float_only), (~f & i, int_only)):
            t, n = np.nonzero(mask)
            out.append((t, n + offset))
        ticks.append(offset + f.shape[1] / 2)
        offset += f.shape[1]
        raster.axhline(offset - 0.5, color="0.8", lw=0.5)

    def points(parts):
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))

    counts = {}
    for parts, colour, label, size in ((both, "0.35", "both", 1.5), (float_only, "tab:blue", "float only", 6),
                                       (int_only, "tab:red", "integer only", 6)):
        t, n = points(parts)
        counts[label] = int(t.size)
        raster.scatter(t, n, s=size, c=colour, marker="s" if label == "both" else "x", linewidths=0.8,
                       label=f"{label}: {t.size}")
    raster.set_xlim(-0.5, check.int_result.spikes[0].shape[1] - 0.5)
    raster.set_ylim(-0.5, offset - 0.5)
    raster.set_yticks(ticks, names)
    raster.set_xlabel("step")
    raster.set_title(f"hidden spikes of sample {sample}", fontsize=10)
    raster.legend(fontsize=8, loc="upper right", markerscale=2)
    return _save(figure, path, {"layers": names, "flip_rate_percent": end_to_end, "flip_rate_alone_percent": alone,
                                "sample": sample, "spikes": counts})


# ---------------------------------------------------------------- silifc run

def _memory_groups(plan, used: int, section: str, region_size: int, stack: int = 0) -> list[tuple[str, int]]:
    """(label, bytes) of one region: the plan's buffers grouped per layer, then what the link adds."""
    groups: dict[str, int] = {}
    for buffer in plan.buffers:
        if buffer.section != section:
            continue
        name = buffer.name.split(".", 1)[1] if "." in buffer.name else buffer.name
        layer = _LAYER.search(name)
        kind = "weights" if "weight" in name or "row_sum" in name else "constants" if section == "flash" else "state"
        label = f"{layer.group(1) if layer else 'shared'} {kind}"
        groups[label] = groups.get(label, 0) + buffer.bytes
    planned = sum(groups.values())
    rows = sorted(groups.items(), key=lambda item: -item[1])
    if stack:
        rows.append(("stack", stack))
    other = used - planned - stack
    if other > 0:
        rows.append(("code, runtime, harness" if section == "flash" else "harness, runtime data", other))
    return rows


def plot_run(run, path: str | Path, title: str = "") -> Plot:
    """run: silifc.api.FirmwareResult."""
    profile, board = run.profile, run.board
    cycles = profile.has_cycles
    unit = f"est. {profile.cycle_model} cycles" if cycles else "instructions"
    figure, (steps, memory) = _figure(2, height_ratios=(2, 1))
    phases, labels = [], []
    for layer in profile.layers:
        short = layer.name.rsplit("_", 1)[-1]
        phases += [layer.synapse_cycles if cycles else layer.synapses, layer.neuron_cycles if cycles else layer.neurons]
        labels += [f"{short} synapses", f"{short} {'readout' if layer.kind == 'readout' else 'neurons'}"]
    x = np.arange(profile.steps)
    steps.stackplot(x, *phases, labels=labels, linewidth=0)
    per_sample = run.inputs.counts.shape[1]
    for boundary in range(per_sample, profile.steps, per_sample):
        steps.axvline(boundary - 0.5, color="0.6", lw=0.5, ls=":")
    total = np.sum(phases, axis=0)
    budget_note = ""
    if cycles and run.budget_cycles <= 3 * total.max():
        steps.axhline(run.budget_cycles, color="k", lw=1, ls="--")
        steps.text(0, run.budget_cycles, f" real-time budget: {run.budget_cycles:,.0f} cycles "
                   f"({run.time_step_ms:g} ms at {board.clock_hz / 1e6:g} MHz)", va="bottom", fontsize=8)
        steps.set_ylim(0, max(run.budget_cycles, float(total.max())) * 1.08)
    elif cycles:
        budget_note = f" ({100 * total.max() / run.budget_cycles:.1f} % of the real-time budget)"
    steps.set_xlim(0, profile.steps - 1)
    steps.set_xlabel(f"step ({run.inputs.counts.shape[0]} samples x {per_sample} steps)")
    steps.set_ylabel(f"{unit} per step")
    steps.set_title(f"{title + ': ' if title else ''}{unit} per step, mean {total.mean():,.0f}, max {total.max():,.0f}"
                    f"{budget_note}; {profile.synapses} synapses", fontsize=10)
    steps.legend(fontsize=7, loc="upper right", ncol=2)
    regions = (("flash", run.report.flash_used, board.flash.size, 0),
               ("ram", run.report.ram_used, board.ram.size, board.stack_size))
    drawn = {}
    for row, (section, used, size, stack) in enumerate(regions):
        left = 0
        parts = _memory_groups(run.plan, used, section, size, stack)
        drawn[section] = parts
        for index, (label, value) in enumerate(parts):
            memory.barh(row, 100 * value / size, left=100 * left / size, color=f"C{index % 10}", edgecolor="white",
                        lw=0.5)
            if value / size > 0.06:
                memory.text(100 * (left + value / 2) / size, row, f"{label}\n{value / 1024:,.1f} KB", ha="center",
                            va="center", fontsize=7)
            left += value
    memory.set_yticks([0, 1], [f"flash\n{board.flash.size // 1024} KB", f"RAM\n{board.ram.size // 1024} KB"])
    memory.set_xlim(0, 100)
    memory.set_xlabel(f"% of the region ({board.name}; RAM: one model context, the stack, the rest as linked)")
    memory.invert_yaxis()
    return _save(figure, path, {"unit": unit, "per_step": total, "phases": labels,
                                "budget": run.budget_cycles if cycles else None, "memory": drawn})


# ---------------------------------------------------------------- silifc listen

def plot_listen(trace, path: str | Path, classes, keywords: int, title: str = "") -> Plot:
    """trace: silifc.kws.stream.StreamTrace; classes: the model's class names, the first
    `keywords` of them the words it reports."""
    figure, (image, probability) = _figure(2, height_ratios=(3, 2))
    seconds = trace.steps * trace.step_samples / trace.sample_rate
    image.imshow(np.asarray(trace.counts).T, aspect="auto", origin="lower", cmap="magma", interpolation="nearest",
                 extent=(0, seconds, -0.5, trace.counts.shape[1] - 0.5))
    marks = []
    for detection in trace.detections:
        when = detection.time_ms / 1000
        marks.append((detection.word, detection.time_ms))
        for axis in (image, probability):
            axis.axvline(when, color="cyan" if axis is image else "k", lw=1.2, ls="--")
        image.text(when, trace.counts.shape[1] - 1, f" {detection.word}", color="cyan", va="top", fontsize=9)
    image.set_ylabel("front-end band")
    image.set_title(f"{title + ': ' if title else ''}front-end counts per {1000 * trace.step_samples / trace.sample_rate:g}"
                    f" ms step, {len(trace.detections)} detections (dashed)", fontsize=10)
    t = (np.arange(trace.steps) + 1) * trace.step_samples / trace.sample_rate
    p = np.asarray(trace.probabilities, np.float64) / 65536.0
    for k in range(keywords):
        probability.plot(t, p[:, k], lw=0.8, label=classes[k])
    probability.set_xlim(0, seconds)
    probability.set_ylim(0, 1.02)
    probability.set_xlabel("time, s")
    probability.set_ylabel("p per step")
    probability.legend(fontsize=7, ncol=5, loc="upper right")
    return _save(figure, path, {"counts_shape": tuple(trace.counts.shape), "detections": marks})
