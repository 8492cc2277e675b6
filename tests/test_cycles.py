"""The Cortex-M4 cycle estimate of the counting plugin (docs/cycles.md): hand-timed
sequences, its decoder against objdump, exact splits over regions, buckets and the trace."""
from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from silifc.codegen.boards import load_board
from silifc.target.qemu import (BEFORE_FIRST_MARKER, CYCLE_MODELS, EmulatorError, cycle_model_for,
                                ensure_insncount_plugin, run_firmware)
from silifc.target.toolchain import build_firmware

from conftest import DATA, ROOT

FIRMWARE_DATA = DATA / "firmware"
TIMING_HEADER_DIR = ROOT / "tools" / "insncount"

_missing = [tool for tool in ("arm-none-eabi-gcc", "arm-none-eabi-nm", "arm-none-eabi-objdump", "qemu-system-arm",
                              "gcc") if shutil.which(tool) is None]
pytestmark = [pytest.mark.firmware,
              pytest.mark.skipif(bool(_missing), reason=f"not installed: {', '.join(_missing)} (run scripts/setup.sh)")]

# Expected cycles of each sequence in tests/data/firmware/cycles.c, worked out by hand from
# the rules of docs/cycles.md ("TRM" = Cortex-M4 TRM r0p1: Table 3-1, 3.3.2 Load/store
# timings). Every sequence is entered by BL to a word-aligned label: refill P = 1, charged
# to its first instruction. (sequence, instructions, cycles term by term)
HAND_TIMED = {
    "alu": (11, [1,          # BL refill: immediate target, narrow instruction: P = 1
                 1,          # adds.n               Table 3-1 Add: 1
                 1,          # eor.w                Exclusive OR: 1
                 1,          # muls.n               Multiply: 1
                 1,          # smlabb               DSP multiply-accumulate: 1
                 1,          # umull                Long unsigned multiply: 1
                 1,          # sxtb16               Extend: 1
                 1,          # cmp.n                Compare: 1
                 1,          # ite eq               1 (IT folding not modelled)
                 1, 1,       # moveq.n, movne.n     each issues: 1 (condition outcome not modelled)
                 1]),        # mov.w                Move: 1
    "loads": (16, [1,        # BL refill
                   1,        # movs.n r1, #12       1 (r1 is not an address of the next load)
                   2,        # ldr r3, [r0]         Load: 2
                   1,        # ldr r2, [r0, #4]     pipelined after a load: 2 - 1 (3.3.2)
                   1,        # ldr.w ip, [r0, #8]   pipelined: 1 (TRM: three LDRs "normally four cycles")
                   1,        # ldr r1, [r0]         pipelined: address r0 is no load result
                   2,        # ldr r2, [r1]         address r1 = the previous load's result: no pipelining
                   1,        # str r2, [r0, #8]     store, immediate offset: always 1 (3.3.2)
                   2,        # ldr r3, [r0, #4]     nothing is pipelined after a store: 2
                   1, 1,     # movs.n r1, #12; nop.n (keeps r1's write away from the next address)
                   2,        # ldr r2, [r0, r1]     Load: 2
                   1,        # str r2, [r0, r1]     register-offset store after a load: 2 - 1
                   2,        # str r2, [r0, r1]     register-offset store after a store: 2
                   2,        # ldrb r2, [r0]        after a store: 2
                   1,        # ldrh r3, [r0, #2]    pipelined: 1
                   1]),      # ldrsb.w r2, [r0, #1] pipelined: 1
    "address_stall": (10, [1,    # BL refill
                           1,    # adds r1, r0, #4
                           3,    # ldr r2, [r1]       2 + 1: base written by the preceding data processing (3.3.2)
                           1,    # adds r3, r0, #4
                           2,    # ldr r2, [r0]       base not written by it: 2
                           1,    # mov r1, r0
                           2,    # str r2, [r1, #4]   1 + 1 stall
                           1,    # movs r1, #4
                           3,    # ldr r2, [r0, r1]   2 + 1: the offset register counts too
                           1,    # adds r2, #1
                           1]),  # str r2, [r0, #8]   r2 is the data, not the address: 1
    "multiple": (8, [1,          # BL refill
                     3,          # ldrd r2, r3, [r0]       3, never pipelined (3.3.2)
                     2,          # ldr r1, [r0]            not pipelined after LDRD: 2
                     4,          # ldmia.w r0, {r1-r3}     1 + N = 4 (Table 3-1 Load multiple)
                     2,          # ldr r1, [r0]            not pipelined after LDM: 2
                     4,          # push {r4, r5, r6}       1 + N = 4
                     4,          # pop {r4, r5, r6}        1 + N = 4
                     3,          # strd r2, r3, [r0, #8]   3
                     3]),        # stmia.w r0, {r1, r2}    1 + N = 3
    "not_taken": (4, [1,         # BL refill
                      1,         # cmp
                      1,         # bne.n, not taken: 1 (Table 3-1 Conditional branch "1 or 1 + P")
                      1, 1]),    # nop, nop
    "taken_narrow": (3, [1,      # BL refill
                         1,      # cmp
                         1 + 1,  # beq.n taken to a 16-bit nop: 1 + P, P = 1
                         1]),    # nop (the two skipped nops do not run)
    "taken_wide_unaligned": (3, [1,      # BL refill
                                 1,      # cmp
                                 1 + 2,  # beq.n taken to a 32-bit add.w at an address = 2 mod 4: P = 1 + 1
                                 1]),    # add.w
    "loop": (7, [1,              # BL refill
                 1,              # movs r1, #3
                 3 * 1,          # subs, three times
                 3 * 1 + 2 * 1]),  # bne.n three times, taken twice (P = 1 each)
    "compare_branch": (5, [1,    # BL refill
                           1,    # movs r1, #0
                           1 + 1,  # cbz taken to a 16-bit instruction: 1 + P
                           1,    # cbnz not taken: 1
                           1, 1]),  # nop, nop
    "call": (10, [1,             # BL refill
                  3,             # push {r4, lr}           1 + N = 3
                  1, 1,          # bl helper_leaf          1 + P (word-aligned 16-bit target: P = 1)
                  1,             # bx lr                   1
                  2, 1,          # nop after the return    P = 2 (register target) + 1
                  1, 1,          # bl helper_pop           1 + P = 2
                  3,             # push {r4, lr}           3
                  1,             # movs r4, #1             1
                  3,             # pop {r4, pc}            1 + N = 3 ...
                  3, 1,          # nop after the return    ... + P = 3 (loaded PC, 3.3.2), then 1
                  3]),           # pop.w {r4, lr}          1 + N = 3
    "ldr_pc": (2, [1,            # BL refill
                   2 + 3,        # ldr.w pc, [r0, #20]     2 + P, P = 3: "at least five cycles" (3.3.2)
                   1]),          # nop at the target
    "table_branch": (4, [1,      # BL refill
                         1, 1,   # movs r1, #1; nop (keeps r1's write away from TBB's index)
                         3 + 3,  # tbb [pc, r1]            2 (load) + 1 (add) + 3 (reload) = 6 (3.3.2)
                         1]),    # nop at the second table entry
    "unaligned": (8, [1,         # BL refill
                      2 + 2,     # ldr.w r2, [r0, #1]      byte-aligned word: + 2 (3.3.2)
                      1,         # nop
                      2 + 1,     # ldr.w r2, [r0, #2]      halfword-aligned word: + 1
                      1,         # nop
                      2 + 1,     # ldrh.w r2, [r0, #1]     byte-aligned halfword: + 1
                      1 + 1,     # str.w r2, [r0, #6]      1 + 1 (stores pay it too)
                      1 + 1,     # strh.w r2, [r0, #3]     1 + 1
                      2]),       # ldr.w r3, [r0, #4]      aligned, after a store: 2
    "divide": (4, [1,            # BL refill
                   1, 1,         # movs, movs
                   12, 12]),     # udiv, sdiv: 2 to 12 (Table 3-1), charged their upper bound 12
}


@pytest.fixture(scope="module")
def sequences(tmp_path_factory):
    return build_firmware([FIRMWARE_DATA / "cycles.c"], [], load_board("nrf52840"),
                          tmp_path_factory.mktemp("cycles"), extra_cflags=["-Werror"])


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    return build_firmware([FIRMWARE_DATA / "probe.c"], [], load_board("nrf52840"),
                          tmp_path_factory.mktemp("probe"), defines={"HAS_INPUT_BLOB": None}, extra_cflags=["-Werror"])


def _sequence_regions():
    return {name: (f"seq_{name}", f"seq_{name}_end") for name in HAND_TIMED}


def test_hand_timed_sequences(sequences):
    run = run_firmware(sequences, load_board("nrf52840"), regions=_sequence_regions(), cycle_model="cortex-m4")
    assert run.exit_status == 0 and run.cycle_model == "cortex-m4"
    measured = {name: (r.instructions, r.cycles) for name, r in run.regions.items()}
    expected = {name: (instructions, sum(terms)) for name, (instructions, terms) in HAND_TIMED.items()}
    assert measured == expected
    assert all(r.passes == 1 for r in run.regions.values())
    events = run.cycle_events
    assert events["divides"] == 2
    assert events["unaligned"] == 5 and events["unaligned_extra"] == 2 + 1 + 1 + 1 + 1


def test_estimate_does_not_depend_on_translation_blocks(sequences, probe, tmp_path):
    """QEMU's -singlestep makes every instruction its own block, so every neighbour and branch
    term is then computed at run time instead of at translation time: same estimate."""
    board = load_board("nrf52840")
    for image, kwargs in ((sequences, {"regions": _sequence_regions()}), (probe, {"args": ["compute"]})):
        run = run_firmware(image, board, cycle_model="cortex-m4", **kwargs)
        report = tmp_path / "single.txt"
        command = list(run.command)
        plugin = command.index("-plugin") + 1
        command[plugin] = re.sub(r",out=(?:[^,]|,,)*", f",out={report}", command[plugin])
        subprocess.run([command[0], "-singlestep", *command[1:]], stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=120, check=False)
        single = dict(line.split("=", 1) for line in report.read_text().splitlines())
        assert int(single["total"]) == run.instructions
        assert int(single["cycles"]) == run.cycles
        for i, region in enumerate(run.regions.values()):
            assert int(single[f"region.{i}.cycles"]) == region.cycles


def test_cycles_split_exactly_over_regions_buckets_and_trace(probe):
    board = load_board("nrf52840")

    def counts(n: int):
        return run_firmware(probe, board, args=["spin", str(n)], regions={"bench": ("bench_begin", "bench_end")},
                            markers=["phase_a", "phase_b"], trace=True, cycle_model="cortex-m4")

    small, large = counts(1000), counts(3000)
    # spin(): subs (1) + bne taken back to the 16-bit subs (1 + P, P = 1): 3 cycles an iteration
    assert large.regions["bench"].cycles - small.regions["bench"].cycles == 3 * 3 * 2000
    assert large.buckets["phase_a"].cycles - small.buckets["phase_a"].cycles == 3 * 2000
    assert large.buckets["phase_b"].cycles - small.buckets["phase_b"].cycles == 3 * 2 * 2000
    assert large.cycles - small.cycles == 3 * (3 + 1 + 2) * 2000
    for run in (small, large):
        assert sum(b.cycles for b in run.buckets.values()) == run.cycles
        assert run.cycles >= run.instructions           # every instruction costs at least one cycle
        buckets, _ = run.marker_entries()
        per_entry = run.marker_entry_cycles()
        names = list(run.buckets)
        for index, name in enumerate(names):
            if name != BEFORE_FIRST_MARKER:
                assert per_entry[buckets == index].sum() == run.buckets[name].cycles


def test_runs_without_a_model_are_unchanged(probe):
    board = load_board("nrf52840")
    plain = run_firmware(probe, board, args=["compute"], trace=False)
    timed = run_firmware(probe, board, args=["compute"], cycle_model="cortex-m4")
    assert plain.cycles is None and plain.cycle_model is None and plain.cycle_events == {}
    assert plain.instructions == timed.instructions and plain.stdout == timed.stdout
    assert timed.cycles > timed.instructions


def test_cycle_model_is_cortex_m4_only(probe, tmp_path):
    assert CYCLE_MODELS == ("cortex-m4",)
    assert cycle_model_for(load_board("nrf52840")) == "cortex-m4"
    assert cycle_model_for(load_board("mps2_an500")) is None           # Cortex-M7: instructions only
    assert cycle_model_for(load_board("mps2_an505")) is None           # Cortex-M33
    with pytest.raises(EmulatorError, match="no cycle model for cortex-m7"):
        run_firmware(probe, load_board("nrf52840"), cycle_model="cortex-m7")
    # the plugin itself refuses other cores
    result = subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-display", "none", "-monitor", "none",
                             "-kernel", str(probe.elf), "-plugin",
                             f"{ensure_insncount_plugin()},out={tmp_path / 'r.txt'},cpu=cortex-m33"],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "no cycle model for this core" in result.stderr


# ---------------------------------------------------------------- the decoder against objdump

_REGISTER_NUMBERS = {**{f"r{i}": i for i in range(13)}, "sl": 10, "fp": 11, "ip": 12, "sp": 13, "lr": 14, "pc": 15}
_CONDITIONS = ("eq", "ne", "cs", "cc", "hs", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al")
_BRANCHES = {"b", "bl", "bx", "blx", "cbz", "cbnz"} | {f"{b}{c}" for b in ("b", "bl", "bx", "blx") for c in _CONDITIONS}
_NO_DESTINATION = ("cmp", "cmn", "tst", "teq", "it", "nop", "msr", "mrs", "bkpt", "svc", "cps", "dmb", "dsb", "isb",
                   "sev", "wfi", "wfe", "yield", "pld", "pli", "udf", "clrex")


def _mask(names) -> int:
    return sum(1 << _REGISTER_NUMBERS[n] for n in names)


def _register_list(operands: str) -> list[str]:
    inside = operands[operands.index("{") + 1:operands.index("}")]
    return [r.strip() for r in inside.split(",")]


def _expected(mnemonic: str, operands: str, size: int) -> dict:
    """What the decoder must say about an instruction, from objdump's text."""
    base = mnemonic.split(".")[0]
    regs = re.findall(r"\b(r1[0-2]|r[0-9]|sl|fp|ip|sp|lr|pc)\b", operands.split(";")[0].split("@")[0])
    if base.startswith("v"):
        if base.startswith(("vldr", "vldm", "vpop")):
            return {"class": "fp_load"}
        if base.startswith(("vstr", "vstm", "vpush")):
            return {"class": "fp_store"}
        return {"class": "fp"}
    if base in ("tbb", "tbh"):
        return {"class": "table_branch", "cycles": 3, "branch": 4}
    if base in ("udiv", "sdiv"):
        return {"class": "divide", "cycles": 12, "alu_writes": _mask(regs[:1])}
    if base in _BRANCHES:
        return {"class": "branch", "cycles": 1}
    if base in ("push", "pop") and size == 4 and len(_register_list(operands)) == 1:
        base = "ldr" if base == "pop" else "str"           # objdump's name for single-register LDR/STR with SP
        operands = f"{_register_list(operands)[0]}, [sp]"
        regs = [operands.split(",")[0], "sp"]
    if base == "ldrd" or base == "strd":
        return {"class": "load_dual" if base == "ldrd" else "store_dual", "cycles": 3,
                "address_regs": _mask(regs[2:3])}
    if base.startswith(("ldm", "pop", "stm", "push")):
        listed = _register_list(operands)
        rn = ["sp"] if base in ("push", "pop") else regs[:1]
        return {"class": "load_multiple" if base.startswith(("ldm", "pop")) else "store_multiple",
                "cycles": 1 + len(listed), "address_regs": _mask(rn), "branch": 3 if "pc" in listed else 0}
    if base in ("pld", "pli"):
        return {"class": "alu", "cycles": 1}
    if base.startswith(("ldr", "str")):
        exclusive = "ex" in base
        address = re.search(r"\[([^\]]*)\]", operands).group(1)
        address_regs = [r for r in re.findall(r"\b(r1[0-2]|r[0-9]|sl|fp|ip|sp|lr|pc)\b", address)]
        if exclusive:
            written = regs[0]
            return {"class": "load" if base.startswith("ldr") else "store", "cycles": 2,
                    "address_regs": _mask(address_regs), "load_dests": _mask([written])}
        if base.startswith("ldr"):
            pc = regs[0] == "pc"
            return {"class": "load", "cycles": 2, "address_regs": _mask(address_regs),
                    "load_dests": 0 if pc else _mask(regs[:1]), "branch": 3 if pc else 0}
        register_offset = len(address_regs) == 2
        return {"class": "store", "cycles": 2 if register_offset else 1, "address_regs": _mask(address_regs)}
    if base == "udf":
        return {"class": "undefined"}
    expected = {"class": "alu"}
    if base.startswith(_NO_DESTINATION) or not regs:
        expected["alu_writes"] = 0
    elif base.startswith(("umull", "smull", "umlal", "smlal", "umaal")):     # two destinations (incl. SMLALD)
        expected["alu_writes"] = _mask(regs[:2])
    elif regs[0] == "pc":
        expected["branch"] = 2
        expected["alu_writes"] = 0
    else:
        expected["alu_writes"] = _mask(regs[:1])
    return expected


_OBJDUMP_LINE = re.compile(r"^\s*([0-9a-f]+):\s+([0-9a-f]{4})(?: ([0-9a-f]{4}))?\s+\t(\S+)(?:\t(.*))?$")


def _objdump_instructions(elf) -> list[tuple[int, str, str, str, str]]:
    text = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in text.splitlines():
        match = _OBJDUMP_LINE.match(line)
        if match and not match[4].startswith("."):        # .word / .short: data in the code
            rows.append((int(match[1], 16), match[2], match[3] or "", match[4], match[5] or ""))
    return rows


@pytest.fixture(scope="module")
def decode_dump(tmp_path_factory):
    tool = tmp_path_factory.mktemp("decode") / "m4_decode_dump"
    subprocess.run(["gcc", "-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", f"-I{TIMING_HEADER_DIR}",
                    str(FIRMWARE_DATA / "m4_decode_dump.c"), "-o", str(tool)], check=True)
    return tool


@pytest.fixture(scope="module")
def model_firmware(tmp_path_factory):
    """A small generated model: the runtime's kernels (event, lanes16, neurons), libgcc, startup."""
    from silifc.io.checkpoint import parse_state_dict
    from silifc.io.inputs import random_input
    from silifc.passes.fold import fold_network
    from silifc.passes.quantize import quantize_network
    from silifc.pipeline import build_model_firmware
    from synthetic import random_state_dict

    folded = fold_network(parse_state_dict(random_state_dict((24, 40, 32, 5), ("silif", "csilif"), seed=5)))
    quantized = quantize_network(folded, calibration=random_input(24, 2, 40, 0.05, 1, seed=5))
    _, image = build_model_firmware(quantized, load_board("nrf52840"), work_dir=tmp_path_factory.mktemp("model"))
    return image


def test_decoder_agrees_with_objdump(decode_dump, sequences, probe, model_firmware):
    checked = 0
    classes = set()
    for image in (sequences, probe, model_firmware):
        rows = _objdump_instructions(image.elf)
        stdin = "".join(f"{address:x} {hw1} {hw2}\n" for address, hw1, hw2, _, _ in rows)
        decoded = subprocess.run([str(decode_dump)], input=stdin, capture_output=True, text=True, check=True)
        for (address, hw1, hw2, mnemonic, operands), line in zip(rows, decoded.stdout.splitlines(), strict=True):
            fields = line.split()
            got = {"class": fields[1], "cycles": int(fields[2]), "branch": int(fields[3]),
                   "address_regs": int(fields[8], 16), "load_dests": int(fields[9], 16),
                   "alu_writes": int(fields[10], 16)}
            expected = _expected(mnemonic, operands, 4 if hw2 else 2)
            assert {k: got[k] for k in expected} == expected, f"{address:#x}: {mnemonic} {operands} ({hw1} {hw2})"
            classes.add(got["class"])
            checked += 1
    assert checked > 2000
    # the firmware exercises every integer class the model distinguishes
    assert {"alu", "load", "store", "load_dual", "store_dual", "load_multiple", "store_multiple", "branch",
            "divide", "table_branch"} <= classes


def test_every_instruction_costs_at_least_one_cycle(decode_dump):
    """A sweep over all 16-bit encodings and a sample of 32-bit ones: no zero cost, no
    class out of range, 32-bit encodings recognised by their first halfword."""
    lines = [f"0 {hw:04x}\n" for hw in range(0xE800)]
    rng = np.random.default_rng(16)
    lines += [f"0 {hw1:04x} {hw2:04x}\n" for hw1, hw2 in zip(rng.integers(0xE800, 0x10000, 20000),
                                                            rng.integers(0, 0x10000, 20000))]
    decoded = subprocess.run([str(decode_dump)], input="".join(lines), capture_output=True, text=True, check=True)
    rows = [line.split() for line in decoded.stdout.splitlines()]
    assert len(rows) == len(lines)
    assert all(1 <= int(row[2]) <= 1 + 32 for row in rows)   # at most VLDM of 32 words
