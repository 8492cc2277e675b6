"""CMSIS-NN's dense int8 kernel as a peer row of bench/run.py (`--cmsis-nn PATH`).

CMSIS-NN is not in any package registry and silifc vendors none of it: the user points the
benchmark at a CMSIS-NN checkout (https://github.com/ARM-software/CMSIS-NN). For each model,
bench/cmsis_nn_harness.c runs `arm_fully_connected_s8` once per layer per step on the same
layer shapes, the model's own int8 weights and the same inputs the event-driven firmware
sees (layer 0: the input event counts; later layers: the previous layer's spikes from the
integer reference), i.e. the synaptic part of a step done densely; no neuron updates. It runs
in QEMU under the same plugin, with the same Cortex-M4 cycle model, in the same benchmark run.

CMSIS-NN's sources are compiled as its own build does (CMakeLists.txt: -Ofast; its README warns
against -ffreestanding, which would turn its memcpy-based loads into calls); the harness with
silifc's firmware flags.
"""
from __future__ import annotations

import hashlib
import subprocess
import tempfile
from pathlib import Path

import jinja2
import numpy as np

HERE = Path(__file__).resolve().parent
HARNESS = HERE / "cmsis_nn_harness.c"
MODEL_TEMPLATE = "cmsis_nn_model.h.j2"
# The two translation units arm_fully_connected_s8 needs on a DSP core (everything else it
# uses is inline in CMSIS-NN's headers).
SOURCES = ("Source/FullyConnectedFunctions/arm_fully_connected_s8.c",
           "Source/NNSupportFunctions/arm_nn_vec_mat_mult_t_s8.c")
CFLAGS = ("-Ofast", "-ffunction-sections", "-fdata-sections", "-Wall")
MARKERS = ("cmsis_layer0", "cmsis_layer1", "cmsis_layer2")
STEP_END = "cmsis_step_end"


class CmsisNnError(RuntimeError):
    """The CMSIS-NN checkout cannot be used (not found, wrong layout, does not build)."""


def check_checkout(path: str | Path) -> Path:
    """The checkout's root, after checking it has what the harness needs."""
    root = Path(path).expanduser().resolve()
    needed = ["Include/arm_nnfunctions.h", *SOURCES]
    missing = [name for name in needed if not (root / name).is_file()]
    if missing:
        raise CmsisNnError(f"{root} is not a CMSIS-NN checkout: missing {', '.join(missing)}. Clone it with "
                           f"`git clone https://github.com/ARM-software/CMSIS-NN` and pass that folder to --cmsis-nn")
    return root


def checkout_commit(root: Path) -> str:
    """The checkout's commit, with '+local changes' if its work tree differs; or a note."""
    result = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
    if result.returncode != 0:
        return "unknown (not a git checkout)"
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return result.stdout.strip() + (" +local changes" if dirty else "")


def plugin_digest() -> str:
    """The counting plugin's digest: a CMSIS-NN row is only valid for the counter it ran under."""
    from silifc.target.qemu import insncount_plugin_digest

    return insncount_plugin_digest()


def _layer_inputs(case) -> list[np.ndarray]:
    """Each layer's input per step, [steps, n_in] int8: the event counts, then hidden spikes."""
    counts = np.asarray(case.counts)
    inputs = [counts.reshape(-1, counts.shape[-1])]
    inputs += [np.asarray(s).reshape(-1, np.asarray(s).shape[-1]) for s in case.int_result.spikes]
    for index, x in enumerate(inputs):
        if x.min() < -128 or x.max() > 127:
            raise CmsisNnError(f"layer {index}'s input does not fit int8 (range {x.min()}..{x.max()})")
    return [x.astype(np.int8) for x in inputs]


def _padded(n: int) -> int:
    return (n + 3) // 4 * 4          # word-aligned vectors: CMSIS-NN reads 4 int8 at a time


def write_inputs(case, path: Path) -> tuple[int, list[int]]:
    """Writes the input blob: per step, every layer's int8 input (each padded to 4 bytes).
    Returns (bytes per step, offset of each layer's input)."""
    inputs = _layer_inputs(case)
    offsets, record = [], 0
    for x in inputs:
        offsets.append(record)
        record += _padded(x.shape[1])
    blob = np.zeros((inputs[0].shape[0], record), dtype=np.int8)
    for x, offset in zip(inputs, offsets):
        blob[:, offset:offset + x.shape[1]] = x
    path.write_bytes(blob.tobytes())
    return record, offsets


def write_model_header(case, path: Path, record_bytes: int, offsets: list[int]) -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    layers = []
    for index, layer in enumerate(case.quantized.layers):
        synapses = layer.synapses
        if synapses.weight_bits != 8:
            raise CmsisNnError(f"layer {index} has int{synapses.weight_bits} weights; arm_fully_connected_s8 "
                               f"takes int8 (quantize with --weights int8)")
        rhs = np.asarray(synapses.weights, dtype=np.int64).T          # [n_out][n_in]
        layers.append({"name": getattr(layer, "kind", f"layer{index}"), "n_in": synapses.n_in,
                       "n_out": synapses.n_out, "offset": offsets[index],
                       "rows": [", ".join(str(int(v)) for v in row) for row in rhs]})
    if len(layers) > len(MARKERS):
        raise CmsisNnError(f"the harness has markers for {len(MARKERS)} layers, the model has {len(layers)}")
    steps = int(np.asarray(case.counts).shape[0] * np.asarray(case.counts).shape[1])
    text = env.get_template(MODEL_TEMPLATE).render(model=case.name, layers=layers, steps=steps,
                                                   record_bytes=record_bytes)
    path.write_text(text)


def build(case, root: Path, board, out_dir: Path, record_bytes: int, offsets: list[int]):
    """Compiles CMSIS-NN's two sources (its own flags) and links them with the harness."""
    from silifc.codegen.boards import compiler_flags
    from silifc.target.toolchain import build_firmware

    out_dir.mkdir(parents=True, exist_ok=True)
    write_model_header(case, out_dir / "cmsis_nn_model.h", record_bytes, offsets)
    objects = []
    for source in SOURCES:
        obj = out_dir / (Path(source).stem + ".o")
        command = ["arm-none-eabi-gcc", *compiler_flags(board), *CFLAGS, f"-I{root / 'Include'}", "-c",
                   str(root / source), "-o", str(obj)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise CmsisNnError(f"compiling {source} from {root} failed:\n{result.stdout}{result.stderr}")
        objects.append(obj)
    return build_firmware([HARNESS, *objects], [out_dir, root / "Include"], board, out_dir, name="cmsis_nn")


def measure(case, cmsis_path: str | Path, board_name: str = "nrf52840", progress=None) -> dict:
    """One bench row: CMSIS-NN's dense synapses for this model, instructions and est. cycles per step."""
    from silifc.codegen.boards import load_board
    from silifc.target.qemu import cycle_model_for, run_firmware

    root = check_checkout(cmsis_path)
    board = load_board(board_name)
    layers = case.quantized.layers
    with tempfile.TemporaryDirectory(prefix="silifc-cmsis-nn-") as tmp:
        tmp = Path(tmp)
        record_bytes, offsets = write_inputs(case, tmp / "inputs.bin")
        if progress:
            progress(f"building CMSIS-NN arm_fully_connected_s8 ({root}) for {case.name} on {board.name}")
        image = build(case, root, board, tmp / "build", record_bytes, offsets)
        if progress:
            progress(f"{case.name} on {board.name}, CMSIS-NN dense synapses")
        markers = [*MARKERS[:len(layers)], STEP_END]
        run = run_firmware(image, board, input_file=tmp / "inputs.bin", markers=markers, trace=True,
                           cycle_model=cycle_model_for(board), insn_limit=None, timeout=3600)
    if run.exit_status != 0 or not run.stdout.startswith("checksum="):
        raise CmsisNnError(f"the CMSIS-NN harness stopped with status {run.exit_status}: {run.stdout.strip()}")
    steps = int(np.asarray(case.counts).shape[0] * np.asarray(case.counts).shape[1])
    buckets, instructions = run.marker_entries()
    n = len(markers)
    if buckets.size != steps * n:
        raise CmsisNnError(f"the CMSIS-NN harness ran {buckets.size} markers for {steps} steps of {n}")
    per_layer = instructions.reshape(steps, n)[:, :-1]
    total = per_layer.sum(axis=1)
    cycles_per_layer = run.marker_entry_cycles().reshape(steps, n)[:, :-1] if run.cycles is not None else None
    cycles = None if cycles_per_layer is None else cycles_per_layer.sum(axis=1)
    budget = board.clock_hz * case.quantized.config.time_step_ms / 1000.0
    macs = sum(layer.synapses.n_in * layer.synapses.n_out for layer in layers)
    return {
        "model": case.name, "board": board.name, "cpu": board.cpu, "synapses": "cmsis-nn",
        "steps": steps, "samples": int(np.asarray(case.counts).shape[0]),
        "step_mean": float(total.mean()), "step_max": int(total.max()),
        "synaptic_mean": float(total.mean()), "synaptic_max": int(total.max()),
        "cycle_model": run.cycle_model,
        "cycles_mean": None if cycles is None else float(cycles.mean()),
        "cycles_max": None if cycles is None else int(cycles.max()),
        "synaptic_cycles_mean": None if cycles is None else float(cycles.mean()),
        "synaptic_cycles_max": None if cycles is None else int(cycles.max()),
        "macs_per_step": macs, "instructions_per_mac": float(total.mean()) / macs,
        "cycles_per_mac": None if cycles is None else float(cycles.mean()) / macs,
        "cycles_per_instruction": None if cycles is None else float(cycles.sum()) / float(total.sum()),
        "layer_instructions_mean": [float(v) for v in per_layer.mean(axis=0)],
        "layer_cycles_mean": None if cycles is None else [float(v) for v in cycles_per_layer.mean(axis=0)],
        "flash": image.flash_used, "ram": image.ram_used,
        "clock_hz": board.clock_hz, "budget_cycles": budget,
        "budget_percent": None if cycles is None else 100.0 * float(cycles.mean()) / budget,
        "budget_percent_max": None if cycles is None else 100.0 * int(cycles.max()) / budget,
        "cycle_events": run.cycle_events,
        "cmsis_nn_commit": checkout_commit(root),
        "cmsis_nn_cflags": " ".join(CFLAGS),
        "plugin_sha256": plugin_digest(),
        "per_step_sha256": hashlib.sha256(np.asarray(total, dtype="<i8").tobytes()).hexdigest(),
        "per_step_cycles_sha256": None if cycles is None else
        hashlib.sha256(np.asarray(cycles, dtype="<i8").tobytes()).hexdigest(),
    }
