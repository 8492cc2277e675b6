"""silifc check/run/listen --plot: the PNG files exist, are small, decode to the figure's size,
are not blank, and draw the numbers of the results they plot."""
from __future__ import annotations

import json

import numpy as np
import pytest

from silifc.cli import main

matplotlib = pytest.importorskip("matplotlib", reason="the plots extra (matplotlib) is part of the test extra")

from matplotlib.image import imread  # noqa: E402

from silifc.plots import DPI, SIZE, PlotError, plot_check, plot_listen, plot_run  # noqa: E402

TIMING = "timing_delays.pt"


def assert_png(path, min_bytes=8_000, max_bytes=150_000):
    """A small PNG of the figure's size with drawing in it (not one colour)."""
    assert path.is_file() and min_bytes < path.stat().st_size < max_bytes, path.stat().st_size
    pixels = imread(path)
    assert pixels.shape[:2] == (round(SIZE[1] * DPI), round(SIZE[0] * DPI))
    assert pixels[..., :3].std() > 0.05
    return pixels


@pytest.fixture(scope="module")
def timing():
    import silifc

    return silifc.load(TIMING).quantize()


@pytest.mark.unit
def test_check_plot_draws_the_reports_flip_rates_and_the_sample_raster(timing, tmp_path):
    check = timing.check()
    plot = plot_check(check, tmp_path / "check.png", sample=1)
    assert_png(plot.path)
    assert plot.series["flip_rate_percent"] == [100 * layer.flip_rate for layer in check.report.layers]
    assert plot.series["flip_rate_alone_percent"] == [100 * layer.flip_rate_alone for layer in check.report.layers]
    f = check.float_result.spikes[0][1].astype(bool)
    i = check.int_result.spikes[0][1].astype(bool)
    assert plot.series["spikes"] == {"both": int((f & i).sum()), "float only": int((f & ~i).sum()),
                                     "integer only": int((~f & i).sum())}
    with pytest.raises(PlotError, match="PNG"):
        plot_check(check, tmp_path / "check.svg")


@pytest.mark.unit
def test_listen_plot_marks_the_detections(tmp_path, capsys):
    from silifc.kws.audio.wav import read_wav
    from silifc.kws.model import load_kws_model

    model = load_kws_model()
    trace = model.listen(read_wav(model.path.parent / "stream.wav"))
    plot = plot_listen(trace, tmp_path / "listen.png", model.classes, model.keywords)
    assert_png(plot.path)
    assert plot.series["detections"] == [(d.word, d.time_ms) for d in trace.detections] and trace.detections
    assert plot.series["counts_shape"] == trace.counts.shape
    assert main(["listen", "--wav", str(model.path.parent / "stream.wav"), "--plot", str(tmp_path / "cli.png"),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["plot"] == str(tmp_path / "cli.png")
    assert_png(tmp_path / "cli.png")


@pytest.mark.firmware
def test_run_plot_stacks_the_phases_and_maps_the_memory(timing, tmp_path, capsys):
    run = timing.compile(board="nrf52840", output=tmp_path / "p").run(timing.inputs().counts[:3])
    plot = plot_run(run, tmp_path / "run.png")
    assert_png(plot.path)
    assert np.array_equal(plot.series["per_step"], run.profile.total_cycles)      # Cortex-M4: est. cycles
    flash, ram = plot.series["memory"]["flash"], plot.series["memory"]["ram"]
    assert sum(v for _, v in flash) == run.report.flash_used and sum(v for _, v in ram) == run.report.ram_used
    assert ("stack", run.board.stack_size) in ram
    assert sum(v for label, v in flash if "weights" in label) == sum(
        b.bytes for b in run.plan.buffers if b.name.endswith("_weight_data"))
    assert main(["run", TIMING, "--plot", str(tmp_path / "cli.png"), "--board", "mps2_an505", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["bit_exact"] and report["plot"] == str(tmp_path / "cli.png")
    assert_png(tmp_path / "cli.png")                                               # M33: instructions


@pytest.mark.unit
def test_check_plot_from_the_command_line(tmp_path, capsys):
    assert main(["check", TIMING, "--plot", str(tmp_path / "c.png")]) == 0
    assert f"plot   {tmp_path / 'c.png'}" in capsys.readouterr().out
    assert_png(tmp_path / "c.png")
