"""Worst-case stack use of a firmware, from gcc's per-function stack sizes and call graph.

Every firmware is compiled with `-fcallgraph-info=su`: for each source gcc writes a .ci
file (VCG) with each function's frame ("N bytes (static)", or "(dynamic,bounded)") and its
calls. The maximum stack is the heaviest call path from the entry (the reset handler),
summing frames. What the graph cannot bound is said, never guessed: recursion and
unbounded dynamic frames make the result unknown; indirect calls and functions without a
frame (C library leaves such as memcpy, written in assembly) are listed as not counted.
Exceptions run on the same stack, but only the fault handler exists and it ends the run.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ENTRY_POINTS = ("Reset_Handler", "main")
_NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
_EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')
_FRAME = re.compile(r"\\n(\d+) bytes \(([a-z,]+)\)")


@dataclass(frozen=True)
class StackUsage:
    bytes: int | None                 # worst case from the entry; None when the graph cannot bound it
    path: tuple[str, ...]             # the heaviest call path
    not_counted: tuple[str, ...]      # callees without a frame size (assembly leaves, indirect calls)
    reason: str = ""                  # why bytes is None

    def describe(self, reserved: int | None = None) -> str:
        if self.bytes is None:
            return f"max stack unknown ({self.reason})"
        text = f"max stack {self.bytes} B"
        if reserved:
            text += f" of {reserved} B reserved ({100 * self.bytes / reserved:.0f} %)"
        text += " (call graph: " + " > ".join(self.path) + ")"
        if self.not_counted:
            text += "; not counted: " + ", ".join(self.not_counted)
        return text

    def to_dict(self) -> dict:
        return {"bytes": self.bytes, "path": list(self.path), "not_counted": list(self.not_counted),
                "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict) -> "StackUsage":
        return cls(data["bytes"], tuple(data["path"]), tuple(data["not_counted"]), data.get("reason", ""))


def _function_name(title: str) -> str:
    """gcc titles a static function "<source path>:<name>": keep the file's name, not the
    folder (a build folder says nothing to the user and differs between builds)."""
    source, colon, name = title.rpartition(":")
    return f"{Path(source).name}:{name}" if colon else title


def parse_call_graphs(texts) -> tuple[dict[str, int | None], dict[str, set[str]]]:
    """(frame bytes per function (None: no or unbounded frame), callees per function) of .ci texts.
    A name defined in several files (static functions) keeps its largest frame."""
    frames: dict[str, int | None] = {}
    calls: dict[str, set[str]] = {}
    for text in texts:
        for title, label in _NODE.findall(text):
            name = _function_name(title)
            match = _FRAME.search(label)
            size = None if match is None or match[2] == "dynamic" else int(match[1])
            if size is not None or name not in frames:
                frames[name] = max(size, frames.get(name) or 0) if size is not None else frames.get(name)
        for source, target in _EDGE.findall(text):
            source, target = _function_name(source), _function_name(target)
            calls.setdefault(source, set()).add(target)
            frames.setdefault(target, None)
    return frames, calls


def stack_usage(ci_files, entry_points=ENTRY_POINTS) -> StackUsage:
    """Worst-case stack bytes from the first entry point found in the .ci files."""
    frames, calls = parse_call_graphs(Path(f).read_text(errors="replace") for f in ci_files)
    entry = next((name for name in entry_points if frames.get(name) is not None), None)
    if entry is None:
        return StackUsage(None, (), (), f"no entry point ({', '.join(entry_points)}) in the call graph")
    not_counted: set[str] = set()
    best: dict[str, tuple[int, tuple[str, ...]]] = {}

    def visit(name: str, active: tuple[str, ...]):
        if name in active:
            raise RecursionError(" > ".join((*active, name)))
        if name in best:
            return best[name]
        frame = frames.get(name)
        if frame is None:
            not_counted.add("indirect calls" if name == "__indirect_call" else name)
            return 0, ()
        deepest = (0, ())
        for callee in sorted(calls.get(name, ())):
            found = visit(callee, (*active, name))
            if found[0] > deepest[0]:
                deepest = found
        best[name] = (frame + deepest[0], (name, *deepest[1]))
        return best[name]

    try:
        total, path = visit(entry, ())
    except RecursionError as exc:
        return StackUsage(None, (), (), f"recursion: {exc}")
    return StackUsage(total, path, tuple(sorted(not_counted)))
