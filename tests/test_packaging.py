"""The project as a library in the ecosystems users build in: the plain-CMake library with its
arm-none-eabi toolchain file and the Makefile (a user's main.c against the public API, run in
QEMU, bit-exact), the Zephyr module and the Arduino library (Zephyr and Arduino cannot be
installed here: their build logic is exercised with stand-ins and every source is compiled
with the flags those ecosystems use)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

from silifc.codegen.boards import load_board

pytestmark = pytest.mark.firmware
DATA = Path(__file__).resolve().parent / "data" / "user_app"
ROOT = Path(__file__).resolve().parent.parent
BOARD = load_board("nrf52840")
needs_cmake = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")


@pytest.fixture(scope="module")
def kws_model():
    from silifc.kws.model import load_kws_model

    return load_kws_model()


@pytest.fixture(scope="module")
def kws_project(kws_model, tmp_path_factory):
    from silifc.kws.firmware import write_audio_project

    return write_audio_project(kws_model, BOARD, tmp_path_factory.mktemp("kws") / "project", prefix="kws")


def _cmake_build(source_dir: Path, project: Path, build: Path) -> None:
    """Configure with the project's toolchain file (the environment's CFLAGS add to its core flags,
    as they would for a user) and build."""
    import os

    subprocess.run(["cmake", "-S", str(source_dir), "-B", str(build), "-G", "Unix Makefiles",
                    f"-DCMAKE_TOOLCHAIN_FILE={project / 'cmake' / 'arm-none-eabi.cmake'}",
                    f"-DSILIFC_PROJECT={project}", "-DCMAKE_BUILD_TYPE=Release"], check=True, capture_output=True,
                   text=True, env={**os.environ, "CFLAGS": "-Wall -Wextra -Werror"})
    done = subprocess.run(["cmake", "--build", str(build), "-j", "2"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def _fnv(values) -> int:
    checksum = 2166136261
    for value in np.asarray(values, np.int64).ravel():
        checksum = ((checksum ^ (int(value) & 0xFFFFFFFF)) * 16777619) & 0xFFFFFFFF
    return checksum - (1 << 32) if checksum >= 1 << 31 else checksum


@needs_cmake
def test_keyword_firmware_from_the_cmake_library_and_a_short_main(kws_model, kws_project, tmp_path):
    """The user's main.c (tests/data/user_app/kws_main.c, 40 lines with comments) on the kws_kws
    CMake target, cross-compiled with the shipped toolchain file: the same detections as the
    integer reference, and every step's probabilities (a checksum over all of them)."""
    from silifc.kws.audio.wav import read_wav
    from silifc.target.qemu import run_firmware

    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(DATA / "kws_main.c", app / "main.c")
    shutil.copy(DATA / "kws_CMakeLists.txt", app / "CMakeLists.txt")
    _cmake_build(app, kws_project.directory, tmp_path / "build")
    wav = kws_model.path.parent / "stream.wav"
    run = run_firmware(tmp_path / "build" / "kws_demo.elf", BOARD, args=[str(wav)], check=True)
    assert run.exit_status == 0, run.stdout
    reference = kws_model.listen(read_wav(wav))
    lines = run.stdout.strip().splitlines()
    assert lines[:-1] == [d.line() for d in reference.detections] and reference.detections
    assert lines[-1] == f"steps {reference.steps} checksum {_fnv(reference.probabilities)}"


@pytest.fixture(scope="module")
def model_project(tmp_path_factory):
    import silifc

    out = tmp_path_factory.mktemp("model") / "project"
    q = silifc.load("timing_delays.pt").quantize()
    q.compile(board=BOARD, output=out)
    return q, out


def _expected_model_main(quantized) -> str:
    """What tests/data/user_app/model_main.c prints, from the integer reference."""
    from silifc.reference.int_ref import run_int

    counts = np.zeros((1, 30, quantized.n_inputs), np.int64)
    for t in range(30):
        counts[0, t, t % quantized.n_inputs] += 1
        if t % 3 == 0:
            counts[0, t, (3 * t) % quantized.n_inputs] += 1
    reference = run_int(quantized, counts)
    return " ".join(map(str, reference.outputs[0])) + f" decision {reference.decisions[0]}"


@needs_cmake
def test_a_users_main_on_the_model_library_with_cmake_and_with_the_makefile(model_project, tmp_path):
    from silifc.target.qemu import run_firmware

    q, project = model_project
    expected = _expected_model_main(q.quantized)
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(DATA / "model_main.c", app / "main.c")
    shutil.copy(DATA / "model_CMakeLists.txt", app / "CMakeLists.txt")
    _cmake_build(app, project, tmp_path / "build")
    run = run_firmware(tmp_path / "build" / "model_demo.elf", BOARD, check=True)
    assert run.exit_status == 0 and run.stdout.strip() == expected
    subprocess.run(["make", "-s", "-B", "-C", str(project), f"APP={DATA / 'model_main.c'}"], check=True,
                   capture_output=True)
    run = run_firmware(project / "build" / "firmware.elf", BOARD, check=True)
    assert run.exit_status == 0 and run.stdout.strip() == expected


# ---------------------------------------------------------------- Zephyr

# Stand-ins for the Zephyr build functions the module's CMakeLists.txt calls: they record what
# the module asks for, and the script prints it (cmake -P, no Zephyr needed).
ZEPHYR_STANDIN = r'''
set(SOURCES "")
set(INCLUDES "")
set(DEFINES "")
function(zephyr_library_named name)
  set(LIBRARY ${name} PARENT_SCOPE)
endfunction()
macro(zephyr_library_sources)
  list(APPEND SOURCES ${ARGN})
endmacro()
macro(zephyr_include_directories)
  list(APPEND INCLUDES ${ARGN})
endmacro()
macro(zephyr_library_compile_definitions)
  list(APPEND DEFINES ${ARGN})
endmacro()
macro(zephyr_compile_definitions)
  list(APPEND DEFINES ${ARGN})
endmacro()
include(${MODULE}/zephyr/CMakeLists.txt)
foreach(item ${SOURCES})
  message("source ${item}")
endforeach()
foreach(item ${INCLUDES})
  message("include ${item}")
endforeach()
foreach(item ${DEFINES})
  message("define ${item}")
endforeach()
'''

# Zephyr's include/zephyr/toolchain/zephyr_stdint.h makes int32_t an int (newlib: long) on every
# architecture; code that mixes int32_t and long breaks there. The same redefinitions:
ZEPHYR_STDINT = """#undef __INT32_TYPE__
#undef __UINT32_TYPE__
#undef __INT_LEAST32_TYPE__
#undef __UINT_LEAST32_TYPE__
#undef __INT64_TYPE__
#undef __UINT64_TYPE__
#define __INT32_TYPE__ int
#define __UINT32_TYPE__ unsigned int
#define __INT_LEAST32_TYPE__ __INT32_TYPE__
#define __UINT_LEAST32_TYPE__ __UINT32_TYPE__
#define __INT64_TYPE__ long long int
#define __UINT64_TYPE__ long long unsigned int
"""

# The C flags of a Zephyr application for a Cortex-M4 (nrf52840dk) with GCC, warnings as errors
# (CONFIG_COMPILER_WARNINGS_AS_ERRORS), as Zephyr's cmake/compiler/gcc and arch/arm files set them.
ZEPHYR_CFLAGS = ("-DKERNEL", "-D__ZEPHYR__=1", "-D_FORTIFY_SOURCE=1", "-D__PROGRAM_START", "-ffreestanding",
                 "-fno-common", "-g", "-gdwarf-4", "-Os", "-mcpu=cortex-m4", "-mthumb", "-mabi=aapcs",
                 "-mfp16-format=ieee", "-mtp=soft", "-Wall", "-Wformat", "-Wformat-security",
                 "-Wno-format-zero-length", "-Wdouble-promotion", "-Wno-pointer-sign", "-Wpointer-arith",
                 "-Wexpansion-to-defined", "-Wno-unused-but-set-variable", "-Werror=implicit-int", "-fno-pic",
                 "-fno-pie", "-fno-asynchronous-unwind-tables", "-fno-reorder-functions", "-fno-defer-pop",
                 "-ffunction-sections", "-fdata-sections", "-std=c99", "-Werror")


@needs_cmake
def test_zephyr_module_kconfig_cmake_and_sources(kws_project, tmp_path):
    """module.yml names the build files; Kconfig parses with Zephyr's parser (kconfiglib) and its
    autoconf.h drives the module's CMakeLists.txt (run by cmake with stand-ins for Zephyr's
    functions); every source it lists compiles with Zephyr's flags, zephyr_stdint.h and autoconf.h."""
    kconfiglib = pytest.importorskip("kconfiglib", reason="kconfiglib is part of the test extra")
    module = kws_project.directory
    meta = yaml.safe_load((module / "zephyr" / "module.yml").read_text())
    assert meta["build"] == {"cmake": "zephyr", "kconfig": "zephyr/Kconfig"}
    assert (module / meta["build"]["kconfig"]).is_file() and (module / meta["build"]["cmake"] / "CMakeLists.txt").is_file()
    kconfig = kconfiglib.Kconfig(str(module / "zephyr" / "Kconfig"), warn_to_stderr=False)
    symbols = kconfig.syms
    assert {"KWS_MODEL", "KWS_WEIGHTS_SECTION", "KWS_WEIGHTS_ALIGN", "KWS_USE_DSP", "KWS_KWS"} <= set(symbols)
    assert symbols["KWS_KWS"].str_value == "n"                          # hidden until the model is enabled
    for name, value in (("KWS_MODEL", "y"), ("KWS_WEIGHTS_SECTION", ".extflash"), ("KWS_WEIGHTS_ALIGN", "16")):
        assert symbols[name].set_value(value), name
    assert symbols["KWS_KWS"].str_value == "y" and not kconfig.warnings
    kconfig.write_autoconf(str(tmp_path / "autoconf.h"))             # what the C sees (-imacros)
    kconfig.write_config(str(tmp_path / ".config"))                   # what Zephyr's CMake imports
    config = dict(line.split("=", 1) for line in (tmp_path / ".config").read_text().splitlines()
                  if line.startswith("CONFIG_"))
    script = tmp_path / "standin.cmake"
    script.write_text(ZEPHYR_STANDIN)
    cmake_config = [f"-D{name}={value.strip(chr(34))}" for name, value in config.items()]
    done = subprocess.run(["cmake", *cmake_config, f"-DMODULE={module}", "-P", str(script)], capture_output=True,
                          text=True, check=True)
    listed = [line.split(" ", 1) for line in done.stderr.splitlines() if line.startswith(("source ", "include ", "define "))]
    sources = [Path(v) for k, v in listed if k == "source"]
    includes = [Path(v) for k, v in listed if k == "include"]
    defines = [v for k, v in listed if k == "define"]
    assert {s.name for s in sources} >= {"kws_model.c", "kws_kws.c", "slf_frontend_step_s16.c", "slf_softmax_q16.c"}
    assert defines == ["SLF_USE_DSP=1", 'KWS_WEIGHTS_SECTION=".extflash"', "KWS_WEIGHTS_ALIGN=16"]   # Kconfig's defaults and choices
    (tmp_path / "zephyr_stdint.h").write_text(ZEPHYR_STDINT)
    objects = tmp_path / "objects"
    objects.mkdir()
    for source in sources:
        done = subprocess.run(["arm-none-eabi-gcc", *ZEPHYR_CFLAGS, "-imacros", str(tmp_path / "autoconf.h"),
                               "-imacros", str(tmp_path / "zephyr_stdint.h"), *(f"-D{d}" for d in defines),
                               *(f"-I{i}" for i in includes), "-c", str(source), "-o", str(objects / f"{source.stem}.o")],
                              capture_output=True, text=True)
        assert done.returncode == 0, f"{source.name}:\n{done.stderr}"
    table = subprocess.run(["arm-none-eabi-objdump", "-t", str(objects / "kws_model.o")], capture_output=True,
                           text=True, check=True).stdout
    assert ".extflash" in table and "kws_l0_weight_data" in table          # the Kconfig placement took effect


# ---------------------------------------------------------------- Arduino

# The C flags of the Arduino cores for nRF52840 boards, with the IDE's warnings set to "All"
# (-Wall -Wextra) and made errors here: ArduinoCore-mbed (Nano 33 BLE; soft-float calls with
# FPU instructions) and Adafruit's nRF52 core (hard-float ABI).
ARDUINO_FLAGS = {
    "mbed-nano33ble": ("-c", "-std=gnu11", "-Os", "-g", "-mcpu=cortex-m4", "-mfloat-abi=softfp", "-mfpu=fpv4-sp-d16",
                       "-mthumb", "-fdata-sections", "-ffunction-sections", "-fmessage-length=0", "-fno-exceptions",
                       "-fomit-frame-pointer", "-funsigned-char", "-nostdlib", "-Wall", "-Wextra", "-Werror"),
    "adafruit-nrf52": ("-c", "-std=gnu11", "-Os", "-g", "-mcpu=cortex-m4", "-mthumb", "-mabi=aapcs",
                       "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-ffunction-sections", "-fdata-sections",
                       "-nostdlib", "--param", "max-inline-insns-single=500", "-Wall", "-Wextra", "-Werror"),
}

# Just what the example sketch uses of the Arduino core (Serial, micros), to compile it as C++.
ARDUINO_STANDIN = """#pragma once
#include <stdint.h>
#include <stddef.h>
struct SerialStandIn {
    void begin(unsigned long) {}
    explicit operator bool() const { return true; }
    void print(const char *) {}
    void println(const char *) {}
    void println(unsigned long) {}
};
extern SerialStandIn Serial;
unsigned long micros(void);
"""


@pytest.mark.parametrize("core", sorted(ARDUINO_FLAGS))
def test_arduino_library_sources_compile_with_the_cores_flags(kws_model, tmp_path, core):
    """The Arduino layout with the keyword library: library.properties names the headers, every
    source is in src/ (the only include path Arduino adds), each compiles with the core's flags,
    and the example sketch compiles as C++ (extern "C" header)."""
    from silifc.codegen.package import write_arduino_library
    from silifc.kws.firmware import kws_compile_options, kws_library_files

    library = write_arduino_library(kws_model.quantized, kws_compile_options(kws_model, BOARD, "kws"),
                                    tmp_path / "kws_model", extra_files=kws_library_files(kws_model, BOARD, "kws"))
    properties = dict(line.split("=", 1) for line in (library.directory / "library.properties").read_text().splitlines()
                      if "=" in line and not line.startswith("#"))
    assert properties["name"] == "kws_model" and properties["includes"] == "kws_model.h,kws_kws.h"
    assert {"version", "author", "maintainer", "sentence", "paragraph", "category", "architectures"} <= set(properties)
    src = library.directory / "src"
    assert {p.name for p in src.iterdir()} >= {"kws_model.h", "kws_kws.h", "silifc.h", "slf_detect.h",
                                                 "slf_frontend_step_s16.c"}
    for source in library.sources:
        done = subprocess.run(["arm-none-eabi-gcc", *ARDUINO_FLAGS[core], f"-I{src}", str(source), "-o",
                               str(tmp_path / f"{source.stem}.o")], capture_output=True, text=True)
        assert done.returncode == 0, f"{source.name}:\n{done.stderr}"
    (tmp_path / "standin").mkdir()
    (tmp_path / "standin" / "Arduino.h").write_text(ARDUINO_STANDIN)
    sketch = tmp_path / "sketch.cpp"
    sketch.write_text(library.example.read_text())
    done = subprocess.run(["arm-none-eabi-g++", "-c", "-std=gnu++14", "-fno-rtti", "-fno-exceptions", "-Os",
                           "-mcpu=cortex-m4", "-mthumb", "-Wall", "-Wextra", "-Werror", f"-I{tmp_path / 'standin'}",
                           f"-I{src}", str(sketch), "-o", str(tmp_path / "sketch.o")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
