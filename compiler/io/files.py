"""Files silifc writes: generated sources, caches.

`write_if_changed` keeps an unchanged file's timestamp, so that make-based rebuilds of a
regenerated project stay incremental; `cache_dir` is the one place every cache (builds,
plugins, keyword data sets) lives under.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import SilifcError


def write_if_changed(path: str | Path, text: str) -> bool:
    """Write `text` to `path` (creating folders) unless it already holds exactly that text.
    Returns True when the file was written."""
    path = Path(path)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def cache_dir() -> Path:
    """$SILIFC_CACHE, else $XDG_CACHE_HOME/silifc, else ~/.cache/silifc (created if missing)."""
    if os.environ.get("SILIFC_CACHE"):
        path = Path(os.environ["SILIFC_CACHE"])
    elif os.environ.get("XDG_CACHE_HOME"):
        path = Path(os.environ["XDG_CACHE_HOME"]) / "silifc"
    else:
        path = Path.home() / ".cache" / "silifc"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SilifcError(f"cannot create the cache directory {path} ({exc.strerror}); "
                          f"point SILIFC_CACHE to a writable directory") from exc
    return path
