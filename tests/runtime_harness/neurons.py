"""Cases of the neuron kernels (include/slf_neurons.h, include/slf_lif.h): SiLIF, C-SiLIF, LIF-family and
readout updates, their
one-time layer checks, and 10^5..10^6-step long runs, against int_ref's updates. C side:
driver_neurons.c."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from silifc.reference import fixedpoint as fx
from silifc.passes.quantize import SILIF_MULT_MAX, SILIF_THRESHOLD_MAX
from silifc.reference import int_ref

from .common import (DEFAULT_LIMITS, ERR_CAPACITY, ERR_NULL, ERR_PARAM, ERR_SHAPE, EXP_MULT, I32_MAX, I32_MIN, OK,
                     I16_MAX, I16_MIN, OP_CSILIF, OP_LAYER_CHECK, OP_LIF, OP_LONGRUN, OP_NEURON_ERRORS, OP_READOUT, OP_SILIF, Q31_MAX,
                     BatteryCase, Case, Limits, accumulators, compare, hash32, input_scale, pick, q31,
                     state_values, words)


def _layer_size(rng, lim):
    return min(int(rng.choice([1, 2, 5, 8, 9, rng.integers(1, 40), rng.integers(1, 130)])), lim.max_n)


def _threshold(rng, frac_bits_low=8):
    return int(rng.choice([1 << int(rng.integers(frac_bits_low, 29)), 1 << int(rng.integers(frac_bits_low, 29)),
                           0, I32_MAX, -1, int(rng.integers(I32_MIN, I32_MAX))]))


def silif_records(mult, bias, layer):
    """slf_silif_neuron fields in declaration order, one row per neuron (one word per field)."""
    return np.stack([words(v) for v in (layer.k_beta, bias, layer.k_a, layer.jump, mult, layer.k_leak)], axis=1)


def silif_constants(rng, n, threshold):
    """A SiLIF layer's per-neuron constants over their whole contract (k_a, jump 0..32767; k_leak
    -32768..0, the edges included) and its input scale (mult 0..65535, a uint16)."""
    mult, bias = input_scale(rng, n)
    mult = np.where(mult > SILIF_MULT_MAX, pick(rng, n, [SILIF_MULT_MAX, 1], 0.3, 0, SILIF_MULT_MAX), mult)
    layer = SimpleNamespace(threshold=threshold, k_beta=q31(rng, n, "pos"),
                            k_a=pick(rng, n, [0, I16_MAX, 1, 1 << 14], 0.3, 0, I16_MAX),
                            k_leak=pick(rng, n, [I16_MIN, 0, -1, -311], 0.3, I16_MIN, 0),
                            jump=pick(rng, n, [0, I16_MAX, 1, 1 << 14], 0.3, 0, I16_MAX))
    return mult, bias, layer


def csilif_records(mult, bias, layer):
    return np.stack([words(v) for v in (mult, bias, layer.k_re, layer.k_im)], axis=1)


def readout_records(mult, bias, layer):
    return np.stack([words(v) for v in (mult, bias, layer.k_alpha)], axis=1)


# SLF_LIF_* flags (slf_lif.h) and the LIF-family kind each combination is (int_ref.lif_update)
LIF_CURRENT, LIF_INTEGRATOR, LIF_RESET_VALUE, LIF_SPIKING = 1, 2, 4, 8
LIF_KIND_OF = {(0, 0, 1): "lif", (1, 0, 1): "cubalif", (0, 1, 1): "if",
               (0, 0, 0): "li", (1, 0, 0): "cubali", (0, 1, 0): "i"}          # (current, integrator, spiking)


def lif_records(mult, bias, layer):
    """slf_lif_neuron fields in declaration order, one row per neuron."""
    return np.stack([words(v) for v in (mult, bias, layer.k_beta, layer.k_alpha, layer.leak, layer.threshold,
                                        layer.reset_to, layer.reset_sub)], axis=1)


class _TwoStateCase(Case):
    """Several steps of a two-state neuron kernel (SiLIF, C-SiLIF) against int_ref: the step loop
    and the check both kernels share. `update(a, b, s, current, layer)` is the int_ref update."""

    STATES: tuple = ()

    def _steps(self, rng, n, steps, mult, bias, update, layer, a, b, s, payload):
        synapses = SimpleNamespace(mult=mult, bias=bias)
        self.n = n
        self.expected = []
        for _ in range(steps):
            acc = accumulators(rng, n, mult, bias)
            payload.append(words(acc))
            current = int_ref.input_current(acc, synapses)
            a, b, s = update(a, b, s, current, layer)
            self.expected.append((a, b, s))
        return np.concatenate(payload)

    def check(self, reader):
        errors = []
        for t, states in enumerate(self.expected):
            compare(errors, f"step {t} status", [reader.i32()], [OK])
            for name, want in zip(self.STATES, states[:2]):
                compare(errors, f"step {t} {name}", reader.i32s(self.n), want)
            _check_spikes(errors, reader, t, states[2], self.n)
        return errors


class SiLIFCase(_TwoStateCase):
    """Several steps of slf_silif_update_q31 against int_ref.input_current + silif_update."""

    STATES = ("u", "w")

    def __init__(self, rng, lim: Limits = DEFAULT_LIMITS):
        n = _layer_size(rng, lim)
        steps = int(rng.integers(1, 5))
        threshold = _threshold(rng)                   # out-of-contract ones too: defined, modulo 2^32
        mult, bias, layer = silif_constants(rng, n, threshold)
        scale_bits = None if rng.random() < 0.4 else int(rng.integers(10, 31))
        u = state_values(rng, n, scale_bits)
        w = state_values(rng, n, scale_bits)
        s = (u > threshold).astype(np.int64)          # the state invariant: s is the previous spike
        payload = [words([n, threshold, steps]), silif_records(mult, bias, layer).ravel(), words(u), words(w),
                   words(s)]
        payload = self._steps(rng, n, steps, mult, bias, int_ref.silif_update, layer, u, w, s, payload)
        super().__init__(OP_SILIF, "slf_silif_update_q31", payload)


def _check_spikes(errors, reader, t, s, n):
    compare(errors, f"step {t} spiked", reader.i32s(n), s)
    count = reader.word()
    compare(errors, f"step {t} spike list", reader.i32s(count), np.flatnonzero(s))
    compare(errors, f"step {t} input slot cleared", [reader.word()], [1])


class CSiLIFCase(_TwoStateCase):
    """Several steps of slf_csilif_update_q31 against int_ref.input_current + csilif_update."""

    STATES = ("zr", "zi")

    def __init__(self, rng, lim: Limits = DEFAULT_LIMITS):
        n = _layer_size(rng, lim)
        steps = int(rng.integers(1, 5))
        threshold = _threshold(rng, 7)
        mult, bias = input_scale(rng, n)
        k_re = q31(rng, n, "any")
        k_im = q31(rng, n, "any")                      # negative k_im included
        rotation = rng.random(n) < 0.4                 # |decay| close to 1: a rotation
        angle = rng.uniform(-np.pi, np.pi, size=int(rotation.sum()))
        k_re[rotation] = np.round(np.cos(angle) * Q31_MAX).astype(np.int64)
        k_im[rotation] = np.round(np.sin(angle) * Q31_MAX).astype(np.int64)
        scale_bits = None if rng.random() < 0.4 else int(rng.integers(10, 31))
        zr = state_values(rng, n, scale_bits)
        zi = state_values(rng, n, scale_bits)
        s = (zr > threshold).astype(np.int64)
        layer = SimpleNamespace(threshold=threshold, k_re=k_re, k_im=k_im)
        payload = [words([n, threshold, steps]), csilif_records(mult, bias, layer).ravel(), words(zr), words(zi),
                   words(s)]
        payload = self._steps(rng, n, steps, mult, bias, int_ref.csilif_update, layer, zr, zi, s, payload)
        super().__init__(OP_CSILIF, "slf_csilif_update_q31", payload)


class LIFCase(Case):
    """Several steps of slf_lif_update_q31 (every LIF-family kind, both resets, with and without
    output totals) against int_ref.input_current + lif_update (+ output_q16 for the totals)."""

    def __init__(self, rng, lim: Limits = DEFAULT_LIMITS):
        n = _layer_size(rng, lim)
        steps = int(rng.integers(1, 5))
        (current, integrator, spiking), kind = list(LIF_KIND_OF.items())[int(rng.integers(len(LIF_KIND_OF)))]
        value_reset = spiking and rng.random() < 0.5
        flags = current * LIF_CURRENT | integrator * LIF_INTEGRATOR | value_reset * LIF_RESET_VALUE \
            | spiking * LIF_SPIKING
        mult, bias = input_scale(rng, n)
        threshold = state_values(rng, n, None if rng.random() < 0.3 else 28)
        leak = state_values(rng, n, None if rng.random() < 0.3 else 24)
        reset_sub = np.zeros(n, np.int64) if value_reset or not spiking else np.clip(threshold, -I32_MAX, I32_MAX)
        if rng.random() < 0.3:                          # the kernel's contract, whatever the reset
            reset_sub = np.clip(state_values(rng, n), -I32_MAX, I32_MAX)
        room = I32_MAX - np.abs(reset_sub)              # |leak| + |reset_sub| <= 2^31 - 1
        leak = np.clip(leak, -room, room)
        layer = SimpleNamespace(kind=kind, reset="value" if value_reset else "subtract", k_beta=q31(rng, n, "pos"),
                                k_alpha=q31(rng, n, "pos"), leak=leak, threshold=threshold,
                                reset_to=state_values(rng, n), reset_sub=reset_sub)
        scale_bits = None if rng.random() < 0.4 else int(rng.integers(10, 31))
        v = state_values(rng, n, scale_bits)
        j = state_values(rng, n, scale_bits)
        s = (v > threshold).astype(np.int64) if spiking else np.zeros(n, np.int64)   # s is the previous spike
        out_shift = int(rng.choice([-31, -8, -1, 0, 1, 12, 31]))
        with_totals = bool(rng.random() < 0.5)
        totals = pick(rng, n, [I32_MAX, I32_MAX - 1, I32_MIN, 0], 0.3)
        payload = [words([n, flags, out_shift, steps, with_totals]), lif_records(mult, bias, layer).ravel(),
                   words(v), words(j), words(s)] + ([words(totals)] if with_totals else [])
        synapses = SimpleNamespace(mult=mult, bias=bias)
        self.n, self.spiking, self.with_totals = n, spiking, with_totals
        self.expected = []
        for _ in range(steps):
            acc = accumulators(rng, n, mult, bias)
            payload.append(words(acc))
            v, j, s = int_ref.lif_update(v, j, s, int_ref.input_current(acc, synapses), layer)
            totals = fx.sat32(totals + (s if spiking else int_ref.output_q16(v, out_shift + fx.OUTPUT_FRAC_BITS)))
            self.expected.append((v, j, s, totals))
        super().__init__(OP_LIF, "slf_lif_update_q31", np.concatenate(payload))

    def check(self, reader):
        errors = []
        for t, (v, j, s, totals) in enumerate(self.expected):
            compare(errors, f"step {t} status", [reader.i32()], [OK])
            compare(errors, f"step {t} v", reader.i32s(self.n), v)
            compare(errors, f"step {t} j", reader.i32s(self.n), j)
            compare(errors, f"step {t} spiked", reader.i32s(self.n), s)
            if self.spiking:
                count = reader.word()
                compare(errors, f"step {t} spike list", reader.i32s(count), np.flatnonzero(s))
            if self.with_totals:
                compare(errors, f"step {t} totals", reader.i32s(self.n), totals)
            compare(errors, f"step {t} input slot cleared", [reader.word()], [1])
        return errors


class ReadoutCase(Case):
    """Several steps of slf_readout_update_q31 against int_ref.readout_update."""

    def __init__(self, rng, lim: Limits = DEFAULT_LIMITS):
        n = min(int(rng.choice([1, 2, 35, rng.integers(1, 128)])), lim.max_n)
        steps = int(rng.integers(1, 5))
        mult, bias = input_scale(rng, n)
        layer = SimpleNamespace(k_alpha=q31(rng, n, "pos" if rng.random() < 0.5 else "any"))
        u = state_values(rng, n, None if rng.random() < 0.4 else int(rng.integers(10, 31)))
        synapses = SimpleNamespace(mult=mult, bias=bias)
        payload = [words([n, steps, 1549082005, 40]), readout_records(mult, bias, layer).ravel(), words(u)]
        self.n = n
        self.expected = []
        for _ in range(steps):
            acc = accumulators(rng, n, mult, bias)
            payload.append(words(acc))
            u = int_ref.readout_update(u, int_ref.input_current(acc, synapses), layer)
            self.expected.append(u)
        super().__init__(OP_READOUT, "slf_readout_update_q31", np.concatenate(payload))

    def check(self, reader):
        errors = []
        for t, u in enumerate(self.expected):
            compare(errors, f"step {t} status", [reader.i32()], [OK])
            compare(errors, f"step {t} u", reader.i32s(self.n), u)
        return errors


class LayerCheckCase(Case):
    """slf_*_layer_check on valid records and on records with one field out of contract."""

    def __init__(self, rng, kind, lim: Limits = DEFAULT_LIMITS):
        n = min(int(rng.choice([1, 2, 8, rng.integers(1, 60)])), lim.max_n)
        if kind == 0:
            self._silif(rng, n)
            return
        mult, bias = input_scale(rng, n)
        count = (3, 2, 1, 2)[kind]                     # Q31 constants per record
        q = [q31(rng, n, "pos") for _ in range(count)]
        exp_mult, exp_shift = EXP_MULT, 40
        lif_leak_over, lif_bad_header = None, False
        expected = OK
        if rng.random() < 0.6:
            expected = ERR_PARAM
            i = int(rng.integers(n))
            what = rng.integers({0: 3, 1: 2, 2: 4, 3: 5}[kind])
            if what == 0:
                mult[i] = -int(rng.integers(1, 1 << 31))
            elif what == 1:
                q[int(rng.integers(count))][i] = int(rng.choice([I32_MIN, I32_MAX, -I32_MAX, Q31_MAX + 1]))
            elif what == 2 and kind in (0, 3):           # SiLIF's and LIF's decays must be >= 0
                q[int(rng.choice([0, 1]))][i] = -int(rng.integers(1, Q31_MAX + 1))
            elif kind == 3 and what == 3:                # LIF: |leak| + |reset_sub| beyond int32
                lif_leak_over = i
            elif kind == 3:                              # LIF: unknown flag bits or |out_shift| > 31
                lif_bad_header = True
            elif what == 2:
                exp_mult = -int(rng.integers(1, 1 << 31))
            else:
                exp_shift = int(rng.choice([0, 63]))
        if kind == 1:
            payload = [words([1, n]), csilif_records(mult, bias, SimpleNamespace(k_re=q[0], k_im=-q[1])).ravel()]
        elif kind == 2:
            payload = [words([2, n, exp_mult, exp_shift]),
                       readout_records(mult, bias, SimpleNamespace(k_alpha=q[0])).ravel()]
        else:
            reset_sub = np.clip(state_values(rng, n), -I32_MAX, I32_MAX)
            room = I32_MAX - np.abs(reset_sub)
            leak = np.clip(state_values(rng, n), -room, room)          # at the edge: |leak| + |reset_sub| = 2^31 - 1
            if lif_leak_over is not None:
                reset_sub[lif_leak_over] = int(rng.integers(1, I32_MAX + 1))
                leak[lif_leak_over] = I32_MAX - reset_sub[lif_leak_over] + 1 if rng.random() < 0.5 else I32_MIN
            flags = int(rng.integers(16))
            out_shift = int(rng.integers(-31, 32))
            if lif_bad_header:
                flags, out_shift = (flags | 1 << int(rng.integers(4, 16)), out_shift) if rng.random() < 0.5 \
                    else (flags, int(rng.choice([-32, 32, -(1 << 15), (1 << 15) - 1])))
            layer = SimpleNamespace(k_beta=q[0], k_alpha=q[1], leak=leak, threshold=state_values(rng, n),
                                    reset_to=state_values(rng, n), reset_sub=reset_sub)
            payload = [words([3, n, flags, out_shift]), lif_records(mult, bias, layer).ravel()]
        self.expected = expected
        label = ("slf_silif_layer_check", "slf_csilif_layer_check", "slf_readout_layer_check",
                 "slf_lif_layer_check")[kind]
        super().__init__(OP_LAYER_CHECK, label, np.concatenate(payload))

    def _silif(self, rng, n):
        """SiLIF: k_beta in [0, Q31_MAX], k_a and jump >= 0, k_leak <= 0, threshold in [1, 2^29 - 1]; at most
        one of them out of contract (mult, a uint16, has no invalid value)."""
        threshold = int(rng.choice([1, SILIF_THRESHOLD_MAX, 1 << int(rng.integers(8, 29))]))
        mult, bias, layer = silif_constants(rng, n, threshold)
        self.expected = OK
        if rng.random() < 0.6:
            self.expected = ERR_PARAM
            i = int(rng.integers(n))
            what = int(rng.integers(5))
            if what == 0:
                layer.k_beta[i] = int(rng.choice([-1, I32_MIN, Q31_MAX + 1, I32_MAX]))
            elif what == 1:
                layer.k_a[i] = int(rng.choice([-1, I16_MIN]))
            elif what == 2:
                layer.k_leak[i] = int(rng.choice([1, I16_MAX]))
            elif what == 3:
                layer.jump[i] = int(rng.choice([-1, I16_MIN]))
            else:
                threshold = int(rng.choice([0, -1, SILIF_THRESHOLD_MAX + 1, I32_MAX, I32_MIN]))
        payload = [words([0, n, threshold]), silif_records(mult, bias, layer).ravel()]
        super().__init__(OP_LAYER_CHECK, "slf_silif_layer_check", np.concatenate(payload))

    def check(self, reader):
        errors = []
        compare(errors, "status", [reader.i32()], [self.expected])
        return errors


class LongRunCase(Case):
    """`steps` steps of one layer with hash-generated accumulators, looped inside the driver.

    The driver reports the state every `segment` steps and a spike count and checksum per
    segment. The reference then replays all segments at once (vectorised over segments),
    each from the driver's own snapshot at its start: equal end states for every segment
    and a zero first snapshot prove, by induction, that every one of the `steps`
    transitions equals int_ref's."""

    MODELS = ("silif", "csilif", "readout")

    def __init__(self, rng, model, steps, segment, n=8, acc_shift=0):
        assert steps % segment == 0
        seed = int(rng.integers(1 << 32))
        self.model, self.n, self.steps, self.segment = model, n, steps, segment
        self.seed, self.acc_shift = seed, acc_shift
        # Half the layer gets the raw accumulators (states saturate), half small currents; every
        # current fits int32 for any accumulator (acc >> acc_shift, |acc| <= 2^31), as the contract asks.
        mult = np.where(np.arange(n) < n // 2, 1, 0).astype(np.int64)
        bias = np.where(mult == 1, 0, rng.integers(-(1 << 20), 1 << 20, size=n)).astype(np.int64)
        self.synapses = SimpleNamespace(mult=mult, bias=bias)
        if model == "silif":
            threshold = 1 << int(rng.integers(16, 27))
            _, _, self.layer = silif_constants(rng, n, threshold)
            records = silif_records(mult, bias, self.layer).ravel()
            head = [0, n, steps, segment, seed, acc_shift, threshold]
        elif model == "csilif":
            threshold = 1 << int(rng.integers(16, 27))
            angle = rng.uniform(-np.pi, np.pi, size=n)
            radius = 1.0 - rng.choice([0.0, 1e-9, 1e-4, 0.1], size=n)
            k_re = np.round(radius * np.cos(angle) * Q31_MAX).astype(np.int64)
            k_im = np.round(radius * np.sin(angle) * Q31_MAX).astype(np.int64)
            self.layer = SimpleNamespace(threshold=threshold, k_re=k_re, k_im=k_im)
            records = csilif_records(mult, bias, self.layer).ravel()
            head = [1, n, steps, segment, seed, acc_shift, threshold]
        else:
            k_alpha = q31(rng, n, "pos")
            self.layer = SimpleNamespace(k_alpha=k_alpha, exp_mult=EXP_MULT, exp_shift=int(rng.integers(30, 43)))
            records = np.concatenate([words([EXP_MULT, self.layer.exp_shift]),
                                      readout_records(mult, bias, self.layer).ravel()])
            head = [2, n, steps, segment, seed, acc_shift, 0]
        super().__init__(OP_LONGRUN, f"long run {model}", np.concatenate([words(head), records]))

    def inputs(self, t):
        """The driver's synthetic accumulators for steps t [K] -> [K, n]."""
        i = np.arange(self.n, dtype=np.uint64)
        x = (np.uint64(self.seed) ^ ((t[:, None].astype(np.uint64) * np.uint64(self.n) + i) & np.uint64(0xFFFFFFFF)))
        return hash32(x.astype(np.uint32)).view(np.int32).astype(np.int64) >> self.acc_shift

    def check(self, reader):
        errors = []
        n, segments = self.n, self.steps // self.segment
        snaps, sums = [], []
        for k in range(segments + 1):
            if k:
                sums.append((reader.word(), reader.word()))
            if self.model == "readout":
                snaps.append((reader.i32s(n), reader.i32s(n)))
            else:
                cells = reader.i32s(2 * n).reshape(n, 2)
                snaps.append((cells[:, 0], cells[:, 1], reader.i32s(n)))
        compare(errors, "final status", [reader.i32()], [OK])
        compare(errors, "initial state", np.concatenate(snaps[0]), np.zeros(len(snaps[0]) * n))
        state = [np.stack([s[j] for s in snaps[:-1]]) for j in range(len(snaps[0]))]
        count = np.zeros(segments, np.int64)
        checksum = np.zeros(segments, np.uint64)
        index = np.arange(n, dtype=np.uint64)
        for local in range(self.segment):
            t = np.arange(segments, dtype=np.int64) * self.segment + local
            current = int_ref.input_current(self.inputs(t), self.synapses)
            if self.model == "silif":
                state = list(int_ref.silif_update(*state, current, self.layer))
            elif self.model == "csilif":
                state = list(int_ref.csilif_update(*state, current, self.layer))
            else:
                u = int_ref.readout_update(state[0], current, self.layer)
                state = [u, int_ref.accumulate_decision(state[1], u, self.layer)]
            if self.model != "readout":
                fired = state[2].astype(bool)
                count += fired.sum(axis=1)
                label = t.astype(np.uint64)[:, None] * np.uint64(n) + index + np.uint64(1)
                checksum += np.where(fired, label, np.uint64(0)).sum(axis=1, dtype=np.uint64)
        for j in range(len(state)):
            compare(errors, f"segment end states[{j}]", state[j], np.stack([s[j] for s in snaps[1:]]))
        if self.model != "readout":
            got = np.array(sums, dtype=np.int64).reshape(segments, 2)
            compare(errors, "spike counts", got[:, 0], count)
            compare(errors, "spike checksums", got[:, 1], (checksum & np.uint64(0xFFFFFFFF)).astype(np.int64))
        self.summary = {"spikes": int(count.sum()),
                        "saturated": int(sum((np.abs(np.asarray(s[0])) >= I32_MAX).sum() for s in snaps)),
                        "totals_saturated": int((snaps[-1][1] == I32_MAX).sum()) if self.model == "readout" else 0}
        return errors


# The statuses run_errors in driver_neurons.c reports.
ERROR_BATTERY = [ERR_CAPACITY, ERR_SHAPE, ERR_NULL, OK, 1, ERR_PARAM,
                 ERR_NULL, ERR_NULL, ERR_CAPACITY, ERR_SHAPE, ERR_SHAPE, OK,             # slf_lif_update_q31
                 ERR_PARAM, ERR_PARAM, ERR_PARAM, OK, ERR_NULL]                          # slf_lif_layer_check

KERNELS = ("slf_silif_update_q31", "slf_csilif_update_q31", "slf_lif_update_q31", "slf_readout_update_q31",
           "slf_silif_layer_check", "slf_csilif_layer_check", "slf_readout_layer_check", "slf_lif_layer_check")


def cases(rng, per_kernel: int, lim: Limits = DEFAULT_LIMITS) -> list[Case]:
    """`per_kernel` randomized cases for every update and layer check, within `lim`."""
    out: list[Case] = []
    for make in (SiLIFCase, CSiLIFCase, LIFCase, ReadoutCase):
        out += [make(rng, lim) for _ in range(per_kernel)]
    for kind in range(4):
        out += [LayerCheckCase(rng, kind, lim) for _ in range(per_kernel)]
    out.append(BatteryCase(OP_NEURON_ERRORS, "invalid arguments (neurons)", ERROR_BATTERY))
    return out
