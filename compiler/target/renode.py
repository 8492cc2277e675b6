"""Build the Renode self-check firmware (silifc.codegen.renode) and run its .robot test
where Renode is installed (it is not installable on the CI machines)."""
from __future__ import annotations

import shutil
import subprocess  # noqa: F401  (the CompletedProcess it returns)

from ..codegen.emit import Project
from ..codegen.renode import ELF_NAME, RenodeFiles
from ..errors import SilifcError
from .processes import run_child
from .toolchain import FirmwareImage, build_firmware


def renode_available() -> bool:
    """True if a `renode` binary is on PATH (Renode is optional: QEMU is the test emulator)."""
    return shutil.which("renode") is not None


def build_renode_firmware(project: Project, files: RenodeFiles) -> FirmwareImage:
    return build_firmware([*files.sources, *project.model_sources], [files.directory, *project.include_dirs],
                          project.plan.board, files.directory / "build", name=ELF_NAME)


def run_robot(files: RenodeFiles, timeout: float = 600) -> subprocess.CompletedProcess:
    """Runs the .robot test with renode-test (only where Renode is installed)."""
    tester = shutil.which("renode-test")
    if tester is None:
        raise SilifcError("renode-test is not on PATH: install Renode to run the generated .robot tests")
    return run_child([tester, str(files.robot)], cwd=files.directory, text=True, timeout=timeout)
