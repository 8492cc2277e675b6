"""The generated C API is total (issue 18, item 4; catalogue cases C05, C06): every public
function of a generated model, found by parsing its header, is driven on the host under
ASan+UBSan with NULL pointers, out-of-range and extreme integers, before init() and on a
context init() never saw; each returns a status (or a pointer) without undefined behaviour,
and a NULL for a pointer the header does not call optional is SLF_ERR_NULL. Then the
documented limits of step() are checked one by one, including the summed per-step event
limit, and that a refused call changes neither the context nor its outputs.

The generic part needs no knowledge of the API beyond its header (and the list of pointers
documented as optional), so it follows the API as it changes; the semantic part names the
functions of the context API (docs/api.md).
"""
from __future__ import annotations

import re
import subprocess

import pytest

from silifc.codegen.boards import load_board
from silifc.codegen.emit import SLF_STATUSES, CompileOptions, write_project
from silifc.codegen.runtime import runtime_sources
from silifc.io.checkpoint import parse_state_dict
from silifc.io.inputs import random_input
from silifc.passes.fold import fold_network
from silifc.passes.quantize import quantize_network

from runtime_harness import build
from synthetic import random_state_dict

pytestmark = [pytest.mark.host,
              pytest.mark.skipif(build.host_cc() is None, reason="no host C compiler (gcc or $CC)")]

PREFIX = "api"
CTX = f"{PREFIX}_ctx"
# Pointers the header documents as optional (NULL: that output is not wanted).
OPTIONAL = {(f"{PREFIX}_step", "out"), (f"{PREFIX}_result", "totals"), (f"{PREFIX}_result", "decision")}
SLF_ERR_NULL, SLF_ERR_STATE = -1, -7
_PROTOTYPE = re.compile(r"^\s*((?:const\s+)?[A-Za-z_]\w*(?:\s*\*)?)\s*\b(\w+)\s*\(([^)]*)\)\s*;", re.M)
_INT_RANGE = {"uint8_t": (0, 0xFF), "uint16_t": (0, 0xFFFF), "uint32_t": (0, 0xFFFFFFFF),
              "int16_t": (-0x8000, 0x7FFF), "int32_t": (-0x80000000, 0x7FFFFFFF), "int": (-0x80000000, 0x7FFFFFFF),
              "slf_status": (-0x80000000, 0x7FFFFFFF), "size_t": (0, 0xFFFFFFFF)}


def public_functions(header: str) -> list[dict]:
    """Every function the header declares: name, return type and parameters (name, type, pointer?)."""
    text = re.sub(r"/\*.*?\*/|//[^\n]*", "", header, flags=re.S)
    functions = []
    for returns, name, params in _PROTOTYPE.findall(text):
        parsed = []
        for param in (p.strip() for p in params.split(",")):
            if param in ("", "void"):
                continue
            pointer = "*" in param or "[" in param
            words = re.sub(r"\bconst\b|\*|\[.*?\]", " ", param).split()
            parsed.append({"type": words[0], "name": words[-1], "pointer": pointer})
        functions.append({"name": name, "returns": " ".join(returns.split()), "params": parsed})
    return functions


def _literal(ctype: str, value: int) -> str:
    return f"({ctype})({value}{'u' if value > 0x7FFFFFFF else ''})" if value >= 0 else \
        f"({ctype})(-{-value - 1} - 1)"


def _valid(param) -> str:
    if param["type"] == CTX:
        return "&ctx"
    return "(void *)arena" if param["pointer"] else "1"


def value_sets(function) -> list[tuple[list[str], list[str]]]:
    """(arguments, names of the NULL pointers): all valid (a context init() set up, a zeroed
    arena for other pointers), each pointer NULL, every pointer NULL, every integer at its
    minimum, 0, 1 and maximum."""
    params = function["params"]
    valid = [_valid(p) for p in params]
    sets = [(valid, [])]
    for index, param in enumerate(params):
        if param["pointer"]:
            sets.append(([*valid[:index], "0", *valid[index + 1:]], [param["name"]]))
        else:
            low, high = _INT_RANGE.get(param["type"], (-0x80000000, 0x7FFFFFFF))
            for value in sorted({low, 0, 1, high}):
                sets.append(([*valid[:index], _literal(param["type"], value), *valid[index + 1:]], []))
    pointers = [p["name"] for p in params if p["pointer"]]
    if len(pointers) > 1:
        sets.append((["0" if p["pointer"] else valid[i] for i, p in enumerate(params)], pointers))
    return sets


def _call(function, args: list[str], label: str, nulls: list[str], setup: str) -> str:
    call = f"{function['name']}({', '.join(args)})"
    shown = f"{label} [{','.join(nulls)}] {call}".replace('"', "'")
    if "*" in function["returns"]:
        result = f'{call} == 0 ? "NULL" : "pointer"'
        return f'    {setup} memset(arena, 0, sizeof arena); printf("%s -> %s\\n", "{shown}", {result});\n'
    return f'    {setup} memset(arena, 0, sizeof arena); printf("%s -> %ld\\n", "{shown}", (long){call});\n'


SEMANTIC_CHECKS = r"""
static PFX_ctx a, b, saved_ctx;
static PFX_output out, saved_out;
static slf_event many[65535];

static void check(const char *what, int ok) { printf("check %s %s\n", what, ok ? "ok" : "FAILED"); }

static void keep(void) { saved_ctx = a; saved_out = out; }

static int unchanged(void)
{
    return memcmp(&saved_ctx, &a, sizeof a) == 0 && memcmp(&saved_out, &out, sizeof out) == 0;
}

static int same_totals(void)
{
    int32_t totals_a[PFX_N_CLASSES], totals_b[PFX_N_CLASSES];
    return PFX_result(&a, totals_a, 0) == SLF_OK && PFX_result(&b, totals_b, 0) == SLF_OK
        && memcmp(totals_a, totals_b, sizeof totals_a) == 0;
}

static void semantic(void)
{
    slf_event one = {0, 1};
    const slf_spike_list *spikes = 0, *sentinel = (const slf_spike_list *)&one;
    memset(&a, 0xA5, sizeof a);
    check("step on a context init() never saw is SLF_ERR_STATE", PFX_step(&a, &one, 1, &out) == SLF_ERR_STATE);
    check("reset, result and spikes too", PFX_reset(&a) == SLF_ERR_STATE && PFX_result(&a, 0, 0) == SLF_ERR_STATE
          && PFX_spikes(&a, 0, &spikes) == SLF_ERR_STATE);
    check("init", PFX_init(&a) == SLF_OK && PFX_step(&a, &one, 1, &out) == SLF_OK);
    keep();
    check("step(ctx, NULL, 5) is SLF_ERR_NULL (C05)", PFX_step(&a, 0, 5, &out) == SLF_ERR_NULL);
    check("... and changed nothing", unchanged());
    check("step(ctx, NULL, 0) is a step without events", PFX_step(&a, 0, 0, &out) == SLF_OK);
    keep();
    for (uint32_t k = 0; k < 65535u; k++) {
        many[k].index = 0;
        many[k].count = 16;
    }
    check("65,535 repeats of one input, count 16, is SLF_ERR_COUNT (C06)", PFX_step(&a, many, 65535, &out) == SLF_ERR_COUNT);
    check("... and changed nothing", unchanged());
    slf_event pair[2] = {{1, (uint8_t)(PFX_MAX_EVENT_COUNT / 2 + 1)}, {1, (uint8_t)(PFX_MAX_EVENT_COUNT / 2 + 1)}};
    check("two events of one input summing above the limit is SLF_ERR_COUNT", PFX_step(&a, pair, 2, &out) == SLF_ERR_COUNT);
    check("... and changed nothing", unchanged());
    slf_event over = {0, (uint8_t)(PFX_MAX_EVENT_COUNT < 255 ? PFX_MAX_EVENT_COUNT + 1 : 255)};
    check("a count above the limit is SLF_ERR_COUNT", PFX_MAX_EVENT_COUNT >= 255 || PFX_step(&a, &over, 1, &out) == SLF_ERR_COUNT);
    slf_event outside[2] = {{0, 1}, {PFX_N_INPUTS, 1}};
    check("an index >= N_INPUTS is SLF_ERR_INDEX", PFX_step(&a, outside, 2, &out) == SLF_ERR_INDEX);
    check("... and changed nothing", unchanged());
    slf_event outside_dense[2] = {{1, (uint8_t)PFX_MAX_EVENT_COUNT}, {65535, 1}};
    check("... also in a step whose counts are summed per input", PFX_step(&a, outside_dense, 2, &out) == SLF_ERR_INDEX);
    check("... and changed nothing", unchanged());
    /* A refused step leaves no sums behind: repeats within the limit after the refusals give the
     * same totals as single events with the summed counts on a fresh context. */
    slf_event split[3] = {{2, 1}, {3, 1}, {2, (uint8_t)(PFX_MAX_EVENT_COUNT - 1)}};
    slf_event whole[2] = {{2, (uint8_t)PFX_MAX_EVENT_COUNT}, {3, 1}};
    check("init b", PFX_init(&b) == SLF_OK && PFX_step(&b, &one, 1, 0) == SLF_OK && PFX_step(&b, 0, 0, 0) == SLF_OK);
    check("repeats within the limit add up", PFX_step(&a, split, 3, &out) == SLF_OK && PFX_step(&a, split, 3, 0) == SLF_OK);
    check("single events with the summed counts", PFX_step(&b, whole, 2, 0) == SLF_OK && PFX_step(&b, whole, 2, 0) == SLF_OK);
    check("... give the same totals", same_totals());
    spikes = sentinel;
    check("spikes(N_SPIKING_LAYERS) is SLF_ERR_INDEX", PFX_spikes(&a, PFX_N_SPIKING_LAYERS, &spikes) == SLF_ERR_INDEX);
    check("spikes(65535) is SLF_ERR_INDEX", PFX_spikes(&a, 65535, &spikes) == SLF_ERR_INDEX);
    check("... and left *spikes alone", spikes == sentinel);
    check("spikes(layer, NULL) is SLF_ERR_NULL", PFX_spikes(&a, 0, 0) == SLF_ERR_NULL);
    check("result(ctx, NULL, NULL) is SLF_OK", PFX_result(&a, 0, 0) == SLF_OK);
    check("reset then a step", PFX_reset(&a) == SLF_OK && PFX_step(&a, &one, 1, &out) == SLF_OK);
    check("init twice", PFX_init(&a) == SLF_OK && PFX_init(&a) == SLF_OK);
}
"""


@pytest.fixture(scope="module", params=["silif-csilif", "nir-snntorch-recurrent"])
def project(request, tmp_path_factory):
    """A SiLIF + C-SiLIF model with delays, and a NIR model (snnTorch, recurrent LIF layers)."""
    out = tmp_path_factory.mktemp("api")
    board = load_board("nrf52840")
    if request.param == "silif-csilif":
        folded = fold_network(parse_state_dict(random_state_dict((6, 5, 4, 3), ("silif", "csilif"), seed=0,
                                                                 max_delay=2)))
        quantized = quantize_network(folded, calibration=random_input(6, 2, 30, 0.1, 1, seed=1))
        return write_project(quantized, CompileOptions(board=board, prefix=PREFIX), out / "p")
    pytest.importorskip("snntorch")
    import nir_producers
    from silifc.pipeline import Options, run_pipeline

    path, _, _ = nir_producers.snntorch_network("recurrent", out, nir_producers.fixed_input(samples=2, steps=30))
    options = Options(config_overrides={"nir_dialect": "snntorch"}, board=board, prefix=PREFIX, output=out / "p")
    return run_pipeline(path, options, until="emit").project


def _driver(functions) -> str:
    init = f"{PREFIX}_init(&ctx);"
    calls = "".join(_call(f, args, "before-init", nulls, "memset(&ctx, 0, sizeof ctx);")
                    for f in functions if not f["name"].endswith("_init") for args, nulls in value_sets(f)[:1])
    calls += "".join(_call(f, args, "garbage-ctx", nulls, "memset(&ctx, 0x5A, sizeof ctx);")
                     for f in functions if not f["name"].endswith("_init") for args, nulls in value_sets(f)[:1])
    calls += "".join(_call(f, args, "after-init", nulls, init) for f in functions for args, nulls in value_sets(f))
    statuses = "".join(f'    printf("status %d %s\\n", {value}, {PREFIX}_status_str((slf_status)({value})));\n'
                       for value in [v for _, v, _ in SLF_STATUSES] + [1, -8, 0x7FFFFFFF])
    pfx = PREFIX.upper()
    return (f'#include <stdio.h>\n#include <string.h>\n#include "{PREFIX}_model.h"\n'
            f"#define PFX_ctx {CTX}\n#define PFX_output {PREFIX}_output\n"
            + "".join(f"#define PFX_{name} {PREFIX}_{name}\n" for name in ("init", "reset", "step", "result", "spikes"))
            + "".join(f"#define PFX_{name} {pfx}_{name}\n"
                      for name in ("N_CLASSES", "N_INPUTS", "MAX_EVENT_COUNT", "N_SPIKING_LAYERS"))
            + f"static {CTX} ctx;\nstatic _Alignas(8) unsigned char arena[65536 * 8];\n" + SEMANTIC_CHECKS
            + "int main(void)\n{\n" + calls + statuses
            + f'    printf("max_event_count %d\\n", {pfx}_MAX_EVENT_COUNT);\n    semantic();\n    return 0;\n}}\n')


def test_c05_c06_every_public_function_is_total_under_asan_and_ubsan(project, tmp_path):
    directory = project.directory
    header = (directory / "model" / f"{PREFIX}_model.h").read_text()
    functions = public_functions(header)
    names = {f["name"] for f in functions}
    assert {f"{PREFIX}_{name}" for name in ("init", "reset", "step", "result", "spikes", "status_str",
                                            "get_info")} <= names, names
    (tmp_path / "driver.c").write_text(_driver(functions))
    sources = [directory / "model" / f"{PREFIX}_model.c", *runtime_sources(dsp=False, root=directory / "runtime")]
    binary = tmp_path / "driver"
    compile_ = subprocess.run([build.host_cc(), "-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", "-g", *build.SANITIZE,
                               f"-I{directory / 'model'}", f"-I{directory / 'runtime' / 'include'}",
                               str(tmp_path / "driver.c"), *map(str, sources), "-o", str(binary)],
                              capture_output=True, text=True)
    assert compile_.returncode == 0, compile_.stderr
    run = subprocess.run([str(binary)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "runtime error" not in run.stderr and "Sanitizer" not in run.stderr, \
        run.stderr[-3000:]
    lines = run.stdout.splitlines()
    call = re.compile(r"(before-init|garbage-ctx|after-init) \[([\w,]*)\] (\w+)\(.*\) -> (\S+)\Z")
    calls = [call.match(line).groups() for line in lines if call.match(line)]
    assert {name for _, _, name, _ in calls} == names              # every public function was driven
    takes_ctx = {f["name"] for f in functions if any(p["type"] == CTX for p in f["params"])}
    assert takes_ctx == names - {f"{PREFIX}_status_str", f"{PREFIX}_get_info"}
    for label, _, name, result in calls:                           # before init: SLF_ERR_STATE
        if label != "after-init" and name in takes_ctx:
            assert result == str(SLF_ERR_STATE), (label, name, result)
    params = {f["name"]: {p["name"] for p in f["params"] if p["pointer"]} for f in functions}
    checked = 0
    for label, nulls, name, result in calls:                       # a required pointer NULL: SLF_ERR_NULL
        required = [n for n in nulls.split(",") if n and (name, n) not in OPTIONAL]
        if label == "after-init" and required:
            assert result == str(SLF_ERR_NULL), (name, nulls, result)
            checked += 1
        if label == "after-init" and not nulls and name in takes_ctx:
            assert result in ("0", "-3"), (name, result)           # valid pointers: OK, or an index out of range
    assert checked >= sum(len(p - {o for f, o in OPTIONAL if f == n}) for n, p in params.items() if n in takes_ctx)
    described = dict(re.match(r"status (-?\d+) (.*)", line).groups() for line in lines if line.startswith("status "))
    for name, value, meaning in SLF_STATUSES:                       # status_str for every code
        assert described[str(value)] == f"{name}: {meaning}"
    for value in ("1", "-8", str(0x7FFFFFFF)):
        assert described[value] == "not an slf_status value"
    assert int(next(line.split()[1] for line in lines if line.startswith("max_event_count "))) >= 2
    checks = [line for line in lines if line.startswith("check ")]
    failed = [line for line in checks if not line.endswith(" ok")]
    assert len(checks) == 26 and not failed, "\n".join(failed)


@pytest.mark.unit
def test_the_header_parser_finds_every_prototype():
    header = """/* x */\nslf_status p_init(p_ctx *ctx);\nslf_status p_step(p_ctx *ctx, const slf_event *events, uint16_t n);
slf_status p_result(const p_ctx *ctx, int32_t totals[P_N], uint16_t *decision);
slf_status p_spikes(const p_ctx *ctx, uint16_t layer, const slf_spike_list **spikes);
const char *p_status_str(slf_status status);\nconst p_info *p_get_info(void);\n"""
    found = {f["name"]: f for f in public_functions(header)}
    assert list(found) == ["p_init", "p_step", "p_result", "p_spikes", "p_status_str", "p_get_info"]
    assert found["p_step"]["params"] == [{"type": "p_ctx", "name": "ctx", "pointer": True},
                                         {"type": "slf_event", "name": "events", "pointer": True},
                                         {"type": "uint16_t", "name": "n", "pointer": False}]
    assert found["p_result"]["params"][1] == {"type": "int32_t", "name": "totals", "pointer": True}
    assert found["p_spikes"]["params"][2] == {"type": "slf_spike_list", "name": "spikes", "pointer": True}
    assert found["p_status_str"]["returns"] == "const char *"
    assert found["p_get_info"]["params"] == []
