import platform
import subprocess
import sys
from pathlib import Path

import pytest

from graphcon_ode import allocator

ROOT = Path(__file__).resolve().parents[2]
GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
BLOCK = 64 << 20
"""A 64 MiB block: larger than glibc's largest mmap threshold (32 MiB), the size of a [5·10⁵, 32] float32 tensor."""

REUSE = f"""
import ctypes, resource, sys
from graphcon_ode.allocator import keep_freed_memory
print(*[keep_freed_memory() for _ in range(int(sys.argv[1]))])
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, (ctypes.c_size_t,), (ctypes.c_void_p,)

def fill_and_free():
    block = libc.malloc({BLOCK})
    ctypes.memset(block, 1, {BLOCK})
    libc.free(block)

fill_and_free()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
fill_and_free()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def second_block_faults(calls: int) -> tuple[str, int]:
    """In a fresh process: what ``calls`` calls of keep_freed_memory() return, and the minor page faults of filling
    a 64 MiB block after one of the same size was filled and freed."""
    result = subprocess.run([sys.executable, "-c", REUSE, str(calls)], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    returned, faults = result.stdout.splitlines()
    return returned, int(faults)


@pytest.mark.skipif(not GLIBC, reason="the setting applies to glibc's malloc")
def test_on_glibc_a_freed_block_is_reused_instead_of_faulted_in_again():
    returned, kept = second_block_faults(1)
    _, default = second_block_faults(0)
    pages = BLOCK // 4096
    assert returned == "True"
    assert default >= pages // 2, "glibc maps a 64 MiB block afresh by default, one fault a page"
    assert kept < pages // 100


@pytest.mark.skipif(not GLIBC, reason="the setting applies to glibc's malloc")
def test_calling_it_again_is_harmless():
    returned, kept = second_block_faults(3)
    assert returned == "True True True"
    assert kept < BLOCK // 4096 // 100


def test_without_glibc_it_changes_nothing_and_returns_false(monkeypatch):
    monkeypatch.setattr(allocator, "_glibc", lambda: None)
    assert allocator.keep_freed_memory() is False


def test_a_libc_without_mallopt_is_not_glibc(monkeypatch):
    class Musl:
        def malloc(self, size: int) -> int:
            return 0

    monkeypatch.setattr(allocator.sys, "platform", "linux")
    monkeypatch.setattr(allocator.ctypes, "CDLL", lambda name: Musl())
    assert allocator._glibc() is None
    assert allocator.keep_freed_memory() is False


@pytest.mark.parametrize("name", ["darwin", "win32"])
def test_other_systems_are_not_asked(monkeypatch, name):
    def refuse(name):
        raise AssertionError("no C library is loaded off Linux")

    monkeypatch.setattr(allocator.sys, "platform", name)
    monkeypatch.setattr(allocator.ctypes, "CDLL", refuse)
    assert allocator.keep_freed_memory() is False


def test_a_c_library_that_cannot_be_loaded_is_not_an_error(monkeypatch):
    def missing(name):
        raise OSError("no such library")

    monkeypatch.setattr(allocator.sys, "platform", "linux")
    monkeypatch.setattr(allocator.ctypes, "CDLL", missing)
    assert allocator.keep_freed_memory() is False
