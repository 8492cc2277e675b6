"""Worst-case stack from gcc's call graph (issue 18, item 6): the parser on hand-written graphs
(static functions, recursion, frames gcc cannot size), and a built firmware's report."""
from __future__ import annotations

import pytest

from silifc.target.stack import stack_usage


def _node(title: str, frame: str | None) -> str:
    label = f"{title}\\nsrc.c:1:1" + (f"\\n{frame}" if frame else "")
    return f'node: {{ title: "{title}" label: "{label}" }}\n'


def _edge(source: str, target: str) -> str:
    return f'edge: {{ sourcename: "{source}" targetname: "{target}" label: "src.c:2:3" }}\n'


@pytest.mark.unit
def test_heaviest_path_static_names_and_what_is_not_counted(tmp_path):
    static = "/tmp/build-1234/model/m_model.c:m_outputs"
    graph = (_node("Reset_Handler", "8 bytes (static)") + _node("main", "32 bytes (static)")
             + _node("m_step", "40 bytes (static)") + _node(static, "24 bytes (static)")
             + _node("light", "100 bytes (static)") + _node("__aeabi_ldivmod", None)
             + _edge("Reset_Handler", "main") + _edge("main", "m_step") + _edge("main", "light")
             + _edge("m_step", static) + _edge(static, "__aeabi_ldivmod"))
    (tmp_path / "firmware.elf-a.ci").write_text(graph)
    usage = stack_usage([tmp_path / "firmware.elf-a.ci"])
    assert usage.bytes == 8 + 32 + 100                      # main > light (100) outweighs m_step > m_outputs (64)
    assert usage.path == ("Reset_Handler", "main", "light")
    assert usage.not_counted == ("__aeabi_ldivmod",)
    step = stack_usage([tmp_path / "firmware.elf-a.ci"], ("m_step",))
    assert step.bytes == 64 and step.path == ("m_step", "m_model.c:m_outputs")      # no build folder in names
    recursive = graph + _edge("m_step", "main")
    (tmp_path / "firmware.elf-a.ci").write_text(recursive)
    usage = stack_usage([tmp_path / "firmware.elf-a.ci"])
    assert usage.bytes is None and "recursion" in usage.reason and "unknown" in usage.describe()


@pytest.mark.firmware
def test_a_built_firmware_reports_its_worst_stack_through_the_step(tmp_path):
    import silifc

    compiled = silifc.load("timing_delays.pt").quantize().compile(board="nrf52840", output=tmp_path / "p",
                                                                  prefix="timing")
    image = compiled.build()
    stack = image.stack
    assert stack is not None and 0 < stack.bytes < compiled.board.stack_size
    # The step with its outputs (softmax) is the deepest path of the emulator harness.
    assert stack.path[:4] == ("Reset_Handler", "main", "timing_step", "timing_model.c:timing_outputs")
    assert f"max stack {stack.bytes} B of {compiled.board.stack_size} B reserved" in \
        stack.describe(compiled.board.stack_size)
