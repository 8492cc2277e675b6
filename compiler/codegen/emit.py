"""Emit a self-contained firmware project for a quantized model (templates/ own the C syntax).

Project layout (`silifc compile MODEL --board B -o DIR`):
    model/<prefix>_model.h, model/<prefix>_model.c   constants in flash, state in RAM, step()
    runtime/include/*.h, runtime/src/*.c             the C runtime, copied
    board/                                           startup, semihosting shim, linker scripts
    app/main.c                                       emulator test harness (SLFI in, SLFO out)
    Makefile, CMakeLists.txt                         bare-metal build / library for Zephyr etc.
    memory_report.txt, memory_report.json            the memory plan
    renode/<board>.resc, renode/<board>.robot        for users who have Renode
Generated files are deterministic: same inputs, same bytes.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from ..errors import SilifcError
from ..io.files import write_if_changed
from ..ir import LAYER_KINDS, QuantNetwork
from ..passes.quantize import LANES16_LIMIT, subset_sum_bound
from ..reference import fixedpoint as fx
from .boards import Board, compiler_flags
from .skeleton import write_firmware_skeleton
from .templates import banner, render
from .memory import (MAX_SYNAPTIC_DELAY, SYNAPSE_CHOICES, MemoryPlan, check_fits, delay_form, dense_rows,
                     dense_scratch_words, dense_stride, lanes16_layers, lanes16_scratch_size, layer_prefixes,
                     plan_memory)

WEIGHTS_PER_LINE = 16
_PREFIX = re.compile(r"[a-z_][a-z0-9_]{0,30}\Z")
_C_KEYWORDS = frozenset("auto break case char const continue default do double else enum extern float for goto if "
                        "inline int long register restrict return short signed sizeof static struct switch typedef "
                        "union unsigned void volatile while".split())


class CodegenError(SilifcError):
    pass


def check_prefix(prefix: str) -> str:
    if not _PREFIX.match(prefix) or prefix in _C_KEYWORDS or prefix.startswith("slf_"):
        raise CodegenError(f"--prefix {prefix!r} must be a lower-case C identifier (letters, digits, _; at most "
                           "31 characters; not a C keyword; not starting with slf_, the runtime's namespace)")
    return prefix


def _rows(values, per_line=WEIGHTS_PER_LINE):
    """Lines of at most per_line values; a 2-D array starts a new line for every row
    (one presynaptic neuron's weights), so the C reads like the matrix."""
    values = np.asarray(values)
    matrix = values.reshape(1, -1) if values.ndim < 2 else values.reshape(values.shape[0], -1)
    lines = []
    for row in matrix:
        row = [int(v) for v in row]
        lines += [row[i:i + per_line] for i in range(0, len(row), per_line)]
    return lines


def _pack_nibbles(delays: np.ndarray) -> np.ndarray:
    """[in, out] delays 0..15 -> [in, ceil(out/2)] bytes, even neuron in the low nibble."""
    n_in, n_out = delays.shape
    padded = np.zeros((n_in, n_out + (n_out % 2)), dtype=np.int64)
    padded[:, :n_out] = delays
    return padded[:, 0::2] | (padded[:, 1::2] << 4)


def dense_weight_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[n_in, n_out] int8 weights -> (the uint8 table of slf_dense.h, int32 row sums).

    Offset-binary bytes u = q + 128, rows padded to blocks of 4 and inputs to a multiple of 8
    (padding u = 128: weight 0); one 16-byte group holds 4 inputs of 4 rows, row-major."""
    weights = np.asarray(weights, dtype=np.int64)
    n_in, n_out = weights.shape
    stride, rows = dense_stride(n_in), dense_rows(n_out)
    table = np.full((rows, stride), 128, dtype=np.int64)
    table[:n_out, :n_in] = weights.T + 128
    blocked = table.reshape(rows // 4, 4, stride // 4, 4).transpose(0, 2, 1, 3)
    return blocked.reshape(-1).astype(np.uint8), table[:n_out].sum(axis=1)


# The per-neuron constants of each kind's C record (slf_<kind>_neuron), after mult and bias.
NEURON_RECORD_FIELDS = {"silif": ("k_alpha", "k_beta", "k_a", "jump"), "csilif": ("k_re", "k_im"),
                        "readout": ("k_alpha",)}


def _neuron_records(layer) -> list[dict]:
    syn = layer.synapses
    records = []
    for i in range(syn.n_out):
        record = {"mult": int(syn.mult[i]), "bias": int(syn.bias[i])}
        record.update({field: int(getattr(layer, field)[i]) for field in NEURON_RECORD_FIELDS[layer.kind]})
        records.append(record)
    return records


def _layer_context(index: int, name: str, layer, previous: str | None, scratch: str | None = None,
                   lanes: str | None = None) -> dict:
    """scratch: the dense scratch buffer's name for --synapses dense, None for event-driven.
    lanes: the 16-bit lane scratch's name for a layer that accumulates through int16 lanes
    (quantize.lanes16_exact), else None."""
    syn = layer.synapses
    suffix = f"s{syn.weight_bits}"
    form = delay_form(syn)
    if syn.max_delay > MAX_SYNAPTIC_DELAY:
        raise CodegenError(f"{name}: delays up to {syn.max_delay} steps; the runtime packs delays in 4 bits "
                           f"(at most {MAX_SYNAPTIC_DELAY}). Retrain with --delays {MAX_SYNAPTIC_DELAY} or less")
    variant = {"none": "", "axonal": "_axonal", "synaptic": "_delayed"}[form]
    delay_arg = "" if form == "none" else f"&{name}_delays, "
    dense = scratch is not None
    if dense and previous is None:
        call = f"slf_dense_events_s8(&{name}_weights, events, n_events, &{scratch}, &{name}_ring)"
    elif dense:
        call = f"slf_dense_spikes_s8(&{name}_weights, {previous}_spiked, &{scratch}, &{name}_ring)"
    elif lanes is not None:
        call = f"slf_accumulate_spikes_s8_lanes16(&{name}_weights, &{previous}_spikes, &{lanes}, &{name}_ring)"
    elif previous is None:
        call = f"slf_accumulate_events_{suffix}{variant}(&{name}_weights, {delay_arg}events, n_events, &{name}_ring)"
    else:
        call = f"slf_accumulate_spikes_{suffix}{variant}(&{name}_weights, {delay_arg}&{previous}_spikes, &{name}_ring)"
    if form == "synaptic":
        delay_rows = _rows(_pack_nibbles(syn.delays))
    elif form == "axonal":
        delay_rows = _rows(syn.delays[:, 0].ravel())
    else:
        delay_rows = []
    title = (f"{name}: {LAYER_KINDS[layer.kind].title} {syn.n_in} -> {syn.n_out}, state Q{31 - layer.frac_bits}.{layer.frac_bits}, "
             f"int{syn.weight_bits} weights" + ("" if form == "none" else f", {form} delays <= {syn.max_delay}")
             + (", dense synapses" if dense else "")
             + (f", 16-bit lane sums (subset-sum bound {subset_sum_bound(syn.weights)} <= {LANES16_LIMIT})"
                if lanes is not None else ""))
    if dense:
        table, row_sum = dense_weight_table(syn.weights)
        stride = dense_stride(syn.n_in)
        weight_rows = _rows(table)                  # 16 per line: 4 inputs of the 4 rows of a block
        dense_context = {"stride": stride, "rows": dense_rows(syn.n_out), "row_sum_rows": _rows(row_sum, 8)}
    else:
        weight_rows, dense_context = _rows(syn.weights), None
    context = {
        "index": index, "name": name, "kind": layer.kind, "title": title, "n_in": syn.n_in, "n_out": syn.n_out,
        "weight_ctype": f"int{syn.weight_bits}_t", "weight_suffix": suffix, "dense": dense_context,
        "weight_rows": weight_rows, "delay_form": form, "delay_rows": delay_rows,
        "delay_stride": (syn.n_out + 1) // 2, "depth": syn.max_delay + 1,
        "neurons": _neuron_records(layer), "accumulate_call": call, "lanes16": lanes is not None,
        "synapse_phase": f"{name}_phase_synapses", "neuron_phase": f"{name}_phase_neurons",
        "cell_ctype": f"slf_{layer.kind}_cell",
    }
    if layer.kind == "readout":
        context.update(exp_mult=layer.exp_mult, exp_shift=layer.exp_shift)
    else:
        context["threshold"] = int(layer.threshold)
    return context


@dataclass(frozen=True)
class CompileOptions:
    board: Board
    prefix: str = "silifc"
    weights: str = "int8"
    synapses: str = "event"       # "event": event-driven accumulation; "dense": the dense baseline


@dataclass(frozen=True)
class Project:
    directory: Path
    plan: MemoryPlan
    prefix: str
    model_sources: tuple[Path, ...]     # model + runtime .c (what a library build compiles)
    app_source: Path                    # emulator harness main.c
    include_dirs: tuple[Path, ...]
    digest: str                         # sha256 over every generated file: the build cache key

    @property
    def phases(self) -> list[str]:
        return _phase_names(self.prefix, json.loads((self.directory / "memory_report.json").read_text())["layers"])


def _phase_names(prefix: str, layer_names: list[str]) -> list[str]:
    phases = []
    for name in layer_names:
        phases += [f"{name}_phase_synapses", f"{name}_phase_neurons"]
    return phases + [f"{prefix}_phase_end"]


def model_banner(quantized: QuantNetwork, board: Board, weights: str, synapses: str = "event") -> str:
    variant = "" if synapses == "event" else f", {synapses} synapses"
    return banner(quantized.source, quantized.sha256, board.name, f"{weights} weights{variant}")


def check_synapses(quantized: QuantNetwork, synapses: str, weights: str) -> None:
    """Refuse what the dense kernels do not implement, before any C is generated."""
    if synapses not in SYNAPSE_CHOICES:
        raise CodegenError(f"--synapses {synapses!r}: choose one of {', '.join(SYNAPSE_CHOICES)}")
    if synapses != "dense":
        return
    if weights != "int8" or quantized.weight_bits != 8:
        raise CodegenError("--synapses dense supports int8 weights only (the dense kernels are "
                           "slf_dense_*_s8); use --weights int8 or --synapses event")
    delayed = [f"layer {index} (delays up to {layer.synapses.max_delay})"
               for index, layer in enumerate(quantized.layers) if layer.synapses.max_delay > 0]
    if delayed:
        raise CodegenError("--synapses dense has no synaptic delays (every product lands in the current "
                           f"step) but this model has them: {', '.join(delayed)}; use --synapses event")


def plan_project(quantized: QuantNetwork, options: CompileOptions) -> MemoryPlan:
    """The memory plan of the project, after the checks that refuse a project before any C is
    written: the prefix, what the chosen synapses support, and the fit in flash and RAM."""
    check_prefix(options.prefix)
    check_synapses(quantized, options.synapses, options.weights)
    plan = plan_memory(quantized, options.board, options.prefix, options.synapses)
    check_fits(plan, options.weights)
    return plan


def render_project(quantized: QuantNetwork, options: CompileOptions,
                   plan: MemoryPlan | None = None) -> tuple[dict[str, str], MemoryPlan]:
    """All generated text files of the project, by relative path (no runtime/skeleton copies).
    plan: the project's plan_project() result, when already made."""
    plan = plan if plan is not None else plan_project(quantized, options)
    prefix, board = options.prefix, options.board
    names = layer_prefixes(quantized, prefix)
    dense = options.synapses == "dense"
    scratch = f"{prefix}_dense_scratch" if dense else None
    lane_layers = lanes16_layers(quantized, options.synapses)
    lanes = f"{prefix}_lanes16_scratch" if lane_layers else None
    layers = []
    for index, (name, layer) in enumerate(zip(names, quantized.layers)):
        layers.append(_layer_context(index, name, layer, names[index - 1] if index else None, scratch,
                                     lanes if index in lane_layers else None))
    widths = [quantized.n_inputs] + [layer.synapses.n_out for layer in quantized.layers]
    arch = " -> ".join(map(str, widths)) + " (" + ", ".join(LAYER_KINDS[layer.kind].title for layer in quantized.layers) + ")"
    context = {
        "banner": model_banner(quantized, board, options.weights, options.synapses), "prefix": prefix,
        "PREFIX": prefix.upper(), "synapses": options.synapses, "dense_scratch": scratch,
        "dense_scratch_words": dense_scratch_words(quantized) if dense else 0,
        "lanes16_scratch": lanes, "lanes16_scratch_words": lanes16_scratch_size(quantized, options.synapses),
        "guard": f"{prefix.upper()}_MODEL_H", "arch": arch, "n_inputs": quantized.n_inputs,
        "n_classes": quantized.n_classes, "output_frac_bits": fx.OUTPUT_FRAC_BITS,
        "max_event_count": quantized.layers[0].synapses.max_input_count,
        "time_step_ms": quantized.config.time_step_ms, "layers": layers, "hidden": layers[:-1],
        "readout": layers[-1], "plan": plan, "phases": _phase_names(prefix, names),
        "end_phase": f"{prefix}_phase_end", "board": board, "cflags": " ".join(compiler_flags(board)),
    }
    rendered = {
        f"model/{prefix}_model.h": render("model/model.h.j2", context),
        f"model/{prefix}_model.c": render("model/model.c.j2", context),
        "app/main.c": render("app/main.c.j2", context),
        "Makefile": render("project/Makefile.j2", context),
        "CMakeLists.txt": render("project/CMakeLists.txt.j2", context),
        "memory_report.txt": f"# {context['banner']}\n" + plan.to_text() + "\n",
        "memory_report.json": json.dumps({**plan.to_dict(), "layers": names, "prefix": prefix,
                                          "weights": options.weights, "synapses": options.synapses},
                                         indent=2) + "\n",
    }
    return rendered, plan


def _copy_runtime(destination: Path) -> list[Path]:
    """Copies runtime_c/include and runtime_c/src; returns the .c files."""
    root = files("silifc.runtime_c")
    sources = []
    for part in ("include", "src"):
        target = destination / part
        target.mkdir(parents=True, exist_ok=True)
        for entry in sorted(root.joinpath(part).iterdir(), key=lambda e: e.name):
            if entry.name.endswith((".c", ".h")):
                out = target / entry.name
                write_if_changed(out, entry.read_text(encoding="utf-8"))
                if entry.name.endswith(".c"):
                    sources.append(out)
    return sources


def write_project(quantized: QuantNetwork, options: CompileOptions, out_dir: str | Path,
                  plan: MemoryPlan | None = None) -> Project:
    out_dir = Path(out_dir)
    rendered, plan = render_project(quantized, options, plan)
    digest = hashlib.sha256()
    for relative in sorted(rendered):
        text = rendered[relative]
        write_if_changed(out_dir / relative, text)
        digest.update(relative.encode() + b"\0" + text.encode() + b"\0")
    runtime_sources = _copy_runtime(out_dir / "runtime")
    for source in runtime_sources + sorted((out_dir / "runtime" / "include").iterdir()):
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    skeleton = write_firmware_skeleton(options.board, out_dir / "board")
    prefix = options.prefix
    return Project(directory=out_dir, plan=plan, prefix=prefix,
                   model_sources=(out_dir / "model" / f"{prefix}_model.c", *runtime_sources),
                   app_source=out_dir / "app" / "main.c",
                   include_dirs=(out_dir / "model", out_dir / "runtime" / "include", skeleton.directory),
                   digest=digest.hexdigest())
