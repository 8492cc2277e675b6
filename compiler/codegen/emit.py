"""Emit a self-contained firmware project for a quantized model (templates/ own the C syntax).

Project layout (`silifc compile MODEL --board B -o DIR`):
    model/<prefix>_model.h, model/<prefix>_model.c   constants in flash, state in RAM, step()
    runtime/include, runtime/src                     the C runtime, copied (src/dsp and src/portable: the
                                                     build compiles the board's path, codegen/runtime.py)
    board/                                           startup, semihosting shim, linker scripts
    app/main.c                                       emulator test harness (SLFI in, SLFO out)
    Makefile                                         bare-metal build of the harness (make run)
    CMakeLists.txt, cmake/arm-none-eabi.cmake        the model as a CMake library, and a toolchain file
    zephyr/module.yml, zephyr/CMakeLists.txt, zephyr/Kconfig   the same folder as a Zephyr module
    memory_report.txt, memory_report.json            the memory plan
    renode/<board>.resc, renode/<board>.robot        for users who have Renode
Generated files are deterministic: same inputs, same bytes.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SilifcError
from ..io.files import write_generated
from ..ir import CURRENT_KINDS, INTEGRATOR_KINDS, LAYER_KINDS, LIF_KINDS, QuantNetwork
from ..passes.quantize import LANES16_LIMIT, subset_sum_bound
from ..reference import fixedpoint as fx
from ..version import __version__
from .boards import Board, compiler_flags
from .skeleton import skeleton_files
from .templates import banner, render
from .memory import (MAX_SYNAPTIC_DELAY, SYNAPSE_CHOICES, MemoryPlan, check_fits, delay_form, dense_rows,
                     dense_scratch_words, dense_stride, lanes16_layers, lanes16_scratch_size, layer_fields,
                     layer_prefixes, plan_memory, runtime_family)
from .runtime import COPIED_FOLDERS, path_name, runtime_root, runtime_sources

WEIGHTS_PER_LINE = 16
_PREFIX = re.compile(r"[a-z_][a-z0-9_]{0,30}\Z")
_C_KEYWORDS = frozenset("auto break case char const continue default do double else enum extern float for goto if "
                        "inline int long register restrict return short signed sizeof static struct switch typedef "
                        "union unsigned void volatile while".split())


class CodegenError(SilifcError):
    pass


# Namespaces of the C that silifc ships next to a model: the runtime (slf_, SLF_) and the board
# shim (sh_, SH_). A model prefix inside one would make names like <prefix>_readout_layer clash
# with the runtime's own (slf_readout_layer is a runtime type).
RESERVED_PREFIXES = ("slf", "sh")


def check_prefix(prefix: str) -> str:
    if not _PREFIX.match(prefix) or prefix in _C_KEYWORDS:
        raise CodegenError(f"--prefix {prefix!r} must be a lower-case C identifier (letters, digits, _; at most "
                           "31 characters; not a C keyword)")
    for reserved in RESERVED_PREFIXES:
        if prefix == reserved or prefix.startswith(reserved + "_"):
            raise CodegenError(f"--prefix {prefix!r} clashes with the C that silifc ships: {reserved}_ is the "
                               f"{'runtime' if reserved == 'slf' else 'board support'}'s namespace (e.g. "
                               f"{prefix}_readout_layer would be generated); choose another prefix, e.g. 'model' or "
                               "the product's name")
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


# The per-neuron constants of each runtime family's C record (slf_<family>_neuron), after mult and bias.
NEURON_RECORD_FIELDS = {"silif": ("k_beta", "k_a", "k_leak", "jump"), "csilif": ("k_re", "k_im"),
                        "readout": ("k_alpha",),
                        "lif": ("k_beta", "k_alpha", "leak", "threshold", "reset_to", "reset_sub")}


def _neuron_records(layer) -> list[dict]:
    syn = layer.synapses
    fields = NEURON_RECORD_FIELDS[runtime_family(layer.kind)]
    records = []
    for i in range(syn.n_out):
        record = {"mult": int(syn.mult[i]), "bias": int(syn.bias[i])}
        record.update({field: int(getattr(layer, field)[i]) for field in fields})
        records.append(record)
    return records


def lif_flags(layer) -> list[str]:
    """The SLF_LIF_* flags (slf_lif.h) of a LIF-family layer: what its kind and reset do."""
    flags = []
    if layer.kind in CURRENT_KINDS:
        flags.append("SLF_LIF_CURRENT")
    if layer.kind in INTEGRATOR_KINDS:
        flags.append("SLF_LIF_INTEGRATOR")
    if layer.reset == "value":
        flags.append("SLF_LIF_RESET_VALUE")
    if LAYER_KINDS[layer.kind].spiking:
        flags.append("SLF_LIF_SPIKING")
    return flags


def _layer_context(index: int, name: str, field: str, layer, previous: str | None, prefix: str,
                   dense: bool = False, lanes: bool = False, n_hidden: int = 0) -> dict:
    """One layer of the templates: its constants, the context members it owns (`field`:
    l0, l1, ..., readout) and the kernel its synapse phase calls.
    previous: the member stem of the layer feeding it, None for the input layer.
    dense: --synapses dense; lanes: accumulates through int16 lanes (memory.lanes16_layers)."""
    syn = layer.synapses
    suffix = f"s{syn.weight_bits}"
    form = delay_form(syn)
    if syn.max_delay > MAX_SYNAPTIC_DELAY:
        raise CodegenError(f"{name}: delays up to {syn.max_delay} steps; the runtime stores a delay in one byte "
                           f"(at most {MAX_SYNAPTIC_DELAY}). Retrain with --delays {MAX_SYNAPTIC_DELAY} or less")
    variant = {"none": "", "axonal": "_axonal", "synaptic": "_delayed", "synaptic_u8": "_delayed_u8"}[form]
    source = "events" if previous is None else "spikes"
    if dense:
        kernel = f"slf_dense_{source}_s8"
    elif lanes:
        kernel = f"slf_accumulate_{source}_s8_lanes16"
    else:
        kernel = f"slf_accumulate_{source}_{suffix}{variant}"
    accumulate = {"kernel": kernel, "source": source, "previous": previous, "dense": dense, "lanes16": lanes,
                  "delays": form != "none"}
    if form == "synaptic":
        delay_rows = _rows(_pack_nibbles(syn.delays))
    elif form == "synaptic_u8":
        delay_rows = _rows(syn.delays)
    elif form == "axonal":
        delay_rows = _rows(syn.delays[:, 0].ravel())
    else:
        delay_rows = []
    recurrent = getattr(layer, "recurrent", None)
    node = f" (NIR node {layer.name!r})" if layer.kind in LIF_KINDS and layer.name else ""
    title = (f"{name}: {LAYER_KINDS[layer.kind].title} {syn.n_in} -> {syn.n_out}{node}, state Q{31 - layer.frac_bits}.{layer.frac_bits}, "
             f"int{syn.weight_bits} weights" + ("" if recurrent is None else ", recurrent")
             + ("" if form == "none" else f", {form} delays <= {syn.max_delay}")
             + (", dense synapses" if dense else "")
             + (f", 16-bit lane sums (subset-sum bound {subset_sum_bound(syn.weights)} <= {LANES16_LIMIT})"
                if lanes and previous is not None else "")
             + (", 16-bit lane sums (<= 240 column additions per widening)" if lanes and previous is None else ""))
    if dense:
        table, row_sum = dense_weight_table(syn.weights)
        stride = dense_stride(syn.n_in)
        weight_rows = _rows(table)                  # 16 per line: 4 inputs of the 4 rows of a block
        dense_context = {"stride": stride, "rows": dense_rows(syn.n_out), "row_sum_rows": _rows(row_sum, 8)}
    else:
        weight_rows, dense_context = _rows(syn.weights), None
    PREFIX = prefix.upper()
    readout = layer.kind == "readout"
    context = {
        "index": index, "name": name, "field": field, "kind": layer.kind, "title": title,
        "n_in": syn.n_in, "n_out": syn.n_out, "frac_bits": layer.frac_bits, "weight_bits": syn.weight_bits,
        "width_macro": f"{PREFIX}_N_CLASSES" if field == "readout" else f"{PREFIX}_L{index}_WIDTH",  # the last layer
        "in_macro": f"{PREFIX}_N_INPUTS" if index == 0 else f"{PREFIX}_L{index - 1}_WIDTH",
        "depth_macro": f"{PREFIX}_{field.upper()}_RING_DEPTH",
        "weight_ctype": f"int{syn.weight_bits}_t", "weight_suffix": suffix, "dense": dense_context,
        "weight_rows": weight_rows, "delay_form": form, "delay_rows": delay_rows,
        "delay_stride": (syn.n_out + 1) // 2, "depth": syn.max_delay + 1,
        "neurons": _neuron_records(layer), "accumulate": accumulate, "lanes16": lanes,
        "synapse_phase": f"{name}_phase_synapses", "neuron_phase": f"{name}_phase_neurons",
        "output": False, "family": runtime_family(layer.kind), "cell_ctype": f"slf_{runtime_family(layer.kind)}_cell",
        "spiking": LAYER_KINDS[layer.kind].spiking,
        "recurrent_rows": [] if recurrent is None else _rows(recurrent.weights),
        "recurrent_kernel": None if recurrent is None else f"slf_accumulate_spikes_{suffix}",
    }
    if readout:
        context.update(exp_mult=layer.exp_mult, exp_shift=layer.exp_shift)
    elif layer.kind in LIF_KINDS:
        context.update(flags=" | ".join(lif_flags(layer)) or "0", out_shift=layer.frac_bits - fx.OUTPUT_FRAC_BITS)
    else:
        context["threshold"] = int(layer.threshold)
    return context


# What the generated model's totals hold, by the last layer's output rule (ir.OUTPUT_RULES).
OUTPUT_DESCRIPTIONS = {"softmax": "sum over steps of softmax", "spikes": "spike counts of the output layer",
                       "state": "sum over steps of the output layer's membrane v"}


# slf_status (runtime_c/include/slf_common.h) in enum order: name, what it means. The generated
# <prefix>_status_str() returns these (tests/test_api_c.py checks the table against the header).
SLF_STATUSES = (
    ("SLF_OK", 0, "no error"),
    ("SLF_ERR_NULL", -1, "a required pointer is NULL"),
    ("SLF_ERR_SHAPE", -2, "sizes of the arguments disagree"),
    ("SLF_ERR_INDEX", -3, "an input index >= N_INPUTS (or another index out of range)"),
    ("SLF_ERR_CAPACITY", -4, "an output list or array is too small"),
    ("SLF_ERR_PARAM", -5, "a constant outside its documented range"),
    ("SLF_ERR_COUNT", -6, "an input event count above MAX_EVENT_COUNT"),
    ("SLF_ERR_STATE", -7, "the context was not set up by <prefix>_init"),
)


_CLASS_NAME = re.compile(r"[A-Za-z0-9_ .+-]{1,63}\Z")


def check_class_names(names, n_classes: int) -> tuple[str, ...]:
    """Class names for <PREFIX>_CLASS_NAMES: given ones (checked), else class0, class1, ..."""
    if names is None:
        return tuple(f"class{k}" for k in range(n_classes))
    names = tuple(str(name) for name in names)
    if len(names) != n_classes:
        raise CodegenError(f"{len(names)} class names for a model with {n_classes} classes")
    bad = [name for name in names if not _CLASS_NAME.match(name)]
    if bad:
        raise CodegenError(f"class names must be 1-63 letters, digits, spaces or _ . + - (they become C strings): {bad}")
    return names


def _c_text(text: str) -> str:
    """Text that can stand in a C string literal as it is: printable ASCII without quotes or
    backslashes (anything else becomes '?'); for metadata such as the model's file name."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text)


def context_check_word(quantized: QuantNetwork, prefix: str, plan: MemoryPlan) -> int:
    """<PREFIX>_CTX_CHECK: a word that differs between models and layouts, so that a context of
    another model (or of none) is refused with SLF_ERR_STATE."""
    layout = ";".join(f"{b.name}:{b.bytes}" for b in plan.buffers)
    digest = hashlib.sha256(f"{prefix}|{quantized.sha256}|{layout}".encode()).digest()
    return int.from_bytes(digest[:4], "little") | 1          # never 0: a zeroed context is not ready


@dataclass(frozen=True)
class CompileOptions:
    board: Board
    prefix: str = "silifc"
    weights: str = "int8"
    synapses: str = "event"       # "event": event-driven accumulation; "dense": the dense baseline
    class_names: tuple[str, ...] | None = None   # <PREFIX>_CLASS_NAMES; None: class0, class1, ...
    audio: bool = False           # the build files also hold the keyword library (kws/; silifc.kws.firmware)


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
    config = quantized.config
    if config.nir_dialect:               # what a NIR graph's constants mean depends on the dialect and step
        variant += f", NIR dialect {config.nir_dialect}, dt {config.nir_dt:g} s"
    return banner(quantized.source, quantized.sha256, board.name, f"{weights} weights{variant}")


def check_synapses(quantized: QuantNetwork, synapses: str, weights: str) -> None:
    """Refuse what the dense kernels do not implement, before any C is generated."""
    if synapses not in SYNAPSE_CHOICES:
        raise CodegenError(f"--synapses {synapses!r}: choose one of {', '.join(SYNAPSE_CHOICES)}")
    if synapses != "dense":
        return
    nir = [index for index, layer in enumerate(quantized.layers) if layer.kind in LIF_KINDS]
    if nir:
        raise CodegenError(f"--synapses dense: layer(s) {', '.join(map(str, nir))} are LIF-family (a NIR graph); "
                           "they compile with event-driven synapses only (--synapses event)")
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


def model_context(quantized: QuantNetwork, options: CompileOptions, plan: MemoryPlan) -> dict:
    """The values every model template (model/, app/, project/, zephyr/, arduino/) is rendered with."""
    prefix, board = options.prefix, options.board
    names = layer_prefixes(quantized, prefix)
    fields = layer_fields(quantized)
    dense = options.synapses == "dense"
    lane_layers = lanes16_layers(quantized, options.synapses)
    layers = []
    for index, (name, field, layer) in enumerate(zip(names, fields, quantized.layers)):
        layers.append(_layer_context(index, name, field, layer, fields[index - 1] if index else None, prefix,
                                     dense=dense, lanes=index in lane_layers))
    widths = [quantized.n_inputs] + [layer.synapses.n_out for layer in quantized.layers]
    arch = " -> ".join(map(str, widths)) + " (" + ", ".join(LAYER_KINDS[layer.kind].title for layer in quantized.layers) + ")"
    layers[-1]["output"] = True                 # the last layer keeps the totals
    lane_words = lanes16_scratch_size(quantized, options.synapses)
    output_rule = LAYER_KINDS[quantized.readout.kind].output
    context = {
        "banner": model_banner(quantized, board, options.weights, options.synapses), "prefix": prefix,
        "PREFIX": prefix.upper(), "synapses": options.synapses, "dense_scratch": dense,
        "dense_scratch_words": dense_scratch_words(quantized) if dense else 0,
        "lanes16_scratch": bool(lane_words), "lanes16_scratch_words": lane_words,
        "guard": f"{prefix.upper()}_MODEL_H", "arch": arch, "n_inputs": quantized.n_inputs,
        "n_classes": quantized.n_classes, "output_frac_bits": quantized.output_frac_bits,
        "output_rule": output_rule, "output_what": OUTPUT_DESCRIPTIONS[output_rule],
        "spiking": [layer for layer in layers if layer["spiking"]],
        "max_event_count": quantized.layers[0].synapses.max_input_count,
        "time_step_ms": quantized.config.time_step_ms,
        "time_step_us": round(quantized.config.time_step_ms * 1000), "weight_bits": quantized.weight_bits,
        "silifc_version": __version__, "model_file": _c_text(Path(quantized.source).name if quantized.source else ""),
        "model_sha256": quantized.sha256 or "", "class_names": check_class_names(options.class_names, quantized.n_classes),
        "statuses": [(name, meaning) for name, _, meaning in SLF_STATUSES],
        "ctx_check": context_check_word(quantized, prefix, plan),
        "layers": layers, "hidden": layers[:-1],
        "readout": layers[-1], "plan": plan, "phases": _phase_names(prefix, names),
        "end_phase": f"{prefix}_phase_end", "board": board, "cflags": " ".join(compiler_flags(board)),
        "audio": options.audio,
    }
    return context


def render_project(quantized: QuantNetwork, options: CompileOptions,
                   plan: MemoryPlan | None = None) -> tuple[dict[str, str], MemoryPlan]:
    """All generated text files of the project, by relative path (no runtime/skeleton copies).
    plan: the project's plan_project() result, when already made."""
    plan = plan if plan is not None else plan_project(quantized, options)
    context = model_context(quantized, options, plan)
    prefix, names = options.prefix, layer_prefixes(quantized, options.prefix)
    rendered = {
        f"model/{prefix}_model.h": render("model/model.h.j2", context),
        f"model/{prefix}_model.c": render("model/model.c.j2", context),
        "app/main.c": render("app/main.c.j2", context),
        "Makefile": render("project/Makefile.j2", context),
        "CMakeLists.txt": render("project/CMakeLists.txt.j2", context),
        "cmake/arm-none-eabi.cmake": render("project/toolchain.cmake.j2", context),
        "zephyr/module.yml": render("zephyr/module.yml.j2", context),
        "zephyr/CMakeLists.txt": render("zephyr/CMakeLists.txt.j2", context),
        "zephyr/Kconfig": render("zephyr/Kconfig.j2", context),
        "memory_report.txt": f"# {context['banner']}\n" + plan.to_text() + "\n",
        "memory_report.json": json.dumps({**plan.to_dict(), "layers": names, "prefix": prefix,
                                          "weights": options.weights, "synapses": options.synapses},
                                         indent=2) + "\n",
    }
    return rendered, plan


def runtime_files(dsp: bool) -> dict[str, str]:
    """The C runtime a build of one path needs, by path relative to runtime_c/: include/, the
    shared kernels src/*.c, src/internal/ and src/dsp/ or src/portable/ (for layouts that compile
    every file they hold, e.g. the Arduino library)."""
    root = runtime_root()
    texts = {}
    for folder in ("include", "src", "src/internal", f"src/{path_name(dsp)}"):
        for entry in sorted(root.joinpath(folder).iterdir(), key=lambda e: e.name):
            if entry.name.endswith((".c", ".h")):
                texts[f"{folder}/{entry.name}"] = entry.read_text(encoding="utf-8")
    return texts


def project_runtime_files() -> dict[str, str]:
    """The runtime a generated project holds, by project-relative path (runtime/include, src,
    src/internal and both paths: the Makefile and CMakeLists.txt pick one)."""
    root = runtime_root()
    texts = {}
    for folder in COPIED_FOLDERS:
        for entry in sorted(root.joinpath(folder).iterdir(), key=lambda e: e.name):
            if entry.name.endswith((".c", ".h")):
                texts[f"runtime/{folder}/{entry.name}"] = entry.read_text(encoding="utf-8")
    return texts


def write_project(quantized: QuantNetwork, options: CompileOptions, out_dir: str | Path,
                  plan: MemoryPlan | None = None) -> Project:
    """Render the project and write it into out_dir as its "model" part (io.files.write_generated:
    never over a file silifc did not write; files of an earlier compile that are no longer
    generated, e.g. under another --prefix, are removed)."""
    out_dir = Path(out_dir)
    rendered, plan = render_project(quantized, options, plan)
    digest = hashlib.sha256()
    for relative in sorted(rendered):
        digest.update(relative.encode() + b"\0" + rendered[relative].encode() + b"\0")
    runtime = project_runtime_files()
    for relative in sorted(runtime):              # both paths and every private header
        digest.update(relative.encode() + b"\0" + runtime[relative].encode() + b"\0")
    skeleton = {f"board/{name}": text for name, text in skeleton_files(options.board).items()}
    for relative in sorted(skeleton):             # the build links the same startup code and linker scripts
        digest.update(relative.encode() + b"\0" + skeleton[relative].encode() + b"\0")
    write_generated(out_dir, {**rendered, **runtime, **skeleton}, part="model")
    prefix = options.prefix
    return Project(directory=out_dir, plan=plan, prefix=prefix,
                   model_sources=(out_dir / "model" / f"{prefix}_model.c",
                                  *runtime_sources(options.board.has_dsp, out_dir / "runtime")),
                   app_source=out_dir / "app" / "main.c",
                   include_dirs=(out_dir / "model", out_dir / "runtime" / "include", out_dir / "board"),
                   digest=digest.hexdigest())
