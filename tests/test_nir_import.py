"""NIR import: graph structure, dialects, delays, Conv1d, refusals (graphs written with `nir`)."""
import h5py
import nir
import numpy as np
import pytest

from nir_producers import load_folded as load_nir
from silifc.errors import NIRError
from silifc.io.nir.graph import read_nir
from silifc.reference.float_ref import run_float

pytestmark = pytest.mark.unit

DT = 1e-3
RNG = np.random.default_rng(0)
W1 = RNG.normal(0, 0.8, (6, 4))
W2 = RNG.normal(0, 0.8, (3, 6))


def lif(n, tau=0.01, threshold=0.5):
    return nir.LIF(tau=np.full(n, tau), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.full(n, threshold),
                   v_reset=np.zeros(n))


def write(tmp_path, nodes, edges, name="g.nir", metadata=None):
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata or {}, type_check=False)
    path = tmp_path / name
    nir.write(path, graph)
    return path


def chain(tmp_path, middle=None, name="g.nir", metadata=None, bias=0.05):
    """Input -> Affine -> [middle nodes] -> LIF -> Linear -> LIF -> Output."""
    nodes = {"in": nir.Input(input_type=np.array([4])), "fc1": nir.Affine(weight=W1, bias=np.full(6, bias)),
             "lif1": lif(6), "fc2": nir.Linear(weight=W2), "lif2": lif(3), "out": nir.Output(output_type=np.array([3]))}
    order = ["in", "fc1", *(middle or {}), "lif1", "fc2", "lif2", "out"]
    nodes.update(middle or {})
    return write(tmp_path, nodes, list(zip(order, order[1:])), name, metadata)


def kinds(network):
    return tuple(layer.kind for layer in network.layers)


def counts(steps=40, n=4, seed=1):
    return (np.random.default_rng(seed).random((3, steps, n)) < 0.3).astype(np.int64)


def test_chain_constants_in_the_nir_dialect(tmp_path):
    network = load_nir(chain(tmp_path), dialect="nir", dt=DT)
    first, second = network.layers
    assert kinds(network) == ("lif", "lif") and network.widths == (4, 6, 3)
    k = DT / 0.01                                   # forward Euler: gain dt/tau * r, beta 1 - dt/tau
    np.testing.assert_allclose(first.weight, k * W1)
    np.testing.assert_allclose(first.bias, k * 0.05)
    np.testing.assert_allclose(first.beta, 1 - k)
    assert first.reset == "value" and second.delays is None and first.recurrent is None


def test_dialect_and_dt_from_metadata_or_options(tmp_path):
    path = chain(tmp_path, metadata={"dialect": "snntorch", "dt": 1e-3})
    network = load_nir(path)
    assert network.config.nir_dialect == "snntorch" and network.config.nir_dt == 1e-3
    assert network.layers[0].reset == "subtract" and network.config.time_step_ms == 1.0
    assert load_nir(path, dialect="norse").config.nir_dialect == "norse"          # the option wins
    assert load_nir(path, dt=2e-3).config.nir_dt == 2e-3


def test_missing_dialect_or_dt_is_refused(tmp_path):
    path = chain(tmp_path)
    with pytest.raises(NIRError, match=r"--nir-dialect snntorch\|norse\|nir"):
        load_nir(path)
    with pytest.raises(NIRError, match="no default time step.*--dt"):
        load_nir(path, dialect="nir")
    with pytest.raises(NIRError, match="unknown NIR dialect 'loihi'"):
        load_nir(path, dialect="loihi")
    with pytest.raises(NIRError, match=r"time step is longer than the time constant.*--dt"):
        load_nir(path, dialect="nir", dt=0.5)


@pytest.mark.parametrize("node,type_name", [
    (nir.Threshold(threshold=np.ones(6)), "Threshold"),
    (nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])), "SumPool2d"),
])
def test_unsupported_nodes_are_named(tmp_path, node, type_name):
    path = chain(tmp_path, {"odd": node})
    with pytest.raises(NIRError) as error:
        load_nir(path, dialect="nir", dt=DT)
    message = str(error.value)
    assert f"node 'odd' has type {type_name}" in message
    for supported in ("Affine", "LIF", "CubaLIF", "Delay", "Conv1d"):
        assert supported in message


def test_delay_equals_shifted_input(tmp_path):
    """A Delay of d steps in front of the first LIF: same spikes as the input shifted by d."""
    delayed = load_nir(chain(tmp_path, {"delay": nir.Delay(delay=np.full(6, 3 * DT))}, "d.nir", bias=0.0),
                       dialect="nir", dt=DT)
    plain = load_nir(chain(tmp_path, name="p.nir", bias=0.0), dialect="nir", dt=DT)
    assert delayed.layers[0].delays.max() == 3
    x = counts()
    shifted = np.zeros_like(x)
    shifted[:, 3:] = x[:, :-3]
    assert np.array_equal(run_float(delayed, x).spikes[1], run_float(plain, shifted).spikes[1])


def test_axonal_and_dendritic_delays_make_per_synapse_delays(tmp_path):
    nodes = {"in": nir.Input(input_type=np.array([4])), "d_in": nir.Delay(delay=np.array([0, 1, 2, 3]) * DT),
             "fc1": nir.Linear(weight=W1), "d_out": nir.Delay(delay=np.array([0, 0, 1, 1, 2, 2]) * DT),
             "lif1": lif(6), "out": nir.Output(output_type=np.array([6]))}
    order = ["in", "d_in", "fc1", "d_out", "lif1", "out"]
    network = load_nir(write(tmp_path, nodes, list(zip(order, order[1:]))), dialect="nir", dt=DT)
    want = np.array([0, 1, 2, 3])[None, :] + np.array([0, 0, 1, 1, 2, 2])[:, None]
    assert np.array_equal(network.layers[0].delays, want)


def test_delay_refusals(tmp_path):
    with pytest.raises(NIRError, match=r"node 'delay' \(Delay\): delay 0.0025 s is 2.5 steps"):
        load_nir(chain(tmp_path, {"delay": nir.Delay(delay=np.full(6, 2.5 * DT))}), dialect="nir", dt=DT)
    # Two paths with different delays onto the same synapse.
    nodes = {"in": nir.Input(input_type=np.array([4])), "a": nir.Linear(weight=W1),
             "b": nir.Linear(weight=W1), "d": nir.Delay(delay=np.full(6, DT)), "lif1": lif(6),
             "out": nir.Output(output_type=np.array([6]))}
    edges = [("in", "a"), ("in", "b"), ("b", "d"), ("a", "lif1"), ("d", "lif1"), ("lif1", "out")]
    with pytest.raises(NIRError, match="carries weights at delays 0 and 1 steps"):
        load_nir(write(tmp_path, nodes, edges, "two.nir"), dialect="nir", dt=DT)


def test_delayed_bias_is_refused(tmp_path):
    """A delay line starts empty, so a bias before a Delay is missing for the first steps."""
    with pytest.raises(NIRError, match="bias passes a 2-step Delay"):
        load_nir(chain(tmp_path, {"delay": nir.Delay(delay=np.full(6, 2 * DT))}), dialect="nir", dt=DT)


def test_scale_flatten_identity_fold_into_the_weights(tmp_path):
    scale = np.linspace(0.5, 1.5, 6)
    network = load_nir(chain(tmp_path, {"flat": nir.Flatten(input_type={"input": np.array([6])}),
                                        "scale": nir.Scale(scale=scale)}), dialect="nir", dt=DT)
    np.testing.assert_allclose(network.layers[0].weight, DT / 0.01 * scale[:, None] * W1)
    np.testing.assert_allclose(network.layers[0].bias, DT / 0.01 * scale * 0.05)


def test_conv1d_lowers_to_the_same_map_as_torch(tmp_path):
    import torch

    weight = RNG.normal(0, 1, (3, 2, 3))
    bias = RNG.normal(0, 1, 3)
    conv = nir.Conv1d(input_shape=8, weight=weight, stride=np.array([2]), padding=np.array([1]),
                      dilation=np.array([1]), groups=1, bias=bias)
    out_len = (8 + 2 - 3) // 2 + 1
    nodes = {"in": nir.Input(input_type=np.array([16])), "conv": conv, "lif1": lif(3 * out_len),
             "out": nir.Output(output_type=np.array([3 * out_len]))}
    order = ["in", "conv", "lif1", "out"]
    network = load_nir(write(tmp_path, nodes, list(zip(order, order[1:]))), dialect="snntorch", dt=1e-3)
    population = network.layers[0]
    gain = 1e-3 / 0.01
    x = RNG.normal(0, 1, (5, 2, 8))
    want = torch.nn.functional.conv1d(torch.tensor(x), torch.tensor(weight), torch.tensor(bias), stride=2,
                                      padding=1).numpy().reshape(5, -1)
    got = (x.reshape(5, -1) @ population.weight.T + population.bias) / gain
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_nested_recurrent_subgraph_is_flattened(tmp_path):
    """snnTorch writes RLeaky as a subgraph: input -> lif <-> w_rec, lif -> output."""
    w_rec = RNG.normal(0, 0.5, (6, 6))
    sub = nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([6])), "lif": lif(6),
                              "w_rec": nir.Linear(weight=w_rec), "output": nir.Output(output_type=np.array([6]))},
                       edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
                       type_check=False)
    nodes = {"in": nir.Input(input_type=np.array([4])), "fc1": nir.Linear(weight=W1), "rnn": sub,
             "fc2": nir.Linear(weight=W2), "lif2": lif(3), "out": nir.Output(output_type=np.array([3]))}
    order = ["in", "fc1", "rnn", "fc2", "lif2", "out"]
    network = load_nir(write(tmp_path, nodes, list(zip(order, order[1:]))), dialect="nir", dt=DT)
    assert [p.name for p in network.layers] == ["rnn.lif", "lif2"]
    np.testing.assert_allclose(network.layers[0].recurrent, DT / 0.01 * w_rec)


@pytest.mark.parametrize("case,message", [
    ("skip", r"node 'in' feeds several neurons \(lif1, lif2\)"),
    ("backward", r"node 'lif1' takes input from lif2 besides 'in'"),
    ("affine_out", "between 'lif2' and the Output there is a weight"),
    ("li_middle", r"node 'lif1' \(LI\) does not spike but feeds 'lif2'"),
    ("li_loop", r"node 'lif1' \(LI\) feeds back into itself"),
    ("fanout", "feeds several neurons"),
])
def test_structures_outside_a_chain_are_refused(tmp_path, case, message):
    nodes = {"in": nir.Input(input_type=np.array([4])), "fc1": nir.Linear(weight=W1), "lif1": lif(6),
             "fc2": nir.Linear(weight=W2), "lif2": lif(3), "out": nir.Output(output_type=np.array([3]))}
    edges = [("in", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "out")]
    if case == "skip":
        nodes["fc_skip"] = nir.Linear(weight=np.ones((3, 4)))
        edges += [("in", "fc_skip"), ("fc_skip", "lif2")]
    elif case == "backward":
        nodes["fc_back"] = nir.Linear(weight=np.ones((6, 3)))
        edges += [("lif2", "fc_back"), ("fc_back", "lif1")]
    elif case == "affine_out":
        nodes["fc3"] = nir.Linear(weight=np.eye(3) * 2)
        edges = edges[:-1] + [("lif2", "fc3"), ("fc3", "out")]
    elif case in ("li_middle", "li_loop"):
        nodes["lif1"] = nir.LI(tau=np.full(6, 0.01), r=np.ones(6), v_leak=np.zeros(6))
        if case == "li_loop":
            nodes["rec"] = nir.Linear(weight=np.eye(6))
            edges += [("lif1", "rec"), ("rec", "lif1")]
    elif case == "fanout":
        nodes["fc_b"], nodes["lif_b"] = nir.Linear(weight=W1), lif(6)
        edges += [("in", "fc_b"), ("fc_b", "lif_b")]
    with pytest.raises(NIRError, match=message):
        load_nir(write(tmp_path, nodes, edges), dialect="nir", dt=DT)


def test_bad_files(tmp_path):
    text = tmp_path / "model.nir"
    text.write_text("not hdf5")
    with pytest.raises(NIRError, match="not a readable HDF5 file"):
        load_nir(text, dialect="nir", dt=DT)
    other = tmp_path / "other.nir"
    with h5py.File(other, "w") as handle:
        handle.create_dataset("x", data=1)
    with pytest.raises(NIRError, match="not a NIR file"):
        read_nir(other)
    with pytest.raises(NIRError, match="no such file"):
        read_nir(tmp_path / "missing.nir")


def test_scalar_parameters_take_the_size_of_their_input(tmp_path):
    """Norse writes shapeless parameters for layers built with its scalar defaults."""
    nodes = {"in": nir.Input(input_type=np.array([4])), "fc1": nir.Affine(weight=W1, bias=np.zeros(6)),
             "lif1": nir.LIF(tau=np.array(0.01), r=np.array(1.0), v_leak=np.array(0.0), v_threshold=np.array(0.5)),
             "out": nir.Output(output_type=np.array([6]))}
    order = ["in", "fc1", "lif1", "out"]
    path = tmp_path / "s.nir"
    with h5py.File(path, "w") as handle:           # nir.write cannot store scalar datasets compressed
        handle.create_dataset("version", data="1.0.8")
        top = handle.create_group("node")
        top.create_dataset("type", data="NIRGraph")
        group = top.create_group("nodes")
        for name, node in nodes.items():
            g = group.create_group(name)
            for key, value in node.to_dict().items():
                if key != "metadata" and value is not None:
                    g.create_dataset(key, data=value if not isinstance(value, dict) else np.array([6]))
        top.create_dataset("edges", data=np.array(list(zip(order, order[1:])), dtype="S"))
    network = load_nir(path, dialect="nir", dt=DT)
    assert network.widths == (4, 6)
    np.testing.assert_allclose(network.layers[0].threshold, 0.5)
