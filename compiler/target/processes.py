"""Child processes (gcc, QEMU, nm, addr2line, espeak-ng) that end when silifc ends.

Every child runs in a process group of its own, so that silifc can end it together with
whatever it started (gcc's cc1, as, collect2, ld): on a timeout, on Ctrl-C, on SIGTERM
(the CLI turns SIGTERM into `Terminated`) and on any other exception the whole group is
killed before the exception goes on. If silifc itself is killed (SIGKILL, nothing runs),
the kernel kills each child that was started with the parent-death signal set
(`prctl(PR_SET_PDEATHSIG)` on Linux); gcc's own subprocesses are wrapped the same way by
`DIE_WITH_PARENT_WRAPPER` (gcc -wrapper), so no compiler runs on for minutes.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
from typing import Sequence

_PR_SET_PDEATHSIG = 1


class Terminated(BaseException):
    """silifc received SIGTERM: unwinds like KeyboardInterrupt so that every cleanup runs."""


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _libc() if sys.platform.startswith("linux") else None


def _die_with_parent(parent: int):
    def setup() -> None:                 # runs in the child between fork and exec
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:       # the parent died before prctl took effect
            os._exit(1)
    return setup


def die_with_parent_wrapper() -> list[str]:
    """gcc options that run gcc's own subprocesses (cc1, as, collect2) under
    `setpriv --pdeathsig KILL`, so they end when the gcc driver is killed; [] where util-linux's
    setpriv is missing (they then finish their one file and exit)."""
    setpriv = shutil.which("setpriv") if _LIBC is not None else None
    return ["-wrapper", f"{setpriv},--pdeathsig,KILL"] if setpriv else []


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the child's whole process group (it leads one: start_new_session)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_child(command: Sequence[str], *, timeout: float | None = None, text: bool = False,
              stdin=subprocess.DEVNULL, cwd=None, env=None) -> subprocess.CompletedProcess:
    """subprocess.run(command, capture_output=True) whose process group dies with silifc (see the
    module docstring). Raises subprocess.TimeoutExpired after killing the group."""
    process = subprocess.Popen(list(command), stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=text, cwd=cwd, env=env, start_new_session=True,
                               preexec_fn=_die_with_parent(os.getpid()))
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        stdout, stderr = process.communicate()
        raise subprocess.TimeoutExpired(process.args, timeout, output=stdout, stderr=stderr) from None
    except BaseException:
        kill_group(process)
        process.wait()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def install_termination_handler() -> None:
    """Turn SIGTERM into `Terminated` in the main thread (the CLI calls this), so a terminated
    silifc kills its children and removes its temporary folders like an interrupted one."""
    def handler(signum, frame):
        raise Terminated()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)
