"""Firmware for SpikingNetworks (NIR imports): memory plan, C generation, build and run.

The generated model has the API of a SiLIF model (init, step, result, spikes), so the
emulator harness (templates/app/main.c.j2), the project build files and the SLFI/SLFO
exchange are shared with compiler/codegen.py and compiler/firmware.py; only the model
sources (templates/model/spiking_model.*.j2) and the neuron kernel (slf_lif_update_q31)
differ. `spikes(k)` lists the k-th spiking population; totals are the last population's
spike counts or its Q16 voltage sums (compiler/spiking_quant.py).
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np

from . import fixedpoint as fx
from .board import Board, compiler_flags
from .codegen import (CodegenError, CompileOptions, Project, _copy_runtime, _pack_nibbles, _phase_names, _rows,
                      _templates, check_prefix)
from .emulator import EmulatorError, FirmwareImage, RegionUsage, build_firmware, cache_dir, run_firmware
from .firmware import HARNESS_EXIT_MESSAGES, FirmwareRunReport, _step_phases
from .firmware_io import decode_output, encode_events
from .inputs import check_event_limit
from .memory import (DELAYS_DESCRIPTOR_BYTES, MAX_SYNAPTIC_DELAY, RING_DESCRIPTOR_BYTES, SPIKE_LIST_BYTES,
                     STATE_DESCRIPTOR_BYTES, WEIGHTS_DESCRIPTOR_BYTES, Buffer, MemoryPlan, check_fits, delay_form)
from .results import RunResult
from .spiking_ir import KIND_TITLES
from .spiking_quant import QuantSpikingNetwork

LIF_RECORD_BYTES = 32                 # sizeof(slf_lif_neuron)
LIF_LAYER_DESCRIPTOR_BYTES = 12       # pointer + uint16 n + uint16 flags + int16 out_shift, padded
LIF_CELL_BYTES = 8                    # slf_lif_cell: v, j


def layer_names(quantized: QuantSpikingNetwork, prefix: str) -> list[str]:
    return [f"{prefix}_l{index}" for index in range(len(quantized.populations))]


def plan_spiking_memory(quantized: QuantSpikingNetwork, board: Board, prefix: str) -> MemoryPlan:
    buffers = []
    last = len(quantized.populations) - 1
    for index, (name, pop) in enumerate(zip(layer_names(quantized, prefix), quantized.populations)):
        syn = pop.synapses
        n_in, n_out, weight_bytes = syn.n_in, syn.n_out, syn.weight_bits // 8
        buffers.append(Buffer(f"{name}_weight_data", "flash", n_in * n_out * weight_bytes,
                              f"int{syn.weight_bits} weights [{n_in}][{n_out}], per presynaptic neuron"))
        descriptors = WEIGHTS_DESCRIPTOR_BYTES + LIF_LAYER_DESCRIPTOR_BYTES
        if pop.recurrent is not None:
            buffers.append(Buffer(f"{name}_recurrent_data", "flash", n_out * n_out * weight_bytes,
                                  f"int{syn.weight_bits} recurrent weights [{n_out}][{n_out}]"))
            descriptors += WEIGHTS_DESCRIPTOR_BYTES
        form = delay_form(syn)
        if form == "synaptic":
            buffers.append(Buffer(f"{name}_delay_data", "flash", n_in * ((n_out + 1) // 2),
                                  f"4-bit synaptic delays [{n_in}][{(n_out + 1) // 2}], max {syn.max_delay}"))
            descriptors += DELAYS_DESCRIPTOR_BYTES
        elif form == "axonal":
            buffers.append(Buffer(f"{name}_delay_data", "flash", n_in, f"axonal delays [{n_in}], max {syn.max_delay}"))
            descriptors += DELAYS_DESCRIPTOR_BYTES
        buffers.append(Buffer(f"{name}_neurons", "flash", n_out * LIF_RECORD_BYTES,
                              f"{pop.kind} constants, {LIF_RECORD_BYTES} B per neuron"))
        buffers.append(Buffer(f"{name}_descriptors", "flash", descriptors, "weight/delay/layer descriptors"))
        depth = syn.max_delay + 1
        buffers.append(Buffer(f"{name}_ring_slots", "ram", depth * n_out * 4,
                              f"int32 accumulators, {depth} slot(s) x {n_out}" + (" (delay ring)" if depth > 1 else "")))
        buffers.append(Buffer(f"{name}_ring", "ram", RING_DESCRIPTOR_BYTES, "ring descriptor"))
        buffers.append(Buffer(f"{name}_cells", "ram", n_out * LIF_CELL_BYTES, "int32 state pairs (v, j)"))
        buffers.append(Buffer(f"{name}_spiked", "ram", n_out, "previous spikes (uint8)"))
        state_bytes = STATE_DESCRIPTOR_BYTES
        if pop.spiking:
            buffers.append(Buffer(f"{name}_spike_index", "ram", n_out * 2, "spike list (uint16 indices)"))
            state_bytes += SPIKE_LIST_BYTES
        buffers.append(Buffer(f"{name}_state", "ram", state_bytes, "state and spike-list descriptors"))
        if index == last:
            buffers.append(Buffer(f"{prefix}_totals", "ram", n_out * 4,
                                  "int32 output totals (spike counts)" if pop.spiking else "int32 output totals (Q16)"))
    return MemoryPlan(board=board, buffers=tuple(buffers), stack_bytes=board.stack_size)


def _records(pop) -> list[dict]:
    syn = pop.synapses
    zeros = np.zeros(syn.n_out, np.int64)
    k_alpha = pop.k_alpha if pop.k_alpha is not None else zeros
    threshold = pop.threshold if pop.threshold is not None else zeros
    reset_to = pop.v_reset if pop.v_reset is not None else zeros
    reset_sub = pop.reset_amount()
    return [{"mult": int(syn.mult[i]), "bias": int(syn.bias[i]), "k_beta": int(pop.k_beta[i]),
             "k_alpha": int(k_alpha[i]), "leak": int(pop.leak[i]), "threshold": int(threshold[i]),
             "reset_to": int(reset_to[i]), "reset_sub": int(reset_sub[i])} for i in range(syn.n_out)]


def _flags(pop) -> str:
    names = []
    if pop.k_alpha is not None:
        names.append("SLF_LIF_CURRENT")
    if pop.integrator:
        names.append("SLF_LIF_INTEGRATOR")
    if pop.reset == "value":
        names.append("SLF_LIF_RESET_VALUE")
    if pop.spiking:
        names.append("SLF_LIF_SPIKING")
    return " | ".join(names) or "0"


def _layer_context(index: int, name: str, pop, previous: str | None, spike_index: int | None) -> dict:
    syn = pop.synapses
    suffix = f"s{syn.weight_bits}"
    form = delay_form(syn)
    if syn.max_delay > MAX_SYNAPTIC_DELAY:
        raise CodegenError(f"{name} ({pop.name}): delays up to {syn.max_delay} steps; the runtime packs delays in "
                           f"4 bits (at most {MAX_SYNAPTIC_DELAY})")
    variant = {"none": "", "axonal": "_axonal", "synaptic": "_delayed"}[form]
    delay_arg = "" if form == "none" else f"&{name}_delays, "
    if previous is None:
        call = f"slf_accumulate_events_{suffix}{variant}(&{name}_weights, {delay_arg}events, n_events, &{name}_ring)"
    else:
        call = f"slf_accumulate_spikes_{suffix}{variant}(&{name}_weights, {delay_arg}&{previous}_spikes, &{name}_ring)"
    delay_rows = (_rows(_pack_nibbles(syn.delays)) if form == "synaptic"
                  else _rows(syn.delays[:, 0].ravel()) if form == "axonal" else [])
    title = (f"{name}: {KIND_TITLES[pop.kind]} {syn.n_in} -> {syn.n_out} (NIR node {pop.name!r}), state "
             f"Q{31 - pop.frac_bits}.{pop.frac_bits}, int{syn.weight_bits} weights"
             + (", recurrent" if pop.recurrent is not None else "")
             + ("" if form == "none" else f", {form} delays <= {syn.max_delay}"))
    return {
        "index": index, "name": name, "title": title, "n_in": syn.n_in, "n_out": syn.n_out,
        "weight_ctype": f"int{syn.weight_bits}_t", "weight_suffix": suffix, "weight_rows": _rows(syn.weights),
        "recurrent_rows": _rows(pop.recurrent.weights) if pop.recurrent is not None else [],
        "delay_form": form, "delay_rows": delay_rows, "delay_stride": (syn.n_out + 1) // 2,
        "depth": syn.max_delay + 1, "neurons": _records(pop), "flags": _flags(pop),
        "out_shift": pop.frac_bits - fx.OUTPUT_FRAC_BITS, "spiking": pop.spiking, "spike_index": spike_index,
        "accumulate_call": call, "synapse_phase": f"{name}_phase_synapses", "neuron_phase": f"{name}_phase_neurons",
    }


def _banner(quantized: QuantSpikingNetwork, board: Board, weights: str) -> str:
    source = Path(quantized.source).name or "<in-memory model>"
    digest = f"sha256 {quantized.sha256[:16]}..." if quantized.sha256 else "not from a file"
    from . import __version__

    return (f"Generated by silifc {__version__} from {source} ({digest}; NIR, dialect {quantized.dialect}) for "
            f"board {board.name}, {weights} weights. Do not edit: regenerate with `silifc compile`.")


def render_spiking_project(quantized: QuantSpikingNetwork, options: CompileOptions):
    prefix = check_prefix(options.prefix)
    if options.synapses != "event":
        raise CodegenError("NIR models compile with event-driven synapses only (--synapses event)")
    board = options.board
    plan = plan_spiking_memory(quantized, board, prefix)
    check_fits(plan, options.weights)
    names = layer_names(quantized, prefix)
    layers, spiking_count, previous = [], 0, None
    for index, (name, pop) in enumerate(zip(names, quantized.populations)):
        layers.append(_layer_context(index, name, pop, previous, spiking_count if pop.spiking else None))
        if pop.spiking:
            spiking_count += 1
        previous = name
    widths = [quantized.n_inputs] + [p.n_out for p in quantized.populations]
    arch = " -> ".join(map(str, widths)) + " (" + ", ".join(KIND_TITLES[p.kind] for p in quantized.populations) + ")"
    last = quantized.populations[-1]
    context = {
        "banner": _banner(quantized, board, options.weights), "prefix": prefix, "PREFIX": prefix.upper(),
        "guard": f"{prefix.upper()}_MODEL_H", "arch": arch, "n_inputs": quantized.n_inputs,
        "n_classes": quantized.n_classes, "dialect": quantized.dialect, "dt_s": f"{quantized.dt:g}",
        "output_frac_bits": 0 if last.spiking else fx.OUTPUT_FRAC_BITS,
        "totals_what": "spike counts of the last population" if last.spiking else "Q16 sums of the last population's v",
        "max_event_count": quantized.populations[0].synapses.max_input_count,
        "layers": layers, "spiking": [layer for layer in layers if layer["spiking"]], "plan": plan,
        "phases": _phase_names(prefix, names), "end_phase": f"{prefix}_phase_end", "board": board,
        "cflags": " ".join(compiler_flags(board)),
    }
    env = _templates()
    rendered = {
        f"model/{prefix}_model.h": env.get_template("model/spiking_model.h.j2").render(context),
        f"model/{prefix}_model.c": env.get_template("model/spiking_model.c.j2").render(context),
        "app/main.c": env.get_template("app/main.c.j2").render(context),
        "Makefile": env.get_template("project/Makefile.j2").render(context),
        "CMakeLists.txt": env.get_template("project/CMakeLists.txt.j2").render(context),
        "memory_report.txt": f"# {context['banner']}\n" + plan.to_text() + "\n",
        "memory_report.json": json.dumps({**plan.to_dict(), "layers": names, "prefix": prefix,
                                          "weights": options.weights, "synapses": options.synapses},
                                         indent=2) + "\n",
    }
    return rendered, plan


def write_spiking_project(quantized: QuantSpikingNetwork, options: CompileOptions, out_dir) -> Project:
    from .emulator import write_firmware_skeleton

    out_dir = Path(out_dir)
    rendered, plan = render_spiking_project(quantized, options)
    digest = hashlib.sha256()
    for relative in sorted(rendered):
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = rendered[relative]
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
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


def build_spiking_firmware(quantized: QuantSpikingNetwork, board: Board, weights: str = "int8",
                           prefix: str = "silifc", work_dir=None, progress=None) -> tuple[Project, FirmwareImage]:
    """Generate and build (cached on the generated files' digest), as firmware.build_model_firmware."""
    if work_dir is None:
        key = hashlib.sha256(f"nir|{quantized.sha256}|{quantized.dialect}|{quantized.dt}|{board.name}|{weights}|"
                             f"{prefix}|{quantized.headroom}".encode())
        work_dir = cache_dir() / "builds" / key.hexdigest()[:20]
    work_dir = Path(work_dir)
    project = write_spiking_project(quantized, CompileOptions(board=board, prefix=prefix, weights=weights), work_dir)
    stamp = work_dir / "build" / "stamp.json"
    elf = work_dir / "build" / "firmware.elf"
    if stamp.exists() and elf.exists():
        cached = json.loads(stamp.read_text())
        if cached.get("digest") == project.digest:
            memory = {region: RegionUsage(*usage) for region, usage in cached["memory"].items()}
            return project, FirmwareImage(elf=elf, map_file=work_dir / "build" / "firmware.map", board=board,
                                          memory=memory, compiler_output=cached.get("compiler_output", ""))
    if progress:
        progress(f"building firmware for {board.name} in {work_dir}")
    image = build_firmware([project.app_source, *project.model_sources], project.include_dirs, board,
                           work_dir / "build", defines={"SILIFC_PROFILE": None}, name="firmware")
    stamp.write_text(json.dumps({"digest": project.digest, "compiler_output": image.compiler_output,
                                 "memory": {r: [u.used, u.size] for r, u in image.memory.items()}}))
    return project, image


def run_spiking_model(project: Project, image: FirmwareImage, quantized: QuantSpikingNetwork, counts: np.ndarray,
                      record_spikes: bool = True, insn_limit: int = 20_000_000_000,
                      timeout: float = 1800) -> FirmwareRunReport:
    counts = np.asarray(counts)
    check_event_limit(counts, quantized.populations[0].synapses.max_input_count)
    widths = tuple(p.n_out for p in quantized.populations if p.spiking)
    with tempfile.TemporaryDirectory(prefix="silifc-run-") as tmp:
        tmp = Path(tmp)
        (tmp / "in.slfi").write_bytes(encode_events(counts))
        args = [str(tmp / "in.slfi"), str(tmp / "out.slfo")] + (["spikes"] if record_spikes else [])
        run = run_firmware(image, image.board, args=args, insn_limit=insn_limit, timeout=timeout,
                           markers=project.phases, trace=True)
        if run.exit_status != 0:
            raise EmulatorError(f"the firmware stopped with status {run.exit_status} "
                                f"({HARNESS_EXIT_MESSAGES.get(run.exit_status, 'unknown')}):\n{run.stdout.strip()}")
        output = decode_output((tmp / "out.slfo").read_bytes(), counts.shape[1], widths)
    phases = {name: count.instructions for name, count in run.buckets.items()
              if name in project.phases and not name.endswith("_phase_end")}
    result = RunResult(engine="firmware", outputs=output.totals, decisions=output.decisions,
                       spikes=output.spikes if output.spikes is not None else (),
                       output_scale=float(quantized.output_scale))
    steps = int(counts.shape[0] * counts.shape[1])
    per_step = _step_phases(run, len(project.phases), steps)
    return FirmwareRunReport(result=result, instructions_total=run.instructions, steps=steps,
                             phase_instructions=phases, flash_used=image.flash_used, ram_used=image.ram_used,
                             step_phase_instructions=per_step)
