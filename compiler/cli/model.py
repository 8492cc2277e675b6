"""`silifc check` and `silifc infer`: the float and integer references on the host."""
from __future__ import annotations

from ..io.files import check_result_path
from .common import add_model_options, add_quant_options, emit, load_model, progress, quantize


def nir_reading(config) -> str:
    """How a NIR graph's neurons were read (dialect, step), for report headers; '' for checkpoints."""
    return f", NIR dialect {config.nir_dialect}, dt {config.nir_dt:g} s" if config.nir_dialect else ""


def cmd_check(args) -> int:
    model = load_model(args)
    check = quantize(args, model).check(args.input, progress=progress("float64 and integer references", args=args))
    network = model.network
    arch = " -> ".join(str(w) for w in network.widths)
    kinds = "/".join(layer.kind for layer in network.layers)
    header = (f"model  {model.path} (sha256 {network.sha256[:12]}...)\n"
              f"arch   {arch} ({kinds}){nir_reading(network.config)}\n"
              f"input  {check.inputs.source}")
    payload = {"model": str(model.path), "sha256": network.sha256, "widths": list(network.widths),
               "kinds": [layer.kind for layer in network.layers], "input": check.inputs.source,
               **check.report.to_dict()}
    if network.config.nir_dialect:
        payload.update(dialect=network.config.nir_dialect, dt=network.config.nir_dt)
    text = header + "\n\n" + check.report.to_text()
    if args.plot:
        from ..plots import plot_check

        payload["plot"] = str(plot_check(check, args.plot, title=model.path.name).path)
        text += f"\nplot   {payload['plot']}"
    emit(args, payload, text)
    return 0


def cmd_infer(args) -> int:
    if args.out:
        check_result_path(args.out)               # before any work
    model = load_model(args)
    inputs = model.inputs(args.input)
    shown = progress(f"{args.engine} reference", args=args)
    if args.engine == "int":
        result = quantize(args, model).infer(inputs, progress=shown)
    else:
        result = model.infer(inputs, engine=args.engine, progress=shown)
    if args.out:
        result.save(args.out)
    report = {"model": str(model.path), "engine": args.engine, "input": inputs.source,
              "samples": int(inputs.counts.shape[0]), "decisions": result.decisions.tolist(),
              "outputs": result.outputs_float.tolist(),
              "spikes_per_layer": [int(s.sum()) for s in result.spikes], "out": args.out}
    if inputs.labels is not None:
        report["accuracy"] = float((result.decisions == inputs.labels).mean())
    lines = [f"engine {args.engine} on {inputs.source}: {inputs.counts.shape[0]} samples"
             + nir_reading(model.network.config),
             "decisions: " + " ".join(map(str, result.decisions.tolist())),
             "spikes per spiking layer: " + ", ".join(map(str, report["spikes_per_layer"]))]
    if inputs.labels is not None:
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
    check.add_argument("--plot", metavar="PNG", help="also draw the per-layer flip rates and a spike raster, float "
                                                     "vs integer, of the first sample into this PNG file")
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
