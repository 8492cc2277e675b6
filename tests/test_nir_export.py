"""`silifc export MODEL --nir`: LIF-family models written as NIR graphs read back as the same
network (constants, delays, recurrence, spikes), NIR's own reader accepts them, and SiLIF,
C-SiLIF and the SiLIF readout are refused with the dynamics NIR lacks."""
import json

import nir
import numpy as np
import pytest

import nir_producers as producers
from silifc.cli import main
from silifc.errors import NIRError
from silifc.io.models import load_model, resolve_model
from silifc.io.nir.export import check_exportable, export_nir
from silifc.ir import Network
from silifc.reference.float_ref import run_float

pytestmark = pytest.mark.unit

FOLDED_FIELDS = ("weight", "bias", "beta", "leak", "alpha", "threshold", "v_reset", "delays", "recurrent")


def assert_same_network(a, b):
    assert [layer.kind for layer in a.layers] == [layer.kind for layer in b.layers]
    assert (a.config.nir_dialect, a.config.nir_dt) == (b.config.nir_dialect, b.config.nir_dt)
    for left, right in zip(a.layers, b.layers):
        assert left.reset == right.reset
        for field in FOLDED_FIELDS:
            x, y = getattr(left, field), getattr(right, field)
            assert (x is None) == (y is None), field
            if x is not None:
                np.testing.assert_array_equal(x, y, err_msg=field)


@pytest.mark.parametrize("producer,kind", [("snntorch", "rsynaptic"), ("snntorch", "leaky"), ("norse", "cuba"),
                                           ("norse", "iaf"), ("norse", "recurrent")])
def test_producer_networks_round_trip(producer, kind, tmp_path):
    counts = producers.fixed_input()
    path, spikes, _ = producers.snntorch_network(kind, tmp_path, counts) if producer == "snntorch" else \
        producers.norse_network(kind, tmp_path, counts)
    assert main(["export", str(path), "--nir-dialect", producer, "--nir", str(tmp_path / "out.nir"), "--json"]) == 0
    original = producers.load_folded(path, dialect=producer)
    exported = producers.load_folded(tmp_path / "out.nir")            # dialect and dt from the metadata
    assert_same_network(original, exported)
    result = run_float(exported, counts)
    assert all(np.array_equal(want, got) for want, got in zip(spikes, result.spikes))
    graph = nir.read(tmp_path / "out.nir")                             # NIR's reader, with its type check
    assert graph.metadata["dialect"] == producer
    assert sum(isinstance(node, (nir.LIF, nir.CubaLIF, nir.IF, nir.LI)) for node in graph.nodes.values()) == 2


def test_delays_round_trip(tmp_path):
    """Per-synapse delays (axonal + dendritic) become one Linear + Delay per delay value and read back."""
    from test_nir_import import W1, lif, write

    dt = 1e-3
    nodes = {"in": nir.Input(input_type=np.array([4])), "d_in": nir.Delay(delay=np.array([0, 1, 2, 3]) * dt),
             "fc1": nir.Linear(weight=W1), "d_out": nir.Delay(delay=np.array([0, 0, 1, 1, 2, 2]) * dt),
             "lif1": lif(6), "out": nir.Output(output_type=np.array([6]))}
    order = ["in", "d_in", "fc1", "d_out", "lif1", "out"]
    path = write(tmp_path, nodes, list(zip(order, order[1:])))
    network = load_model(path, {"nir_dialect": "nir", "nir_dt": dt})
    export_nir(network, tmp_path / "out.nir")
    original = producers.load_folded(path, dialect="nir", dt=dt)
    exported = producers.load_folded(tmp_path / "out.nir")
    assert_same_network(original, exported)
    assert exported.layers[0].delays.max() == 5
    graph = nir.read(tmp_path / "out.nir")
    assert sorted(float(node.delay[0]) / dt for node in graph.nodes.values() if isinstance(node, nir.Delay)) \
        == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("model,layer,dynamics", [
    ("silif_ssc_4ms.pth", "NIR cannot express layer 0 (SiLIF)", "adaptation current w"),
    ("csilif_ssc_4ms.pth", "NIR cannot express layer 0 (C-SiLIF)", "membrane is complex"),
])
def test_silif_models_are_refused_with_the_reason(model, layer, dynamics, tmp_path, capsys):
    assert main(["export", model, "--nir", str(tmp_path / "out.nir")]) == 2
    message = capsys.readouterr().err
    assert layer in message and dynamics in message
    assert not (tmp_path / "out.nir").exists()


def test_a_silif_readout_is_refused(tmp_path):
    """LIF hidden layers with the SiLIF readout: the softmax sum has no NIR node."""
    counts = producers.fixed_input()
    path, _, _ = producers.snntorch_network("leaky", tmp_path, counts)
    nir_network = load_model(path, {"nir_dialect": "snntorch"})
    silif = load_model(resolve_model("silif_ssc_4ms.pth"))
    mixed = Network(config=nir_network.config, hidden=nir_network.hidden, readout=silif.readout)
    with pytest.raises(NIRError, match="NIR cannot express the readout: .* no softmax"):
        check_exportable(mixed)


def test_export_report(tmp_path, capsys):
    counts = producers.fixed_input()
    path, _, _ = producers.norse_network("lifbox", tmp_path, counts)
    assert main(["export", str(path), "--nir-dialect", "norse", "--nir", str(tmp_path / "o.nir"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kinds"] == ["lif", "lif"] and report["dialect"] == "norse" and report["dt"] == 1e-3
