"""Files silifc writes: generated project folders, temporary folders, caches.

Generated folders (`write_generated`): every project writer (the model project, the
Renode files, the keyword app, a build's outputs) hands its files to this one helper,
which keeps a manifest, `.silifc-manifest.json`, of what silifc wrote there and each
file's sha256, grouped by part ("model", "renode", "audio", ...). The rules:

* a file silifc did not write is never overwritten or removed: a collision refuses the
  whole write before anything changes (an identical file is adopted, not rewritten);
* a file silifc wrote but the user changed since is not overwritten either (refused,
  naming it), except in parts marked regenerable (build outputs, which `make` rewrites);
* folders under the cache (<cache>/builds/...) are silifc's whole: anything there may be replaced,
  and a file no part records in a subfolder silifc writes (left by a silifc that kept no
  manifest) is removed, since the generated build files compile whatever runtime/src holds;
* files a part wrote last time and no longer produces are removed (stale sources of an
  earlier --prefix must not build);
* each file is replaced atomically (temporary name + rename), and the manifest lists
  both the old and the new digest while files change, so an interrupted write leaves a
  folder that the next write recognises; unchanged files keep their timestamps, so
  make-based rebuilds stay incremental.

Temporary folders (`temp_folder`) live under <cache>/tmp, are named after the process,
are removed on every exit path that runs Python code, and folders left by a killed
process are removed by the next silifc that starts one.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Iterator, Mapping

import numpy as np

from ..errors import SilifcError

MANIFEST_NAME = ".silifc-manifest.json"
_MANIFEST_FORMAT = "silifc-generated-files"
_TMP_MARK = ".silifc-tmp-"


class OutputFolderError(SilifcError):
    """An output folder cannot be written safely (a file of the user's is in the way, the path is
    a file, or the folder is not writable)."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _as_bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else bytes(content)


def _os_error(path: Path, exc: OSError, doing: str) -> OutputFolderError:
    reason = exc.strerror or str(exc)
    hint = ("choose a folder you can write to with -o/--output" if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
            else "free some space" if exc.errno == errno.ENOSPC else "check the path")
    return OutputFolderError(f"cannot {doing} {path} ({reason}); {hint}")


def write_if_changed(path: str | Path, text: str) -> bool:
    """Write `text` to `path` (creating folders) unless it already holds exactly that text, by a
    temporary file and a rename. Returns True when the file was written. For a single file that
    belongs to silifc (a cache entry); project folders go through `write_generated`."""
    path = Path(path)
    data = _as_bytes(text)
    try:
        if path.is_file() and path.read_bytes() == data:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace_atomically(path, data)
    except OSError as exc:
        raise _os_error(path, exc, "write") from None
    return True


def _replace_atomically(path: Path, data: bytes) -> None:
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}{_TMP_MARK}", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------- generated folders

def _check_relative(relative: str) -> str:
    pure = PurePosixPath(relative)
    if pure.is_absolute() or not pure.parts or ".." in pure.parts or relative != pure.as_posix():
        raise ValueError(f"generated file path {relative!r} must be a plain relative path")
    if pure.name == MANIFEST_NAME:
        raise ValueError(f"generated file path {relative!r} is reserved")
    return relative


def _read_manifest(root: Path) -> dict | None:
    """The manifest's parts {part: {"regenerable": bool, "files": {path: [sha256, ...]}}}, or None
    when the folder has none (or one that cannot be read: then nothing in it is known to be ours)."""
    path = root / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != _MANIFEST_FORMAT or not isinstance(data.get("parts"), dict):
        return None
    parts = {}
    for name, part in data["parts"].items():
        if not isinstance(part, dict) or not isinstance(part.get("files"), dict):
            return None
        files = {rel: [h for h in (hashes if isinstance(hashes, list) else [hashes]) if isinstance(h, str)]
                 for rel, hashes in part["files"].items() if isinstance(rel, str)}
        parts[str(name)] = {"regenerable": bool(part.get("regenerable", False)), "files": files}
    return parts


def _write_manifest(root: Path, parts: dict) -> None:
    data = {"format": _MANIFEST_FORMAT, "version": 1,
            "note": "files silifc generated here (sha256); silifc never overwrites or removes other files",
            "parts": {name: {"regenerable": part["regenerable"],
                             "files": {rel: hashes for rel, hashes in sorted(part["files"].items())}}
                      for name, part in sorted(parts.items())}}
    _replace_atomically(root / MANIFEST_NAME, (json.dumps(data, indent=1) + "\n").encode())


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One writer at a time per folder (concurrent builds share cache folders): a lock on the
    folder itself, so no lock file is left in it."""
    handle = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


def _prepare_root(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise OutputFolderError(f"{root} is a file, not a folder; give -o/--output a folder name "
                                "(silifc creates it) and leave the file where it is")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(root, exc, "create the folder") from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise OutputFolderError(f"cannot write into {root} (permission denied); choose a folder you can write "
                                "to with -o/--output")


def _current_hash(path: Path) -> str | None:
    try:
        return _sha256(path.read_bytes()) if path.is_file() else None
    except OSError:
        return None


def write_generated(root: str | Path, files: Mapping[str, str | bytes], part: str,
                    regenerable: bool = False) -> dict[str, Path]:
    """Make `root` hold exactly `files` (relative path -> text or bytes) for `part`, by the rules of
    the module docstring. Returns relative path -> written path. Raises OutputFolderError, before
    changing anything, when a file that is not silifc's (or that the user changed) is in the way."""
    root = Path(root)
    wanted = {_check_relative(rel): _as_bytes(content) for rel, content in files.items()}
    _prepare_root(root)
    try:
        with _locked(root):
            return _write_locked(root, wanted, part, regenerable)
    except OSError as exc:
        raise _os_error(root, exc, "write into") from None


def remove_generated(root: str | Path, part: str) -> None:
    """Remove the files `part` wrote in `root` (those still as silifc wrote them)."""
    root = Path(root)
    if not (root / MANIFEST_NAME).is_file():
        return
    try:
        with _locked(root):
            parts = _read_manifest(root) or {}
            if part in parts:
                _write_locked(root, {}, part, parts[part]["regenerable"])
    except OSError as exc:
        raise _os_error(root, exc, "clean up") from None


def _in_cache(root: Path) -> bool:
    """Folders under the cache belong to silifc whole (also those an older silifc wrote without a
    manifest): everything in them may be replaced."""
    try:
        return root.resolve().is_relative_to(cache_dir().resolve())
    except SilifcError:
        return False


def _write_locked(root: Path, wanted: dict[str, bytes], part: str, regenerable: bool) -> dict[str, Path]:
    owned = _in_cache(root)
    parts = _read_manifest(root) or {}
    owner = {rel: name for name, entry in parts.items() for rel in entry["files"]}
    previous = dict(parts.get(part, {"regenerable": regenerable, "files": {}})["files"])
    for rel in sorted(wanted):
        if owner.get(rel, part) != part:
            # Another part wrote it (an older silifc grouped the files differently): this part
            # takes it over with that record, so an edit of the user's is still recognised.
            previous[rel] = parts[owner[rel]]["files"].pop(rel)
            if not parts[owner[rel]]["files"]:
                del parts[owner[rel]]
    foreign, edited, to_write = [], [], []
    for rel, data in sorted(wanted.items()):
        path = root / rel
        for parent in PurePosixPath(rel).parents:
            if str(parent) != "." and (root / parent).exists() and not (root / parent).is_dir():
                foreign.append(f"{root / parent} (a file where silifc needs a folder)")
        if path.is_dir():
            foreign.append(f"{path} (a folder where silifc writes a file)")
            continue
        current = _current_hash(path)
        new = _sha256(data)
        if current == new:
            continue                                  # already this content: adopt, keep the timestamp
        if current is not None or path.is_symlink():
            if rel not in previous and not owned:
                foreign.append(str(path))
            elif rel in previous and current not in previous[rel] and not (regenerable or owned):
                edited.append(str(path))
        to_write.append(rel)
    stale = [rel for rel in sorted(previous) if rel not in wanted]
    if owned:
        stale += _unrecorded(root, wanted, set(owner) | set(previous))   # owner: every part's record
    for rel in stale:
        current = _current_hash(root / rel)
        if not (regenerable or owned) and current is not None and current not in previous[rel]:
            edited.append(f"{root / rel} (no longer generated)")
    if foreign:
        raise OutputFolderError(
            f"{root} holds file(s) silifc did not write where it would write its own: {_some(foreign)}"
            ". silifc never overwrites files it did not write: move them away, or choose an empty or new "
            "folder with -o/--output")
    if edited:
        raise OutputFolderError(
            f"file(s) silifc generated in {root} were changed since: {_some(edited)}"
            ". silifc does not overwrite your changes: copy them elsewhere and delete the file(s), or "
            "compile into another folder")
    # Pending manifest: old and new digests are both "ours" while files change.
    pending = {rel: sorted(set(previous.get(rel, [])) | ({_sha256(wanted[rel])} if rel in wanted else set()))
               for rel in set(previous) | set(wanted)}
    parts[part] = {"regenerable": regenerable, "files": pending}
    _write_manifest(root, parts)
    for rel in to_write:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace_atomically(path, wanted[rel])
    for rel in stale:
        path = root / rel
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        _remove_empty_parents(root, path.parent)
    final = {rel: [_sha256(data)] for rel, data in wanted.items()}
    if final:
        parts[part] = {"regenerable": regenerable, "files": final}
    else:
        parts.pop(part, None)
    _write_manifest(root, parts)
    return {rel: root / rel for rel in wanted}


def _some(paths: list[str], shown: int = 8) -> str:
    """The first `shown` paths of an error message, and how many more there are."""
    more = len(paths) - shown
    return ", ".join(paths[:shown]) + (f" and {more} more" if more > 0 else "")


def _unrecorded(root: Path, wanted: dict[str, bytes], recorded: set[str]) -> list[str]:
    """Files in the subfolders (not root itself) that hold wanted files, which neither this write
    nor any part's record names: in a cache folder, leftovers of a silifc without a manifest."""
    folders = {PurePosixPath(rel).parent for rel in wanted} - {PurePosixPath(".")}
    found = []
    for folder in sorted(folders):
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            for entry in (root / folder).iterdir():
                rel = str(folder / entry.name)
                if entry.is_file() and not entry.is_symlink() and rel not in wanted and rel not in recorded:
                    found.append(rel)
    return sorted(found)


def _remove_empty_parents(root: Path, folder: Path) -> None:
    """Remove folders emptied by stale-file removal, up to (not including) root."""
    root = root.resolve()
    folder = folder.resolve()
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def check_output_folder(root: str | Path) -> Path:
    """Refuse, before any work, an output folder path that names a file or cannot be created or
    written (the nearest existing folder above it is checked)."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise OutputFolderError(f"{root} is a file, not a folder; give -o/--output a folder name "
                                "(silifc creates it) and leave the file where it is")
    existing = root
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputFolderError(f"{root}: {existing} is a file, so the folder cannot be created")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputFolderError(f"cannot write into {existing} (permission denied); choose a folder you can "
                                "write to with -o/--output")
    return root


def check_result_path(path: str | Path, suffix: str = ".npz") -> Path:
    """Refuse, before any work, a results file path that would not be written as given: another
    suffix (numpy would append its own), a missing or unwritable folder, a folder."""
    path = Path(path)
    if path.suffix.lower() != suffix:
        raise OutputFolderError(f"--out {path}: results are written as a {suffix} archive; name the file "
                                f"{path.with_suffix(suffix).name if path.suffix else path.name + suffix}")
    if path.is_dir():
        raise OutputFolderError(f"--out {path} is a folder; give a file name ending in {suffix}")
    folder = path.parent
    if not folder.is_dir():
        raise OutputFolderError(f"--out {path}: the folder {folder} does not exist; create it first "
                                "(silifc does not create folders for single result files)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputFolderError(f"--out {path}: cannot write into {folder} (permission denied)")
    return path


def write_file_atomically(path: str | Path, data: bytes) -> Path:
    """Write one file (one the user named, e.g. --out results.npz, or a cache entry) by a temporary
    file of a unique name and a rename, so an interrupted write never leaves half a file under that
    name, and processes writing the same cache entry at once never see one either."""
    path = Path(path)
    try:
        _replace_atomically(path, data)
    except OSError as exc:
        raise _os_error(path, exc, "write") from None
    return path


def save_npy_atomically(path: str | Path, array) -> Path:
    """numpy.save(path, array), by write_file_atomically (numpy's own save writes in place)."""
    buffer = io.BytesIO()
    np.save(buffer, array)
    return write_file_atomically(path, buffer.getvalue())


def save_npz_atomically(path: str | Path, compressed: bool = True, **arrays) -> Path:
    """numpy.savez[_compressed](path, **arrays), by write_file_atomically; written to memory first,
    which also keeps numpy from appending .npz to a name that does not end in it."""
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return write_file_atomically(path, buffer.getvalue())


def generated_files(root: str | Path, part: str | None = None) -> list[str]:
    """Relative paths the manifest of `root` records (of one part, or all)."""
    parts = _read_manifest(Path(root)) or {}
    return sorted(rel for name, entry in parts.items() if part in (None, name) for rel in entry["files"])


# ---------------------------------------------------------------- cache and temporary folders

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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_orphaned_temp_folders(base: Path) -> list[Path]:
    """Remove temp folders in `base` whose process (the pid in the name) has ended: what a
    SIGKILLed silifc left behind. Returns the removed folders."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in base.iterdir():
            head = entry.name.split("-", 1)[0]
            if entry.is_dir() and head.isdigit() and int(head) != os.getpid() and not _pid_alive(int(head)):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed


@contextlib.contextmanager
def temp_folder(purpose: str = "work") -> Iterator[Path]:
    """A fresh folder <cache>/tmp/<pid>-<purpose>-XXXX, removed when the block exits by any path
    (return, exception, Ctrl-C, the SIGTERM handler of the CLI); folders of dead processes are
    swept on the way in."""
    base = cache_dir() / "tmp"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(base, exc, "create the folder") from None
    sweep_orphaned_temp_folders(base)
    path = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{purpose}-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
