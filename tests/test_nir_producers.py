"""Round trips with real NIR producers (tests/nir_producers.py): each network is simulated
in snnTorch or Norse on a fixed input, exported to NIR, imported by silifc, and silifc's
float64 reference must emit exactly the producer's spikes (every layer, every step).

Tolerance: none for spikes. The producers run float32 and silifc float64; a spike could
differ only where a float32 state lies within float32 rounding of the threshold, which
does not happen on these inputs (the tests would say so). Non-spiking outputs (Norse's LI
readout) agree to float32 rounding: 1e-5 relative to their largest value.
"""
import numpy as np
import pytest

import nir_producers as producers
from silifc.reference.float_ref import run_float

pytestmark = pytest.mark.unit

CASES = [("snntorch", kind) for kind in ("leaky", "synaptic", "recurrent", "rsynaptic")] + \
        [("norse", kind) for kind in ("lifbox", "cuba", "iaf", "recurrent")]
EXPECTED_KINDS = {
    ("snntorch", "leaky"): ("lif", "lif"), ("snntorch", "synaptic"): ("cubalif", "cubalif"),
    ("snntorch", "recurrent"): ("lif", "lif"), ("snntorch", "rsynaptic"): ("cubalif", "cubalif"),
    ("norse", "lifbox"): ("lif", "lif"), ("norse", "cuba"): ("cubalif", "li"),
    ("norse", "iaf"): ("if", "lif"), ("norse", "recurrent"): ("cubalif", "cubalif"),
}


@pytest.fixture(scope="module")
def counts():
    return producers.fixed_input()


@pytest.mark.parametrize("producer,kind", CASES, ids=[f"{p}-{k}" for p, k in CASES])
def test_float_reference_reproduces_the_producer(producer, kind, counts, tmp_path):
    build = producers.snntorch_network if producer == "snntorch" else producers.norse_network
    path, spikes, output = build(kind, tmp_path, counts)
    network = producers.load_folded(path, dialect=producer)
    assert tuple(layer.kind for layer in network.layers) == EXPECTED_KINDS[producer, kind]
    assert (network.layers[0].recurrent is not None) == (kind in ("recurrent", "rsynaptic"))
    result = run_float(network, counts)
    assert len(result.spikes) == len(spikes)
    for layer, (want, got) in enumerate(zip(spikes, result.spikes)):
        assert want.sum() > 0.01 * want.size, f"layer {layer} barely spikes: the comparison would be weak"
        mismatches = np.argwhere(want != got)
        assert mismatches.size == 0, f"layer {layer}: {len(mismatches)} spikes differ, first at {mismatches[0]}"
    scale = max(1.0, float(np.abs(output).max()))
    np.testing.assert_allclose(result.output_trace, output, rtol=0, atol=1e-5 * scale)


def test_the_wrong_dialect_changes_the_spikes(counts, tmp_path):
    """The dialect matters: an snnTorch graph read with Norse's conventions is not what snnTorch ran."""
    path, spikes, _ = producers.snntorch_network("leaky", tmp_path, counts)
    right = run_float(producers.load_folded(path, dialect="snntorch"), counts)
    wrong = run_float(producers.load_folded(path, dialect="nir", dt=1e-4), counts)
    assert np.array_equal(right.spikes[0], spikes[0])
    assert not np.array_equal(wrong.spikes[0], spikes[0])
