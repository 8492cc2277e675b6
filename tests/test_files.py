"""io.files.write_generated, the one writer of generated folders (issue 18): parts, the
manifest, files moving between parts across silifc versions; cache entries written by several
processes at once (the parallel test run, two silifc commands)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from silifc.io.files import (OutputFolderError, generated_files, remove_generated, save_npy_atomically,
                             save_npz_atomically, write_generated)

pytestmark = pytest.mark.unit


def test_a_file_moves_to_another_part_and_an_edit_is_still_recognised(tmp_path):
    """An older silifc wrote runtime/frontend as part 'frontend'; today's writes it as 'kws'."""
    write_generated(tmp_path, {"runtime/frontend/a.h": "a\n", "runtime/frontend/b.h": "b\n"}, part="frontend")
    write_generated(tmp_path, {"runtime/frontend/a.h": "a2\n", "kws/k.c": "k\n"}, part="kws")
    assert generated_files(tmp_path, "kws") == ["kws/k.c", "runtime/frontend/a.h"]
    assert generated_files(tmp_path, "frontend") == ["runtime/frontend/b.h"]
    assert (tmp_path / "runtime/frontend/a.h").read_text() == "a2\n"
    remove_generated(tmp_path, "frontend")
    assert not (tmp_path / "runtime/frontend/b.h").exists() and (tmp_path / "runtime/frontend/a.h").is_file()
    write_generated(tmp_path, {"app/x.c": "x\n"}, part="app")
    (tmp_path / "app/x.c").write_text("the user's edit\n")
    with pytest.raises(OutputFolderError, match="changed since.*app/x.c"):
        write_generated(tmp_path, {"app/x.c": "x2\n"}, part="other")
    assert (tmp_path / "app/x.c").read_text() == "the user's edit\n"
    assert generated_files(tmp_path, "app") == ["app/x.c"]          # the refused write changed no record


def test_a_users_file_in_the_way_refuses_the_whole_write(tmp_path):
    (tmp_path / "Makefile").write_text("mine\n")
    with pytest.raises(OutputFolderError, match="did not write.*Makefile"):
        write_generated(tmp_path, {"a.c": "a\n", "Makefile": "ours\n"}, part="model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Makefile"]


def test_a_cache_folder_loses_files_no_silifc_record_names(tmp_path, monkeypatch):
    """A silifc that kept no manifest left runtime/src/old.c in a build folder; the generated build
    files compile whatever runtime/src holds, so the next write removes it. Root files, folders
    silifc does not write (build outputs) and every folder outside the cache are left alone."""
    monkeypatch.setenv("SILIFC_CACHE", str(tmp_path / "cache"))
    owned = tmp_path / "cache" / "builds" / "one"
    for root in (owned, tmp_path / "mine"):
        (root / "runtime/src").mkdir(parents=True)
        (root / "build").mkdir()
        for rel in ("runtime/src/old.c", "build/firmware.elf", "stamp.json"):
            (root / rel).write_text("left\n")
        write_generated(root, {"runtime/src/new.c": "new\n", "Makefile": "m\n"}, part="model")
        assert (root / "build/firmware.elf").is_file() and (root / "stamp.json").is_file()
    assert not (owned / "runtime/src/old.c").exists()
    assert (tmp_path / "mine/runtime/src/old.c").read_text() == "left\n"
    write_generated(owned, {"runtime/src/new.c": "new\n", "runtime/src/kws.c": "k\n"}, part="kws")
    assert (owned / "runtime/src/new.c").is_file()                  # recorded by another part: kept


def test_writers_of_one_cache_entry_at_once_never_show_or_leave_half_a_file(tmp_path):
    """Four writers save the same entry 25 times each while a reader loads it: every load is a
    whole array, and only the entry is left (each writer has a temporary file of its own)."""
    entry = tmp_path / "counts.npy"
    arrays = [np.full(200_000, k, np.uint8) for k in range(4)]
    save_npy_atomically(entry, arrays[0])

    def write(k):
        for _ in range(25):
            save_npy_atomically(entry, arrays[k])

    def read():
        seen = set()
        for _ in range(200):
            loaded = np.load(entry)
            assert loaded.shape == (200_000,) and loaded.min() == loaded.max()
            seen.add(int(loaded[0]))
        return seen

    with ThreadPoolExecutor(5) as pool:
        writers = [pool.submit(write, k) for k in range(4)]
        reader = pool.submit(read)
        for done in writers:
            done.result()
        assert reader.result() <= {0, 1, 2, 3}
    assert [p.name for p in tmp_path.iterdir()] == ["counts.npy"]


def test_npz_entry_keeps_its_name(tmp_path):
    """numpy.savez appends .npz to a name without it; the atomic writer keeps the name given."""
    path = save_npz_atomically(tmp_path / "windows.cache", compressed=False, a=np.arange(3))
    assert path == tmp_path / "windows.cache" and [p.name for p in tmp_path.iterdir()] == ["windows.cache"]
    assert np.load(path)["a"].tolist() == [0, 1, 2]
