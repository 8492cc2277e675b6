"""io.files.write_generated, the one writer of generated folders (issue 18): parts, the
manifest, files moving between parts across silifc versions."""
from __future__ import annotations

import pytest

from silifc.io.files import OutputFolderError, generated_files, remove_generated, write_generated

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
