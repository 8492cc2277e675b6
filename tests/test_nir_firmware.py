"""NIR models through the whole chain: integer reference vs float, firmware in QEMU vs the
integer reference (outputs and every spike), and the commands on .nir files."""
import json
import re

import numpy as np
import pytest

import nir_producers as producers
from test_firmware import assert_plan_equals_linked_symbols
from silifc.cli import main
from silifc.codegen.boards import load_board
from silifc.passes.quantize import quantize_network
from silifc.pipeline import Options, run_pipeline
from silifc.reference.float_ref import run_float
from silifc.reference.int_ref import run_int

BUILDERS = {"snntorch": producers.snntorch_network, "norse": producers.norse_network}
DEFAULT = [("snntorch", "recurrent", 8), ("snntorch", "synaptic", 16), ("norse", "cuba", 8),
           ("norse", "iaf", 16)]
ALL = [(p, k, bits) for p, kinds in (("snntorch", ("leaky", "synaptic", "recurrent", "rsynaptic")),
                                     ("norse", ("lifbox", "cuba", "iaf", "recurrent")))
       for k in kinds for bits in (8, 16)]
SLOW = [case for case in ALL if case not in DEFAULT]


def _firmware_case(producer, kind, bits, tmp_path):
    counts = producers.fixed_input(samples=3, steps=60)
    path, _, _ = BUILDERS[producer](kind, tmp_path, counts)
    options = Options(weights=f"int{bits}", config_overrides={"nir_dialect": producer}, board=load_board("nrf52840"),
                      output=tmp_path / "build", inputs=counts, record_spikes=True)
    done = run_pipeline(path, options, until="run")
    reference = run_int(done.quantized, counts)
    firmware = done.report.result
    assert np.array_equal(firmware.outputs, reference.outputs)
    assert np.array_equal(firmware.decisions, reference.decisions)
    assert len(firmware.spikes) == len(reference.spikes) > 0
    for got, want in zip(firmware.spikes, reference.spikes):
        assert want.any() and np.array_equal(got, want)
    assert_plan_equals_linked_symbols(done.project, done.image)


@pytest.mark.firmware
@pytest.mark.parametrize("producer,kind,bits", DEFAULT, ids=[f"{p}-{k}-int{b}" for p, k, b in DEFAULT])
def test_firmware_equals_integer_reference(producer, kind, bits, tmp_path):
    _firmware_case(producer, kind, bits, tmp_path)


@pytest.mark.firmware
@pytest.mark.slow
@pytest.mark.parametrize("producer,kind,bits", SLOW, ids=[f"{p}-{k}-int{b}" for p, k, b in SLOW])
def test_firmware_equals_integer_reference_all(producer, kind, bits, tmp_path):
    _firmware_case(producer, kind, bits, tmp_path)


@pytest.mark.unit
def test_int16_integer_reference_follows_the_float_reference(tmp_path):
    """int16 weights: at most 0.1 % of the spikes differ from the float64 reference and every decision agrees."""
    counts = producers.fixed_input()
    for producer, kind in (("snntorch", "rsynaptic"), ("norse", "recurrent"), ("norse", "cuba")):
        network = producers.load_folded(BUILDERS[producer](kind, tmp_path, counts)[0], dialect=producer)
        reference = run_float(network, counts)
        result = run_int(quantize_network(network, weight_bits=16), counts)
        for got, want in zip(result.spikes, reference.spikes):
            assert (got != want).mean() <= 1e-3
        assert np.array_equal(result.decisions, reference.decisions)


@pytest.mark.unit
def test_integrator_is_exact(tmp_path):
    """I/IF neurons add without a decay product: the integer v is the exact running sum of the
    integer drive (acc * mult + bias), with no rounding at any step."""
    import nir

    w = np.array([[0.25, 0.5]])
    graph = nir.NIRGraph(nodes={"in": nir.Input(input_type=np.array([2])), "fc": nir.Linear(weight=w),
                                "i": nir.I(r=np.ones(1)), "out": nir.Output(output_type=np.array([1]))},
                         edges=[("in", "fc"), ("fc", "i"), ("i", "out")], type_check=False)
    nir.write(tmp_path / "i.nir", graph)
    network = producers.load_folded(tmp_path / "i.nir", dialect="norse")
    counts = producers.fixed_input(samples=2, steps=50, n_in=2)
    quantized = quantize_network(network, weight_bits=8)
    result = run_int(quantized, counts)
    syn = quantized.readout.synapses
    exact = np.cumsum((counts @ syn.weights) * syn.mult + syn.bias, axis=1)
    np.testing.assert_array_equal(result.output_trace, exact)
    assert np.abs(exact / 2 ** quantized.readout.frac_bits - np.cumsum(counts @ w.T, axis=1)).max() < 0.05


@pytest.mark.unit
def test_check_and_infer_take_nir(tmp_path, capsys):
    counts = producers.fixed_input()
    path, spikes, _ = producers.snntorch_network("leaky", tmp_path, counts)
    np.save(tmp_path / "x.npy", counts)
    assert main(["check", str(path), "--nir-dialect", "snntorch", "--input", str(tmp_path / "x.npy"),
                 "--weights", "int16", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kinds"] == ["lif", "lif"] and report["dialect"] == "snntorch"
    assert report["decision_agreement"] == 1.0 and report["layers"][0]["flip_rate"] <= 1e-3
    out = tmp_path / "r.npz"
    assert main(["infer", str(path), "--nir-dialect", "snntorch", "--input", str(tmp_path / "x.npy"),
                 "--engine", "float", "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    with np.load(out) as saved:
        assert np.array_equal(saved["spikes_l0"], spikes[0]) and np.array_equal(saved["spikes_l1"], spikes[1])
    assert main(["check", str(path)]) == 2
    assert "--nir-dialect snntorch|norse|nir" in capsys.readouterr().err
    assert main(["infer", str(path), "--nir-dialect", "snntorch", "--engine", "float32"]) == 2
    assert "for a NIR graph use --engine float" in capsys.readouterr().err
    assert main(["check", "silif_ssc_4ms.pth", "--nir-dialect", "norse"]) == 2
    assert "nir_dialect apply to NIR graphs (.nir) only" in capsys.readouterr().err


@pytest.mark.unit
def test_compile_takes_nir(tmp_path, capsys):
    """silifc compile on a recurrent snnTorch graph: the project, its plan and the LIF-family C."""
    path, _, _ = producers.snntorch_network("rsynaptic", tmp_path, producers.fixed_input())
    out = tmp_path / "project"
    assert main(["compile", str(path), "--nir-dialect", "snntorch", "--board", "nrf52840", "-o", str(out),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    names = [buffer["name"] for buffer in report["memory"]["buffers"]]
    assert "silifc_l0_recurrent_data" in names and "silifc_ctx.readout_total" in names
    source = (out / "model" / "silifc_model.c").read_text()
    assert "slf_lif_update_q31(&silifc_l0_layer" in source and "SLF_LIF_SPIKING | SLF_LIF_CURRENT" not in source
    assert "SLF_LIF_CURRENT | SLF_LIF_SPIKING" in source and "&silifc_l0_recurrent, &ctx->l0_spikes" in source
    assert re.search(r"#define SILIFC_N_SPIKING_LAYERS 2 ", (out / "model" / "silifc_model.h").read_text())
    assert main(["compile", str(path), "--nir-dialect", "snntorch", "--board", "nrf52840", "-o", str(out),
                 "--synapses", "dense"]) == 2
    assert "event-driven synapses only" in capsys.readouterr().err


@pytest.mark.firmware
def test_run_command_on_nir(tmp_path, capsys):
    counts = producers.fixed_input(samples=2, steps=40)
    path, _, _ = producers.norse_network("recurrent", tmp_path, counts)
    np.save(tmp_path / "x.npy", counts)
    status = main(["run", str(path), "--nir-dialect", "norse", "--input", str(tmp_path / "x.npy"), "--spikes", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert status == 0 and summary["bit_exact"] and summary["spike_mismatches"] == [0, 0]
    assert summary["instructions_per_step"] > 0


@pytest.mark.firmware
def test_firmware_with_delays_lanes_and_recurrence(tmp_path):
    """A graph written with `nir`: per-synapse delays into the first layer, a recurrent second
    layer fed by spikes (its input accumulates in 16-bit lanes, its own spikes in the int32
    kernel, into one slot), a third layer; firmware = integer reference in every spike."""
    import nir

    from silifc.passes.quantize import lanes16_exact

    rng = np.random.default_rng(5)
    dt = 1e-3

    def lif(n, tau):
        return nir.LIF(tau=np.full(n, tau), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.full(n, 0.2),
                       v_reset=np.zeros(n))

    nodes = {"in": nir.Input(input_type=np.array([8])), "d_in": nir.Delay(delay=rng.integers(0, 4, 8) * dt),
             "fc1": nir.Linear(weight=rng.normal(0, 1.5, (12, 8))),
             "d_out": nir.Delay(delay=rng.integers(0, 3, 12) * dt), "lif1": lif(12, 0.005),
             "fc2": nir.Linear(weight=rng.normal(0, 1.0, (10, 12))), "lif2": lif(10, 0.004),
             "rec": nir.Linear(weight=rng.normal(0, 0.6, (10, 10))), "fc3": nir.Linear(weight=rng.normal(0, 1.2, (4, 10))),
             "lif3": lif(4, 0.004), "out": nir.Output(output_type=np.array([4]))}
    edges = [("in", "d_in"), ("d_in", "fc1"), ("fc1", "d_out"), ("d_out", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"),
             ("lif2", "rec"), ("rec", "lif2"), ("lif2", "fc3"), ("fc3", "lif3"), ("lif3", "out")]
    path = tmp_path / "g.nir"
    nir.write(path, nir.NIRGraph(nodes=nodes, edges=edges, type_check=False))
    counts = producers.fixed_input(samples=3, steps=50, n_in=8, rate=0.3)
    options = Options(config_overrides={"nir_dialect": "nir", "nir_dt": dt}, board=load_board("nrf52840"),
                      output=tmp_path / "build", inputs=counts, record_spikes=True)
    done = run_pipeline(path, options, until="run")
    quantized = done.quantized
    assert quantized.layers[0].synapses.max_delay == 5 and quantized.layers[1].recurrent is not None
    assert lanes16_exact(quantized.layers[1].synapses)
    reference = run_int(quantized, counts)
    firmware = done.report.result
    assert np.array_equal(firmware.outputs, reference.outputs)
    for got, want in zip(firmware.spikes, reference.spikes):
        assert 0.02 < want.mean() < 0.9 and np.array_equal(got, want)
    assert_plan_equals_linked_symbols(done.project, done.image)


NIR_API_DRIVER = r'''
#include <stdio.h>
#include "m_model.h"
#include "data.h"

int main(void)
{
    static m_ctx ctx;
    m_output out;
    int32_t totals[M_N_CLASSES];
    uint16_t decision = 0;
    const slf_spike_list *spikes = 0;
    if (m_init(&ctx) != SLF_OK) {
        return 1;
    }
    for (uint32_t t = 0; t < STEPS; t++) {
        slf_status status = m_step(&ctx, events_0 + start_0[t], (uint16_t)(start_0[t + 1] - start_0[t]), &out);
        slf_status last = m_spikes(&ctx, M_N_SPIKING_LAYERS - 1, &spikes);
        printf("s %d %d %u %u", (int)status, (int)last, (unsigned)out.decision, (unsigned)spikes->count);
        for (uint16_t k = 0; k < M_N_CLASSES; k++) {
            printf(" %ld", (long)out.readout[k]);
        }
        printf("\n");
    }
    printf("r %d %d", (int)m_result(&ctx, totals, &decision), (int)m_spikes(&ctx, M_N_SPIKING_LAYERS, &spikes));
    printf(" %u", (unsigned)decision);
    for (uint16_t k = 0; k < M_N_CLASSES; k++) {
        printf(" %ld", (long)totals[k]);
    }
    printf("\n");
    return 0;
}
'''


@pytest.mark.host
@pytest.mark.parametrize("last", ["lif", "li"])
def test_the_context_api_of_a_nir_model(last, tmp_path):
    """A recurrent LIF layer and a spiking (LIF) or non-spiking (LI) last layer through the
    generated context API on the host (ASan/UBSan): step() with an output gives the running
    decision of the integer reference after every step and the last layer's membrane (for LI:
    what the step adds to the Q16 totals); result() gives its totals; spikes() numbers the
    spiking layers."""
    import shutil
    import subprocess

    import nir
    from silifc.codegen.emit import CompileOptions, write_project
    from silifc.codegen.runtime import runtime_sources
    from silifc.reference.int_ref import output_q16
    from test_api_c import STEPS, _data_header

    if shutil.which("gcc") is None:
        pytest.skip("no host C compiler")
    rng = np.random.default_rng(7)
    dt = 1e-3
    neuron = {"lif": lambda n: nir.LIF(tau=np.full(n, 0.004), r=np.ones(n), v_leak=np.zeros(n),
                                       v_threshold=np.full(n, 0.2), v_reset=np.zeros(n)),
              "li": lambda n: nir.LI(tau=np.full(n, 0.004), r=np.ones(n), v_leak=np.zeros(n))}
    nodes = {"in": nir.Input(input_type=np.array([8])), "fc1": nir.Linear(weight=rng.normal(0, 1.5, (12, 8))),
             "lif1": neuron["lif"](12), "rec": nir.Linear(weight=rng.normal(0, 0.6, (12, 12))),
             "fc2": nir.Linear(weight=rng.normal(0, 1.2, (4, 12))), "last": neuron[last](4),
             "out": nir.Output(output_type=np.array([4]))}
    edges = [("in", "fc1"), ("fc1", "lif1"), ("lif1", "rec"), ("rec", "lif1"), ("lif1", "fc2"), ("fc2", "last"),
             ("last", "out")]
    path = tmp_path / "g.nir"
    nir.write(path, nir.NIRGraph(nodes=nodes, edges=edges, type_check=False))
    counts = producers.fixed_input(samples=1, steps=STEPS, n_in=8, rate=0.3)
    quantized = run_pipeline(path, Options(config_overrides={"nir_dialect": "nir", "nir_dt": dt}),
                             until="quantize").quantized
    project = write_project(quantized, CompileOptions(board=load_board("nrf52840"), prefix="m"), tmp_path / "m")
    d = project.directory
    (tmp_path / "data.h").write_text(_data_header([counts[0]]))
    (tmp_path / "driver.c").write_text(NIR_API_DRIVER)
    exe = tmp_path / "driver"
    subprocess.run(["gcc", "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined",
                    "-fno-sanitize-recover=all", f"-I{tmp_path}", f"-I{d / 'model'}", f"-I{d / 'runtime' / 'include'}",
                    str(tmp_path / "driver.c"), str(d / "model" / "m_model.c"),
                    *map(str, runtime_sources(dsp=False, root=d / "runtime")), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    rows = [line.split() for line in subprocess.run([str(exe)], check=True, capture_output=True,
                                                    text=True).stdout.splitlines()]
    steps = np.array([[int(v) for v in row[1:]] for row in rows if row[0] == "s"])
    result = [int(v) for v in rows[-1][1:]]
    assert len(steps) == STEPS and (steps[:, :2] == 0).all()
    prefixes = [run_int(quantized, counts[:, :t + 1]) for t in range(STEPS)]
    assert steps[:, 2].tolist() == [int(r.decisions[0]) for r in prefixes]          # the running decision
    totals = np.array([r.outputs[0] for r in prefixes])
    assert result == [0, -3, int(prefixes[-1].decisions[0]), *totals[-1].tolist()]    # SLF_ERR_INDEX past the last
    added = np.diff(np.vstack([np.zeros((1, 4), np.int64), totals]), axis=0)
    if last == "li":                            # the membrane the step added to the totals, in Q16
        assert np.array_equal(output_q16(steps[:, 4:], quantized.readout.frac_bits), added)
        assert 0 < np.abs(added).max() < 2**31 - 1
    else:                                       # the last layer's spikes this step: its totals' increment
        assert steps[:, 3].tolist() == added.sum(axis=1).tolist() and added.sum() > 0
