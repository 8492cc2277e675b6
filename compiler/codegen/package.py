"""Packagings of a compiled model besides the default project (codegen.emit.write_project,
which is also a plain-CMake library and a Zephyr module):

* the Arduino library layout (`silifc compile --layout arduino`): library.properties, an
  example sketch, the memory report, and src/: the Arduino build compiles every source under
  it and adds only src/ to the include path, so the model, the public runtime headers and any
  extra files (the keyword library) lie flat in src/, and the runtime's sources of the board's
  path in src/runtime/ with their own relative includes (internal/, dsp/ or portable/).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..io.files import write_generated
from ..ir import QuantNetwork
from .emit import CodegenError, CompileOptions, model_context, plan_project, runtime_files
from .memory import MemoryPlan
from .templates import render

LAYOUTS = ("project", "arduino")
ARDUINO_PART = "arduino"          # the library's part of its folder (io.files.write_generated)


@dataclass(frozen=True)
class ArduinoLibrary:
    directory: Path
    plan: MemoryPlan
    sources: tuple[Path, ...]     # src/*.c
    example: Path                 # examples/<prefix>_run/<prefix>_run.ino


def write_arduino_library(quantized: QuantNetwork, options: CompileOptions, out_dir: str | Path,
                          extra_files: dict[str, str] | None = None, plan: MemoryPlan | None = None) -> ArduinoLibrary:
    """The model (and `extra_files`, e.g. the keyword library and its runtime, by name) as an
    Arduino library in out_dir (io.files.write_generated: never over a file silifc did not write;
    files of an earlier library that are no longer generated are removed); a file name that two
    parts share is refused."""
    out_dir = Path(out_dir)
    plan = plan if plan is not None else plan_project(quantized, options)
    context = model_context(quantized, options, plan)
    prefix = options.prefix
    parts = [(f"src/{prefix}_model.h", render("model/model.h.j2", context)),
             (f"src/{prefix}_model.c", render("model/model.c.j2", context))]
    for name, text in runtime_files(options.board.has_dsp).items():
        parts.append((f"src/{PurePosixPath(name).name}" if name.startswith("include/") else f"src/runtime/{name[4:]}",
                      text))
    parts += [(f"src/{PurePosixPath(name).name}", text) for name, text in (extra_files or {}).items()]
    files: dict[str, str] = {}
    for name, text in parts:
        if name in files and files[name] != text:
            raise CodegenError(f"the Arduino layout would hold two different files {name}")
        files[name] = text
    files["library.properties"] = render("arduino/library.properties.j2", context)
    example = f"examples/{prefix}_run/{prefix}_run.ino"
    files[example] = render("arduino/example.ino.j2", context)
    files["memory_report.txt"] = f"# {context['banner']}\n" + plan.to_text() + "\n"
    write_generated(out_dir, files, part=ARDUINO_PART)
    return ArduinoLibrary(directory=out_dir, plan=plan,
                          sources=tuple(out_dir / name for name in sorted(files) if name.endswith(".c")),
                          example=out_dir / example)
