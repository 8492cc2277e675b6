"""Progress bars for long work (tqdm): emulation, batched references, training, data sets.

A bar shows on a terminal only (tqdm's disable=None: nothing on a pipe or in a log, where the
commands print their status lines instead). `FileWatch` turns a file that a long QEMU run
writes (the harness's result file, the keyword app's trace) into progress while the run is
under way.
"""
from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Callable


def bar(total: int | None, desc: str, unit: str = "it", enabled: bool = True, stream=None):
    """A tqdm progress bar on stderr (or `stream`), shown on a terminal unless enabled is False."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=stream or sys.stderr, disable=None if enabled else True,
                leave=False, dynamic_ncols=True)


class Reporter:
    """A callback (done, total) that keeps a bar up to date: the form the compiler's functions
    take. The bar opens on the first call and closes when done reaches total (or on close())."""

    def __init__(self, desc: str, unit: str = "it", enabled: bool = True):
        self.desc, self.unit, self.enabled = desc, unit, enabled
        self._bar = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = bar(total, self.desc, self.unit, self.enabled)
        if done > self._bar.n:
            self._bar.update(done - self._bar.n)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar = None


class FileWatch:
    """While the block runs, calls update(count(data)) with the data of `path` every `interval`
    seconds in a thread (a missing file counts as empty), and once more at the end."""

    def __init__(self, path: str | Path, count: Callable[[bytes], int], update: Callable[[int], None],
                 interval: float = 0.5):
        self.path, self.count, self.update, self.interval = Path(path), count, update, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _poll(self) -> None:
        try:
            data = self.path.read_bytes()
        except OSError:
            data = b""
        self.update(self.count(data))

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            self._poll()

    def __enter__(self) -> "FileWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._poll()
