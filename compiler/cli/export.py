"""`silifc export`: write a model in another format (NIR graphs; docs/nir.md)."""
from __future__ import annotations

from ..io.nir.export import export_nir
from .common import add_model_options, emit, load_model


def cmd_export(args) -> int:
    model = load_model(args)
    path, network = model.path, model.network
    out = export_nir(network, args.nir)
    config = network.config
    report = {"model": str(path), "nir": str(out), "kinds": [layer.kind for layer in network.layers],
              "widths": list(network.widths), "dialect": config.nir_dialect, "dt": config.nir_dt}
    emit(args, report, f"wrote {out}: {' -> '.join(map(str, network.widths))} "
                       f"({', '.join(layer.kind for layer in network.layers)}), NIR dialect {config.nir_dialect}, "
                       f"dt {config.nir_dt:g} s (in the graph's metadata)")
    return 0


def add_commands(sub) -> None:
    export = sub.add_parser("export", help="write a model as a NIR graph (LIF-family models; docs/nir.md)")
    add_model_options(export)
    export.add_argument("--nir", required=True, help="the .nir file to write")
    export.add_argument("--json", action="store_true", help="machine-readable report")
    export.set_defaults(func=cmd_export)
