"""`silifc check` and `silifc infer`: the float and integer references on the host."""
from __future__ import annotations

from ..pipeline import Artifacts, run_batched, run_pipeline
from ..reference.fidelity import compare
from ..reference.float_ref import run_float, run_float32
from ..reference.int_ref import run_int
from .common import (add_model_options, add_quant_options, emit, load_counts, load_network, pipeline_options,
                     progress)


def cmd_check(args) -> int:
    path, network = load_network(args)
    done = run_pipeline(Artifacts(source=path, network=network), pipeline_options(args, network), until="quantize")
    counts, labels, source = load_counts(args, network)
    shown = None if args.json else progress
    float_result = run_batched(lambda c: run_float(done.folded, c), counts, progress=shown)
    int_result = run_batched(lambda c: run_int(done.quantized, c), counts, progress=shown)
    quantized = done.quantized
    report = compare(quantized, counts, float_result, int_result, labels)
    arch = " -> ".join(str(w) for w in network.widths)
    kinds = "/".join(layer.kind for layer in network.layers)
    header = (f"model  {path} (sha256 {network.sha256[:12]}...)\n"
              f"arch   {arch} ({kinds})\n"
              f"input  {source}")
    payload = {"model": str(path), "sha256": network.sha256, "widths": list(network.widths),
               "kinds": [layer.kind for layer in network.layers], "input": source, **report.to_dict()}
    emit(args, payload, header + "\n\n" + report.to_text())
    return 0


def cmd_infer(args) -> int:
    path, network = load_network(args)
    counts, labels, source = load_counts(args, network)
    start = Artifacts(source=path, network=network)
    if args.engine == "float":
        folded = run_pipeline(start, until="fold").folded
        engine = lambda c: run_float(folded, c)  # noqa: E731
    elif args.engine == "float32":
        engine = lambda c: run_float32(network, c)  # noqa: E731
    else:
        quantized = run_pipeline(start, pipeline_options(args, network), until="quantize").quantized
        engine = lambda c: run_int(quantized, c)  # noqa: E731
    result = run_batched(engine, counts, progress=None if args.json else progress)
    if args.out:
        result.save(args.out)
    report = {"model": str(path), "engine": args.engine, "input": source, "samples": int(counts.shape[0]),
              "decisions": result.decisions.tolist(), "outputs": result.outputs_float.tolist(),
              "spikes_per_layer": [int(s.sum()) for s in result.spikes], "out": args.out}
    if labels is not None:
        report["accuracy"] = float((result.decisions == labels).mean())
    lines = [f"engine {args.engine} on {source}: {counts.shape[0]} samples",
             "decisions: " + " ".join(map(str, result.decisions.tolist())),
             "hidden spikes per layer: " + ", ".join(map(str, report["spikes_per_layer"]))]
    if labels is not None:
        lines.append(f"accuracy: {100 * report['accuracy']:.2f} %")
    if args.out:
        lines.append(f"wrote {args.out} (outputs, decisions, spikes_l<k>)")
    emit(args, report, "\n".join(lines))
    return 0


def add_commands(sub) -> None:
    check = sub.add_parser("check", help="float vs integer reference fidelity table")
    add_model_options(check)
    add_quant_options(check)
    check.add_argument("--input", help="spike input: .npy, .npz or SHD/SSC-style .h5")
    check.add_argument("--json", action="store_true", help="machine-readable report")
    check.set_defaults(func=cmd_check)

    infer = sub.add_parser("infer", help="run one engine and write outputs, decisions and spikes")
    add_model_options(infer)
    add_quant_options(infer)
    infer.add_argument("--input", help="spike input: .npy, .npz or SHD/SSC-style .h5")
    infer.add_argument("--engine", choices=("float", "float32", "int"), default="int",
                       help="float: float64 reference; float32: the authors' order; int: bit-exact integer reference")
    infer.add_argument("--out", help="write results to this .npz")
    infer.add_argument("--json", action="store_true", help="machine-readable report")
    infer.set_defaults(func=cmd_infer)
