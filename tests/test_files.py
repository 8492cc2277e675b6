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
