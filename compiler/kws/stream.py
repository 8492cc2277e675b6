"""Keyword spotting on an endless audio stream: the integer reference of the whole
always-listening pipeline (the host `silifc listen`), which the streaming firmware
(silifc.kws.firmware) reproduces step for step. docs/kws.md describes the design.

Pipeline, per 4 ms step (64 samples at 16 kHz), identical on the host and the device:

    PCM -> front end (silifc.kws.audio.frontend) -> counts -> events -> network step
        -> p = this step's softmax (Q16) -> detector -> "detected <word> at <t> ms"

1. The network, the front end and the detector run without resets, for ever.
2. p is the readout's softmax of this step, which `<prefix>_step()` hands back in its output
   (`<prefix>_output.probabilities`): exact however long the stream, unlike the decision
   totals (which saturate after >= 131 s), so the app never re-initialises the network.
3. The detector keeps a leaky sum of p per class and reports a keyword that leads and
   crosses a threshold, with a refractory period and re-arming (see `Detector`).

`run_stream` is the reference (the host `silifc listen`), `run_audio_firmware` the same
pipeline in QEMU; both return a `StreamTrace` so that tests compare them for equality.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..reference import fixedpoint as fx
from ..reference import int_ref
from .audio.wav import SAMPLE_RATE
from .detector import NONE, Detector, DetectorParams


@dataclass(frozen=True)
class Detection:
    cls: int
    word: str
    step: int
    time_ms: int                 # stream time when the detector fired: the end of the step's audio

    def line(self) -> str:
        return f"detected {self.word} at {self.time_ms} ms"


@dataclass(frozen=True, eq=False)
class StreamTrace:
    """Everything the always-listening pipeline computed, step by step (host or firmware)."""

    counts: np.ndarray           # [T, bands] front-end output
    probabilities: np.ndarray    # [T, classes] each step's softmax (Q16), `<prefix>_output.probabilities`
    detected: np.ndarray         # [T] detected keyword or NONE
    detections: tuple[Detection, ...]
    step_samples: int
    sample_rate: int

    @property
    def steps(self) -> int:
        return int(self.counts.shape[0])

    def lines(self) -> list[str]:
        """What the firmware prints: one line per detection, then the summary."""
        duration = time_ms(self.steps - 1, self.step_samples, self.sample_rate) if self.steps else 0
        return [d.line() for d in self.detections] + [
            f"end of stream: {self.steps} steps ({duration} ms), {len(self.detections)} detections"]

    def equal(self, other: "StreamTrace") -> bool:
        return (self.counts.shape == other.counts.shape and np.array_equal(self.counts, other.counts)
                and np.array_equal(self.probabilities, other.probabilities)
                and np.array_equal(self.detected, other.detected))

    def first_difference(self, other: "StreamTrace") -> str | None:
        for name in ("counts", "probabilities", "detected"):
            a, b = getattr(self, name), getattr(other, name)
            if a.shape != b.shape:
                return f"{name}: shapes {list(a.shape)} and {list(b.shape)}"
            rows = np.nonzero((a != b).reshape(a.shape[0], -1).any(axis=1))[0]
            if rows.size:
                return f"{name}: first difference at step {int(rows[0])} ({rows.size} steps differ)"
        return None


def time_ms(step: int, step_samples: int, sample_rate: int) -> int:
    """Stream time at the end of step `step`, rounded to ms (the firmware's integer formula)."""
    return ((step + 1) * step_samples * 1000 + sample_rate // 2) // sample_rate


class StreamingNetwork:
    """The integer reference (int_ref's kernels) run chunk by chunk with its state carried,
    so that a stream of any length takes bounded memory. `probabilities` returns each
    step's readout softmax (Q16): what the model adds to its totals in that step."""

    def __init__(self, quantized):
        self.quantized = quantized
        self.reset()

    def reset(self) -> None:
        """The state `<prefix>_init()` sets: everything zero."""
        q = self.quantized
        self.history = [np.zeros((0, layer.synapses.n_in), np.int64) for layer in q.layers]
        self.state = [tuple(np.zeros(layer.synapses.n_out, np.int64) for _ in range(3)) for layer in q.hidden]
        self.readout_u = np.zeros(q.n_classes, np.int64)

    def _currents(self, index: int, x: np.ndarray) -> np.ndarray:
        """[L, n_in] -> [L, n_out] currents; earlier inputs reach through delays (history)."""
        synapses = self.quantized.layers[index].synapses
        depth = 0 if synapses.delays is None else int(synapses.delays.max(initial=0))
        joined = np.concatenate([self.history[index], x])
        self.history[index] = joined[len(joined) - depth:] if depth else joined[:0]
        return int_ref.layer_currents(joined[None], synapses)[0][len(joined) - len(x):]

    def probabilities(self, counts) -> np.ndarray:
        x = np.asarray(counts, dtype=np.int64)
        for index, layer in enumerate(self.quantized.hidden):
            currents = self._currents(index, x)
            update = int_ref.HIDDEN_UPDATES[layer.kind]
            a, b, s = self.state[index]
            spikes = np.zeros(currents.shape, np.int64)
            for t in range(len(currents)):
                a, b, s = update(a, b, s, currents[t], layer)
                spikes[t] = s
            self.state[index] = (a, b, s)
            x = spikes
        readout = self.quantized.readout
        currents = self._currents(len(self.quantized.layers) - 1, x)
        p = np.zeros(currents.shape, np.int64)
        u = self.readout_u
        for t in range(len(currents)):
            u = int_ref.readout_update(u, currents[t], readout)
            p[t] = fx.softmax_q16(u, readout.exp_mult, readout.exp_shift)
        self.readout_u = u
        return p


def step_probabilities(quantized, counts) -> np.ndarray:
    """counts [T, inputs] from the zero state -> [T, classes] per-step softmax (Q16)."""
    return StreamingNetwork(quantized).probabilities(counts)


CHUNK_STEPS = 2048


def run_stream(quantized, counts, params: DetectorParams, classes, step_samples: int = 64,
               sample_rate: int = SAMPLE_RATE) -> StreamTrace:
    """The always-listening pipeline after the front end: network (never reset), this step's
    softmax, detector."""
    counts = np.asarray(counts)
    steps = counts.shape[0]
    probabilities = np.zeros((steps, params.classes), np.int64)
    detected = np.full(steps, NONE, np.int64)
    network = StreamingNetwork(quantized)
    detector = Detector(params)
    detections = []
    for start in range(0, steps, CHUNK_STEPS):
        chunk = network.probabilities(counts[start:start + CHUNK_STEPS])
        probabilities[start:start + len(chunk)] = chunk
        for t, p in enumerate(chunk, start):
            found = detector.step(p)
            detected[t] = found
            if found != NONE:
                detections.append(Detection(found, classes[found], t, time_ms(t, step_samples, sample_rate)))
    return StreamTrace(counts=counts.astype(np.int64), probabilities=probabilities, detected=detected,
                       detections=tuple(detections), step_samples=step_samples, sample_rate=sample_rate)
