"""The generated C API is total (issue 18, item 4; catalogue cases C05, C06): every public
function of a generated model, found by parsing its header, is driven on the host under
ASan+UBSan with NULL pointers, out-of-range and extreme integers, and before init(); each
must return (a status where it returns one) without undefined behaviour. Then the documented
limits of step() are checked one by one, including the summed per-step event limit, and that
a refused step changes nothing.

The generic part needs no knowledge of the API beyond its header, so it follows the API as
it changes; the semantic part names today's functions (init, step, result, spikes).
"""
from __future__ import annotations

import re
import subprocess

import pytest

from silifc.codegen.boards import load_board
from silifc.codegen.emit import CompileOptions, write_project
from silifc.io.checkpoint import parse_state_dict
from silifc.io.inputs import random_input
from silifc.passes.fold import fold_network
from silifc.passes.quantize import quantize_network

from runtime_harness import build
from synthetic import random_state_dict

pytestmark = [pytest.mark.host,
              pytest.mark.skipif(build.host_cc() is None, reason="no host C compiler (gcc or $CC)")]

PREFIX = "api"
_PROTOTYPE = re.compile(r"^\s*((?:const\s+)?[A-Za-z_]\w*(?:\s*\*)?)\s*\b(\w+)\s*\(([^)]*)\)\s*;", re.M)
_INT_MAX = {"uint8_t": 0xFF, "uint16_t": 0xFFFF, "uint32_t": 0xFFFFFFFF, "int": 0x7FFFFFFF,
            "int16_t": 0x7FFF, "int32_t": 0x7FFFFFFF, "size_t": 0xFFFFFFFF}


def public_functions(header: str) -> list[dict]:
    """Every function the header declares: name, return type and parameters (type, pointer?)."""
    text = re.sub(r"/\*.*?\*/|//[^\n]*", "", header, flags=re.S)
    functions = []
    for returns, name, params in _PROTOTYPE.findall(text):
        parsed = []
        for param in (p.strip() for p in params.split(",")):
            if param in ("", "void"):
                continue
            pointer = "*" in param or "[" in param
            base = re.sub(r"\bconst\b|\*|\[.*?\]", " ", param).split()
            parsed.append({"type": base[0], "pointer": pointer})
        functions.append({"name": name, "returns": " ".join(returns.split()), "params": parsed})
    return functions


def _value_sets(function) -> list[list[str]]:
    """Argument lists: all valid, each pointer NULL, every integer at 0, 1 and its maximum."""
    valid = ["(void *)arena" if p["pointer"] else "1" for p in function["params"]]
    sets = [valid]
    for index, param in enumerate(function["params"]):
        if param["pointer"]:
            sets.append([*valid[:index], "0", *valid[index + 1:]])
        else:
            for value in ("0", "1", str(_INT_MAX.get(param["type"], 0x7FFFFFFF)) + "u"):
                sets.append([*valid[:index], f"({param['type']}){value}", *valid[index + 1:]])
    pointers = [i for i, p in enumerate(function["params"]) if p["pointer"]]
    if len(pointers) > 1:
        sets.append(["0" if p["pointer"] else valid[i] for i, p in enumerate(function["params"])])
    return sets


def _call(function, args: list[str], label: str) -> str:
    call = f"{function['name']}({', '.join(args)})"
    shown = f"{label} {function['name']}({', '.join(args)})".replace('"', "'")
    if function["returns"] == "void":
        return f'    memset(arena, 0, sizeof arena); {call}; printf("%s -> void\\n", "{shown}");\n'
    if "*" in function["returns"]:
        return (f'    memset(arena, 0, sizeof arena); printf("%s -> %s\\n", "{shown}", '
                f'{call} == 0 ? "NULL" : "pointer");\n')
    return f'    memset(arena, 0, sizeof arena); printf("%s -> %ld\\n", "{shown}", (long){call});\n'


SEMANTIC_CHECKS = r"""
static int32_t totals_a[PFX_N_CLASSES], totals_b[PFX_N_CLASSES];
static slf_event many[65535];

static void check(const char *what, int ok) { printf("check %s %s\n", what, ok ? "ok" : "FAILED"); }

static int same_totals(void)
{
    api_result(totals_a);
    return memcmp(totals_a, totals_b, sizeof totals_a) == 0;
}

static void semantic(void)
{
    slf_event one = {0, 1};
    check("init", api_init() == SLF_OK);
    check("step(NULL, 5) is SLF_ERR_NULL (C05)", api_step(0, 5) == SLF_ERR_NULL);
    check("step(NULL, 0) is a step without events", api_step(0, 0) == SLF_OK);
    api_result(totals_b);
    for (uint32_t k = 0; k < 65535u; k++) {
        many[k].index = 0;
        many[k].count = 16;
    }
    check("65,535 repeats of one input, count 16, is SLF_ERR_COUNT (C06)", api_step(many, 65535) == SLF_ERR_COUNT);
    check("... and changed nothing", same_totals());
    slf_event pair[2] = {{1, (uint8_t)(PFX_MAX_EVENT_COUNT / 2 + 1)}, {1, (uint8_t)(PFX_MAX_EVENT_COUNT / 2 + 1)}};
    check("two events of one input summing above the limit is SLF_ERR_COUNT", api_step(pair, 2) == SLF_ERR_COUNT);
    slf_event over = {0, (uint8_t)(PFX_MAX_EVENT_COUNT < 255 ? PFX_MAX_EVENT_COUNT + 1 : 255)};
    check("a count above the limit is SLF_ERR_COUNT",
          PFX_MAX_EVENT_COUNT >= 255 || api_step(&over, 1) == SLF_ERR_COUNT);
    slf_event outside = {PFX_N_INPUTS, 1};
    check("an index >= N_INPUTS is SLF_ERR_INDEX", api_step(&outside, 1) == SLF_ERR_INDEX);
    check("... and changed nothing", same_totals());
    /* A refused step must not leave counts behind: the same valid steps after refusals give the
     * same totals as after a fresh init. */
    slf_event split[2] = {{2, 1}, {2, (uint8_t)(PFX_MAX_EVENT_COUNT - 1)}};
    slf_event whole = {2, (uint8_t)PFX_MAX_EVENT_COUNT};
    check("repeats within the limit add up", api_step(split, 2) == SLF_OK && api_step(&one, 1) == SLF_OK);
    api_result(totals_b);
    check("init again", api_init() == SLF_OK && api_step(0, 0) == SLF_OK);   /* the same steps as above */
    check("a single event with the summed count", api_step(&whole, 1) == SLF_OK && api_step(&one, 1) == SLF_OK);
    check("... gives the same totals as the repeats", same_totals());
    check("spikes(N_HIDDEN_LAYERS) is NULL", api_spikes(PFX_N_HIDDEN_LAYERS) == 0);
    check("spikes(65535) is NULL", api_spikes(65535) == 0);
    check("result(NULL) returns the decision", api_result(0) < PFX_N_CLASSES);
}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folded = fold_network(parse_state_dict(random_state_dict((6, 5, 4, 3), ("silif", "csilif"), seed=0, max_delay=2)))
    quantized = quantize_network(folded, calibration=random_input(6, 2, 30, 0.1, 1, seed=1))
    out = tmp_path_factory.mktemp("api")
    return write_project(quantized, CompileOptions(board=load_board("nrf52840"), prefix=PREFIX), out / "p")


def test_c05_c06_every_public_function_is_total_under_asan_and_ubsan(project, tmp_path):
    header = (project.directory / "model" / f"{PREFIX}_model.h").read_text()
    functions = public_functions(header)
    names = {f["name"] for f in functions}
    assert {f"{PREFIX}_init", f"{PREFIX}_step", f"{PREFIX}_result", f"{PREFIX}_spikes"} <= names, names
    calls = "".join(_call(f, args, "before-init") for f in functions if not f["name"].endswith("_init")
                    for args in _value_sets(f)[:1])
    calls += f"    printf(\"init -> %d\\n\", {PREFIX}_init());\n"
    calls += "".join(_call(f, args, "after-init") for f in functions for args in _value_sets(f))
    driver = (f'#include <stdio.h>\n#include <string.h>\n#include "{PREFIX}_model.h"\n'
              f"#define PFX_N_CLASSES {PREFIX.upper()}_N_CLASSES\n#define PFX_N_INPUTS {PREFIX.upper()}_N_INPUTS\n"
              f"#define PFX_MAX_EVENT_COUNT {PREFIX.upper()}_MAX_EVENT_COUNT\n"
              f"#define PFX_N_HIDDEN_LAYERS {PREFIX.upper()}_N_HIDDEN_LAYERS\n"
              "static _Alignas(8) unsigned char arena[65536 * 8];\n" + SEMANTIC_CHECKS
              + "int main(void)\n{\n" + calls + "    semantic();\n    return 0;\n}\n")
    (tmp_path / "driver.c").write_text(driver)
    sources = [str(project.directory / "model" / f"{PREFIX}_model.c"), *map(str, project.model_sources[1:])]
    binary = tmp_path / "driver"
    compile_ = subprocess.run([build.host_cc(), "-std=c11", "-Wall", "-Wextra", "-Werror", "-g", *build.SANITIZE,
                               *(f"-I{d}" for d in project.include_dirs), str(tmp_path / "driver.c"), *sources,
                               "-o", str(binary)], capture_output=True, text=True)
    assert compile_.returncode == 0, compile_.stderr
    run = subprocess.run([str(binary)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "runtime error" not in run.stderr and "Sanitizer" not in run.stderr, \
        run.stderr[-3000:]
    lines = run.stdout.splitlines()
    called = {re.match(r"\S+ (\w+)\(", line)[1] for line in lines if re.match(r"(before|after)-init ", line)}
    assert called == names                                  # every public function was driven
    before = [line for line in lines if line.startswith(f"before-init {PREFIX}_step(")]
    assert before and all(line.endswith("-> -7") for line in before)            # SLF_ERR_STATE
    for function in functions:                             # a NULL pointer with work to do is an error
        if function["returns"] != "slf_status":
            continue
        for line in lines:
            call = line.split(" -> ")[0]
            null_pointer = re.search(r"[(,] ?0[,)]", call)                 # a bare 0 is a NULL pointer
            no_work = re.search(r"\(\w+\)0\b", call)                     # an integer argument of 0
            if line.startswith(f"after-init {function['name']}(") and null_pointer and not no_work:
                assert not line.endswith("-> 0"), line
    failed = [line for line in lines if line.startswith("check ") and not line.endswith(" ok")]
    checks = [line for line in lines if line.startswith("check ")]
    assert len(checks) == 16 and not failed, "\n".join(failed)


@pytest.mark.unit
def test_the_header_parser_finds_every_prototype():
    header = """/* x */\nslf_status p_init(void);\nslf_status p_step(const slf_event *events, uint16_t n);
uint16_t p_result(int32_t totals[P_N]);\nconst slf_spike_list *p_spikes(uint16_t layer);\n"""
    found = {f["name"]: f for f in public_functions(header)}
    assert list(found) == ["p_init", "p_step", "p_result", "p_spikes"]
    assert found["p_step"]["params"] == [{"type": "slf_event", "pointer": True}, {"type": "uint16_t", "pointer": False}]
    assert found["p_result"]["params"] == [{"type": "int32_t", "pointer": True}]
    assert found["p_spikes"]["returns"] == "const slf_spike_list *"
