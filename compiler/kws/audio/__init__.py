"""Audio for keyword spotting: the integer front end (16 kHz PCM -> spike counts), WAV
helpers, espeak-ng speech, the keyword data set and multi-keyword test streams.

    from silifc.kws.audio import FrontEnd, FrontEndConfig
    counts = FrontEnd(FrontEndConfig()).process(pcm_int16)     # uint8 [T, bands]

Submodules are imported lazily so that `silifc.kws.audio.frontend` needs only numpy.
"""
from __future__ import annotations

from .frontend import FrontEnd, FrontEndConfig, FrontEndConstants, design, frontend_counts
from .wav import AudioFormatError, read_wav, write_wav

__all__ = ["FrontEnd", "FrontEndConfig", "FrontEndConstants", "design", "frontend_counts",
           "AudioFormatError", "read_wav", "write_wav", "make_kws_dataset", "KwsSpec", "make_keyword_stream"]


def __getattr__(name):
    if name in ("make_kws_dataset", "KwsSpec", "KwsDataset"):
        from . import dataset

        return getattr(dataset, name)
    if name in ("make_keyword_stream", "KeywordStream"):
        from . import stream

        return getattr(stream, name)
    raise AttributeError(f"module 'silifc.kws.audio' has no attribute {name!r}")
