"""A keyword model: a network plus its class names, front end and detector settings, and
`listen` (the host reference of the streaming firmware)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from ..errors import CheckpointError, SilifcError
from ..io.inputs import load_input
from ..io.models import load_model, resolve_model
from ..io.native import read_native
from ..pipeline import Artifacts, Options, run_pipeline
from ..passes.quantize import DEFAULT_HEADROOM
from .audio.frontend import FrontEnd, FrontEndConfig
from .detector import DetectorConfig, DetectorParams
from .stream import StreamTrace, run_stream

KWS_CLASSES = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "unknown", "silence")
KWS_KEYWORDS = 10
BUNDLED_DIR = "kws"
BUNDLED_MODEL = "kws_silif.pt"
_CLASS_NAME = re.compile(r"[A-Za-z0-9_-]{1,31}\Z")
RANDOM_CALIBRATION = "seeded random events"   # KwsModel.calibration without a calibration file


class KwsError(SilifcError):
    pass


def bundled_path(name: str) -> Path:
    """A file of models/kws/ (the bundled keyword model, its calibration data and stream)."""
    return Path(str(files("silifc.models") / BUNDLED_DIR / name))


def kws_model_path(value: str | None) -> Path:
    """A path, a bundled model name (`kws_silif.pt`), or None: the bundled keyword model."""
    return bundled_path(BUNDLED_MODEL) if value is None else resolve_model(value)


@dataclass(frozen=True, eq=False)
class KwsModel:
    path: Path
    quantized: object            # QuantNetwork
    classes: tuple[str, ...]
    keywords: int
    frontend: object             # FrontEndConfig
    detector: DetectorConfig
    calibration: str             # where the state formats were calibrated

    @property
    def step_ms(self) -> float:
        return self.frontend.step_ms

    @property
    def params(self) -> DetectorParams:
        return self.detector.params(len(self.classes), self.keywords, self.step_ms)

    def check_audio(self, pcm, source: str) -> np.ndarray:
        """Refuse audio shorter than one step (it would run no step and compare nothing)."""
        if len(pcm) < self.frontend.step_samples:
            raise KwsError(f"{source}: {len(pcm)} samples ({1000 * len(pcm) / self.frontend.sample_rate:.1f} ms) is "
                           f"shorter than one step of the model ({self.frontend.step_samples} samples = "
                           f"{self.step_ms:g} ms): nothing to listen to")
        return pcm

    def counts(self, pcm) -> np.ndarray:
        return FrontEnd(self.frontend).process(pcm)

    def listen(self, pcm) -> StreamTrace:
        """PCM (int16 [n], 16 kHz) -> the integer reference of the streaming firmware."""
        return run_stream(self.quantized, self.counts(pcm), self.params, self.classes,
                          self.frontend.step_samples, self.frontend.sample_rate)


def kws_settings(meta: dict, n_inputs: int, n_classes: int) -> dict:
    """classes, keywords, front end, detector and calibration file of a model: from its
    native meta["kws"] (written by bench/kws.py), else the keyword data set's defaults."""
    kws = dict(meta.get("kws", {}))
    classes = tuple(kws.get("classes", KWS_CLASSES if n_classes == len(KWS_CLASSES) else
                            [f"class{k}" for k in range(n_classes)]))
    keywords = int(kws.get("keywords", KWS_KEYWORDS if classes == KWS_CLASSES else n_classes))
    if len(classes) != n_classes:
        raise KwsError(f"the model has {n_classes} classes but its kws meta names {len(classes)}")
    bad = [name for name in classes if not _CLASS_NAME.match(str(name))]
    if bad:
        raise KwsError(f"class names must be 1-31 letters, digits, '_' or '-' (printed by the firmware): {bad}")
    frontend = FrontEndConfig.from_dict(kws["frontend"]) if "frontend" in kws else FrontEndConfig(bands=n_inputs)
    if frontend.bands != n_inputs:
        raise KwsError(f"the front end has {frontend.bands} bands but the model takes {n_inputs} inputs")
    detector = DetectorConfig(**kws.get("detector", {}))
    return {"classes": classes, "keywords": keywords, "frontend": frontend, "detector": detector,
            "calibration": kws.get("calibration")}


def load_kws_model(path: str | Path | None = None, weights: str = "int8", headroom: float | None = None,
                   calibration: str | Path | None = None, overrides: dict | None = None,
                   detector: DetectorConfig | None = None) -> KwsModel:
    """Load, fold and quantize a keyword model. Calibration: the given file, else the one its
    meta names (beside the model), else seeded random events (poor for audio: said so)."""
    path = kws_model_path(None if path is None else str(path))
    try:
        network, _, meta = read_native(path, overrides)
    except CheckpointError:               # the authors' format (no meta), or an error load_model names
        network, meta = load_model(path, overrides), {}
    if "kws" not in meta:
        raise KwsError(f"{path} is not a keyword-spotting model: it carries no keyword-app settings (the 'kws' "
                       f"entry of a native model's meta: class names, audio front end, detector), so its "
                       f"{network.n_inputs} inputs are not audio bands. --wav/--audio and `silifc listen` need a "
                       "keyword model such as kws_silif.pt (bench/kws.py trains one); for spike inputs use "
                       "`silifc run MODEL --input FILE`")
    settings = kws_settings(meta, network.n_inputs, network.widths[-1])
    if calibration is None and settings["calibration"]:
        calibration = path.parent / settings["calibration"]
    counts = None
    if calibration is not None:
        counts = load_input(str(calibration), network.n_inputs, network.config).counts
    options = Options(weights=weights, headroom=DEFAULT_HEADROOM if headroom is None else headroom,
                      calibration=counts)
    quantized = run_pipeline(Artifacts(source=path, network=network), options, until="quantize").quantized
    return KwsModel(path=path, quantized=quantized, classes=settings["classes"], keywords=settings["keywords"],
                    frontend=settings["frontend"], detector=detector or settings["detector"],
                    calibration=str(calibration) if calibration is not None else RANDOM_CALIBRATION)
