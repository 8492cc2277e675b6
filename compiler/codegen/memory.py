"""Static memory plan of a compiled model: every buffer, its section and its exact size.

Algorithm:
 1. Walk the quantized layers in schedule order. Each layer owns constants in flash
    (weights, optional delay table, per-neuron records, its descriptor structs) and
    buffers in RAM (delay-ring accumulators, neuron state, previous spikes, spike list).
    With dense synapses (`--synapses dense`) the weights are the blocked, padded table of
    slf_dense.h plus per-row sums, and one scratch vector in RAM serves every layer.
    Event-driven layers accumulate through packed 16-bit lanes where that is exact: the
    input layer with int8 weights and no delays (quantize.lanes16_events), hidden layers whose
    sums provably fit int16 (quantize.lanes16_exact); one lane scratch in RAM serves them all.
 2. The RAM buffers are the members of the model context `<prefix>_ctx` (one per instance,
    allocated by the caller), in the struct's order: a check word; the descriptors and the
    readout's state, which every step addresses (first, so that their offsets fit one
    Thumb-2 ADDW: a step costs what it cost with static buffers); the large 4-byte aligned
    arrays; the uint16 spike lists; the uint8 spike flags. So padding can only come at the
    end (listed as a buffer of its own). The sum is `<PREFIX>_CTX_BYTES`; the generated C
    refuses to compile if sizeof differs.
 3. Sizes are those of the runtime's C types on 32-bit ARM EAPI (AAPCS: 4-byte pointers,
    int64 aligned to 8): the constants below; a firmware test compares every planned
    flash buffer with the symbol size in the linked ELF, and the context with its instance.
 4. Nothing is allocated at run time and no buffer is shared: spike lists of layer k are
    read by layer k+1 in the same step, and states live for the whole stream.
 5. Compare the totals (plus the board's reserved stack and a code estimate) with the
    board's flash and RAM before any C is generated; refuse with the region, the bytes
    over and what to try.
"""
from __future__ import annotations

from dataclasses import dataclass

from .boards import Board
from ..errors import SilifcError
from ..passes.quantize import lanes16_events, lanes16_exact
from ..ir import LAYER_KINDS, LIF_KINDS, QuantNetwork

# sizeof() of runtime records on 32-bit ARM (checked against the linked ELF's symbol sizes by
# tests/test_firmware.py::test_planned_buffer_sizes_equal_the_linked_symbols)
NEURON_RECORD_BYTES = {"silif": 16, "csilif": 16, "readout": 12, "lif": 32}       # by runtime family
LAYER_DESCRIPTOR_BYTES = {"silif": 12, "csilif": 12, "readout": 16, "lif": 12}
WEIGHTS_DESCRIPTOR_BYTES = 8          # slf_weights_s8 / _s16: pointer + two uint16
DELAYS_DESCRIPTOR_BYTES = 8           # slf_synaptic_delays(_u8) (pointer + two uint16) / slf_axonal_delays (padded)
RING_DESCRIPTOR_BYTES = 12            # slf_delay_ring_s32: pointer + three uint16, padded
STATE_DESCRIPTOR_BYTES = 8            # slf_silif_state / slf_csilif_state: two pointers
SPIKE_LIST_BYTES = 8                  # slf_spike_list: pointer + two uint16
DENSE_WEIGHTS_DESCRIPTOR_BYTES = 12   # slf_dense_weights_s8: two pointers + two uint16
DENSE_SCRATCH_DESCRIPTOR_BYTES = 8    # slf_dense_scratch: pointer + uint16, padded
LANES16_SCRATCH_DESCRIPTOR_BYTES = 8  # slf_lanes16_scratch: pointer + uint16, padded
CTX_CHECK_BYTES = 4                   # <prefix>_ctx.check: uint32, set by <prefix>_init
CTX_ALIGN = 4                         # the context's alignment: int32 and pointer members
SYNAPSE_CHOICES = ("event", "dense")
CELL_BYTES = 8                        # slf_silif_cell / slf_csilif_cell / slf_lif_cell: two int32
# Runtime code + step schedule + startup, measured on Cortex-M4 -O2 (~6 KB); the plan's
# fit check uses this estimate; the link then checks the exact figure.
CODE_ESTIMATE_BYTES = 8 * 1024
MAX_SYNAPTIC_DELAY = 255              # longest delay the runtime stores (one byte; ring depth <= 256)
MAX_SYNAPTIC_DELAY_U4 = 15            # longest delay of the 4-bit per-synapse form (half the flash)


class ModelTooLargeError(SilifcError):
    """The model's buffers do not fit the board; raised before any C is built."""


@dataclass(frozen=True)
class Buffer:
    name: str                     # C symbol (flash), or <prefix>_ctx.<member> (RAM)
    section: str                  # "flash" or "ram"
    bytes: int
    what: str                     # one line for the report
    ring_depth: int = 0           # slots of a delay ring's accumulators (0: not a ring)


@dataclass(frozen=True)
class MemoryPlan:
    board: Board
    buffers: tuple[Buffer, ...]
    stack_bytes: int

    def total(self, section: str) -> int:
        return sum(b.bytes for b in self.buffers if b.section == section)

    @property
    def flash_bytes(self) -> int:
        return self.total("flash")

    @property
    def ram_bytes(self) -> int:
        return self.total("ram")

    def to_text(self) -> str:
        width = max(len(b.name) for b in self.buffers)
        lines = [f"{'buffer':<{width}}  {'section':<7} {'bytes':>9}  what", "-" * (width + 40)]
        for buffer in self.buffers:
            lines.append(f"{buffer.name:<{width}}  {buffer.section:<7} {buffer.bytes:>9}  {buffer.what}")
        flash, ram = self.flash_bytes, self.ram_bytes
        board = self.board
        lines += ["-" * (width + 40),
                  f"model constants in flash: {flash:>9} B  ({100 * flash / board.flash.size:5.1f} % of "
                  f"{board.flash.size // 1024} KB; runtime code comes on top, ~{CODE_ESTIMATE_BYTES // 1024} KB)",
                  f"model context in RAM:     {ram:>9} B  ({100 * ram / board.ram.size:5.1f} % of "
                  f"{board.ram.size // 1024} KB) per instance (sizeof <prefix>_ctx)",
                  f"stack (reserved):         {self.stack_bytes:>9} B  (stack_size of board {board.name})"]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"board": self.board.name, "flash_bytes": self.flash_bytes, "ram_bytes": self.ram_bytes,
                "stack_bytes": self.stack_bytes, "flash_size": self.board.flash.size,
                "ram_size": self.board.ram.size,
                "buffers": [dict(name=b.name, section=b.section, bytes=b.bytes, what=b.what) for b in self.buffers]}


def runtime_family(kind: str) -> str:
    """The runtime's type and kernel family of a layer kind: the LIF family (NIR graphs) shares
    slf_lif_* (its kinds differ by flags); SiLIF, C-SiLIF and the readout have their own."""
    return "lif" if kind in LIF_KINDS else kind


def layer_prefixes(quantized: QuantNetwork, prefix: str) -> list[str]:
    names = [f"{prefix}_l{index}" for index in range(len(quantized.hidden))]
    return names + [f"{prefix}_readout"]


def delay_form(synapses) -> str:
    """'none', 'axonal' (one byte per presynaptic neuron), 'synaptic' (4 bits per synapse, every
    delay <= 15) or 'synaptic_u8' (a byte per synapse, delays up to 255)."""
    if synapses.max_delay == 0:
        return "none"
    delays = synapses.delays
    if (delays == delays[:, :1]).all():
        return "axonal"
    return "synaptic" if synapses.max_delay <= MAX_SYNAPTIC_DELAY_U4 else "synaptic_u8"


def ring_bytes(max_delay: int, n_out: int) -> int:
    """RAM of a layer's delay ring: 1 + max_delay slots of n_out int32 accumulators."""
    return 4 * (max_delay + 1) * n_out


def dense_stride(n_in: int) -> int:
    """SLF_DENSE_STRIDE: bytes per row of a dense weight table (inputs padded to 8)."""
    return -(-n_in // 8) * 8


def dense_rows(n_out: int) -> int:
    """SLF_DENSE_ROWS: rows of a dense weight table (padded to blocks of 4)."""
    return -(-n_out // 4) * 4


def dense_scratch_words(quantized: QuantNetwork) -> int:
    """Words of the shared scratch vector: SLF_DENSE_EVENTS_SCRATCH_WORDS for the input layer,
    SLF_DENSE_SPIKES_SCRATCH_WORDS for the others, the largest of them."""
    words = [dense_stride(layer.synapses.n_in) // (1 if index == 0 else 4)
             for index, layer in enumerate(quantized.layers)]
    return max(words)


def lanes16_scratch_words(n_out: int) -> int:
    """SLF_LANES16_SCRATCH_WORDS(n_out): two int16 lanes per word, whole blocks of 8 outputs."""
    return -(-n_out // 8) * 4


def lanes16_layers(quantized: QuantNetwork, synapses: str = "event") -> list[int]:
    """Indices of the layers compiled with a 16-bit lane kernel (event-driven only): the input
    layer with slf_accumulate_events_s8_lanes16, hidden layers with slf_accumulate_spikes_s8_lanes16."""
    if synapses != "event":
        return []
    return [index for index, layer in enumerate(quantized.layers)
            if (lanes16_events if index == 0 else lanes16_exact)(layer.synapses)]


def lanes16_scratch_size(quantized: QuantNetwork, synapses: str = "event") -> int:
    """Words of the lane scratch shared by those layers (0 when there are none)."""
    return max((lanes16_scratch_words(quantized.layers[index].synapses.n_out)
                for index in lanes16_layers(quantized, synapses)), default=0)


def layer_fields(quantized: QuantNetwork) -> list[str]:
    """Member-name stems of each layer in `<prefix>_ctx`: l0, l1, ..., readout."""
    return [f"l{index}" for index in range(len(quantized.hidden))] + ["readout"]


def plan_memory(quantized: QuantNetwork, board: Board, prefix: str, synapses: str = "event") -> MemoryPlan:
    flash, addressed, words, halfwords, bytes_ = [], [], [], [], []
    ctx = f"{prefix}_ctx"
    dense = synapses == "dense"
    for name, field, layer in zip(layer_prefixes(quantized, prefix), layer_fields(quantized), quantized.layers):
        syn = layer.synapses
        n_in, n_out, kind = syn.n_in, syn.n_out, layer.kind
        family = runtime_family(kind)
        weight_bytes = syn.weight_bits // 8
        if dense:
            stride, rows = dense_stride(n_in), dense_rows(n_out)
            flash.append(Buffer(f"{name}_weight_data", "flash", rows * stride,
                                f"int8 weights [{rows}][{stride}] (n_out, n_in padded), offset-binary, "
                                "blocks of 4 rows (dense)"))
            flash.append(Buffer(f"{name}_row_sum", "flash", 4 * n_out, "int32 row sums of the dense table"))
        else:
            flash.append(Buffer(f"{name}_weight_data", "flash", n_in * n_out * weight_bytes,
                                f"int{syn.weight_bits} weights [{n_in}][{n_out}], per presynaptic neuron"))
        descriptors = (DENSE_WEIGHTS_DESCRIPTOR_BYTES if dense else WEIGHTS_DESCRIPTOR_BYTES) \
            + LAYER_DESCRIPTOR_BYTES[family]
        recurrent = getattr(layer, "recurrent", None)
        if recurrent is not None:
            flash.append(Buffer(f"{name}_recurrent_data", "flash", n_out * n_out * weight_bytes,
                                f"int{syn.weight_bits} recurrent weights [{n_out}][{n_out}] (own previous spikes)"))
            descriptors += WEIGHTS_DESCRIPTOR_BYTES
        form = delay_form(syn)
        if form == "synaptic":
            flash.append(Buffer(f"{name}_delay_data", "flash", n_in * ((n_out + 1) // 2),
                                f"4-bit synaptic delays [{n_in}][{(n_out + 1) // 2}], max {syn.max_delay}"))
        elif form == "synaptic_u8":
            flash.append(Buffer(f"{name}_delay_data", "flash", n_in * n_out,
                                f"byte synaptic delays [{n_in}][{n_out}], max {syn.max_delay}"))
        elif form == "axonal":
            flash.append(Buffer(f"{name}_delay_data", "flash", n_in, f"axonal delays [{n_in}], max {syn.max_delay}"))
        flash.append(Buffer(f"{name}_neurons", "flash", n_out * NEURON_RECORD_BYTES[family],
                            f"{kind} constants, {NEURON_RECORD_BYTES[family]} B per neuron"))
        if form != "none":
            descriptors += DELAYS_DESCRIPTOR_BYTES
        flash.append(Buffer(f"{name}_descriptors", "flash", descriptors, "weight/delay/layer descriptors"))
        depth = syn.max_delay + 1
        addressed.append(Buffer(f"{ctx}.{field}_ring", "ram", RING_DESCRIPTOR_BYTES, "ring descriptor"))
        words.append(Buffer(f"{ctx}.{field}_ring_slots", "ram", ring_bytes(syn.max_delay, n_out),
                            f"int32 accumulators, {depth} slot(s) x {n_out}" + (" (delay ring)" if depth > 1 else ""),
                            ring_depth=depth))
        if kind == "readout":
            addressed.append(Buffer(f"{ctx}.{field}_u", "ram", n_out * 4, "int32 readout state"))
            addressed.append(Buffer(f"{ctx}.{field}_total", "ram", n_out * 4, "int32 decision accumulators (Q16)"))
            continue
        spiking = LAYER_KINDS[kind].spiking
        addressed.append(Buffer(f"{ctx}.{field}_state", "ram",
                                STATE_DESCRIPTOR_BYTES + (SPIKE_LIST_BYTES if spiking else 0),
                                "state and spike-list descriptors" if spiking else "state descriptor"))
        if layer is quantized.readout:
            addressed.append(Buffer(f"{ctx}.{field}_total", "ram", n_out * 4,
                                    "int32 output totals (spike counts)" if spiking else "int32 output totals (Q16)"))
        words.append(Buffer(f"{ctx}.{field}_cells", "ram", n_out * CELL_BYTES, LAYER_KINDS[kind].state))
        if spiking:
            halfwords.append(Buffer(f"{ctx}.{field}_spike_index", "ram", n_out * 2, "spike list (uint16 indices)"))
        bytes_.append(Buffer(f"{ctx}.{field}_spiked", "ram", n_out, "previous spikes (uint8)"))
    if dense:
        count = dense_scratch_words(quantized)
        words.append(Buffer(f"{ctx}.dense_scratch_words", "ram", 4 * count,
                            f"dense input vector, {count} words, shared by the layers"))
        addressed.append(Buffer(f"{ctx}.dense_scratch", "ram", DENSE_SCRATCH_DESCRIPTOR_BYTES, "scratch descriptor"))
    lane_words = lanes16_scratch_size(quantized, synapses)
    if lane_words:
        words.append(Buffer(f"{ctx}.lanes16_scratch_words", "ram", 4 * lane_words,
                            f"packed int16 lane sums, {lane_words} words, shared by the 16-bit-lane layers"))
        addressed.append(Buffer(f"{ctx}.lanes16_scratch", "ram", LANES16_SCRATCH_DESCRIPTOR_BYTES,
                                  "lane scratch descriptor"))
    n_inputs = quantized.layers[0].synapses.n_in
    bytes_.append(Buffer(f"{ctx}.input_counts", "ram", n_inputs,
                         f"events per input of a step being checked against the summed limit (uint8) [{n_inputs}]"))
    ram = [Buffer(f"{ctx}.check", "ram", CTX_CHECK_BYTES, "set by init: the context is ready"),
           *addressed, *words, *halfwords, *bytes_]
    padding = -sum(b.bytes for b in ram) % CTX_ALIGN
    if padding:
        ram.append(Buffer(f"{ctx} (padding)", "ram", padding, f"the context's size is a multiple of {CTX_ALIGN}"))
    return MemoryPlan(board=board, buffers=tuple(flash + ram), stack_bytes=board.stack_size)


@dataclass(frozen=True)
class _ShapeSynapses:
    """What plan_memory reads of a layer's synapses, known from shapes before quantization."""
    n_in: int
    n_out: int
    weight_bits: int
    delays: object                # [in, out] steps, or None
    max_input_count: int = 0      # unknown: the 16-bit lane kernel (lanes16_exact) is not assumed
    weights: object = None

    @property
    def max_delay(self) -> int:
        return 0 if self.delays is None or not self.delays.size else int(self.delays.max())


@dataclass(frozen=True)
class _ShapeLayer:
    kind: str
    synapses: _ShapeSynapses
    recurrent: object = None      # a LIF layer's own-spike weights (their bytes are planned), or None


@dataclass(frozen=True)
class _ShapeNetwork:
    layers: tuple

    @property
    def hidden(self) -> tuple:
        return self.layers[:-1]

    @property
    def readout(self):
        return self.layers[-1]


def plan_from_shapes(folded, board: Board, prefix: str, synapses: str, weight_bits: int) -> MemoryPlan:
    """The memory plan of a folded network before it is quantized (and before calibration
    allocates anything): every buffer of plan_memory except the 16-bit lane scratch, whose use
    the quantizer decides. It is a lower bound of the final plan, so a model it does not fit
    never fits."""
    layers = tuple(_ShapeLayer(layer.kind, _ShapeSynapses(layer.weight.shape[1], layer.weight.shape[0], weight_bits,
                                                          None if layer.delays is None else layer.delays.T),
                               getattr(layer, "recurrent", None))
                   for layer in folded.layers)
    return plan_memory(_ShapeNetwork(layers), board, prefix, synapses)


def check_fits(plan: MemoryPlan, weights: str) -> None:
    """Refuse a model that cannot fit, naming the region, the bytes over and what to try."""
    board = plan.board
    problems = []
    flash_need = plan.flash_bytes + CODE_ESTIMATE_BYTES
    if flash_need > board.flash.size:
        over = flash_need - board.flash.size
        largest = max((b for b in plan.buffers if b.section == "flash"), key=lambda b: b.bytes)
        hint = ("use --weights int8 (halves the weights)" if weights == "int16"
                else "use a smaller model (fewer or narrower layers)")
        problems.append(f"flash: needs {flash_need} bytes (constants {plan.flash_bytes} + ~{CODE_ESTIMATE_BYTES} "
                        f"code) but {board.name} has {board.flash.size}: over by {over} bytes "
                        f"(largest buffer {largest.name}, {largest.bytes} bytes); {hint}")
    ram_need = plan.ram_bytes + plan.stack_bytes
    if ram_need > board.ram.size:
        over = ram_need - board.ram.size
        largest = max((b for b in plan.buffers if b.section == "ram"), key=lambda b: b.bytes)
        hint = "use a model with fewer neurons or shorter delays, or a board with more RAM"
        if largest.ring_depth > 1:
            slot = largest.bytes // largest.ring_depth
            fits = (largest.bytes - over) // slot - 1          # the longest delay its layer could keep
            hint = (f"it is a delay ring of {largest.ring_depth} slots x {slot} bytes (delays up to "
                    f"{largest.ring_depth - 1} steps); "
                    + (f"with delays up to {fits} steps on that layer it would fit (silifc train --delays {fits}), "
                       if fits >= 1 else "even without its delays the model would not fit; ")
                    + "or use fewer neurons there, or a board with more RAM")
        problems.append(f"RAM: needs {ram_need} bytes (buffers {plan.ram_bytes} + stack {plan.stack_bytes}) but "
                        f"{board.name} has {board.ram.size}: over by {over} bytes (largest buffer {largest.name}, "
                        f"{largest.bytes} bytes); {hint}")
    if problems:
        raise ModelTooLargeError(f"model does not fit board {board.name}:\n  " + "\n  ".join(problems))
