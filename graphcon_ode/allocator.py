"""Keep freed memory in the process, so that each step's new [n, m] tensors reuse it instead of faulting in pages.

A step of eq. (4), forward and backward, makes a dozen new [n, m] tensors (XW, S·(XW), σ(·), Yⁿ, Xⁿ and their
gradients) and frees them at the end. glibc's malloc serves every block of 128 KiB or more (its threshold rises
to at most 32 MiB) by a fresh ``mmap`` and hands it back by ``munmap`` when freed, so a 64 MiB [5·10⁵, 32] float32
tensor costs 16 384 minor page faults, each a kernel entry that zeroes a page, before the product that fills it
starts. :func:`keep_freed_memory` tells malloc (``mallopt``) to serve large blocks from its heap and never to
return the top of the heap to the kernel, so from the second step on the step reuses memory it already holds.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1
"""glibc's ``mallopt`` parameter: free heap top above this many bytes goes back to the kernel (−1: never)."""
M_MMAP_MAX = -4
"""glibc's ``mallopt`` parameter: the most blocks served by ``mmap`` at once (0: none, all from the heap)."""


def _glibc() -> ctypes.CDLL | None:
    """The process's C library when it is glibc (it has ``gnu_get_libc_version`` and ``mallopt``), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    if not (hasattr(libc, "gnu_get_libc_version") and hasattr(libc, "mallopt")):
        return None
    return libc


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep the memory the process frees: ``mallopt(M_MMAP_MAX, 0)`` and
    ``mallopt(M_TRIM_THRESHOLD, -1)``. Returns True when both were applied, False where the C library is not glibc
    (macOS, Windows, musl), where nothing is changed. Calling it again is harmless; it never raises.

    Why both, measured with ``benchmarks/step_floor.py --rounds 5`` (one imex step of GraphCON-GCN forward +
    backward, 5·10⁵ nodes, 5·10⁶ random directed edges, 32 channels, float32, one thread, load average 4.4–5.5 on
    2 cores; the other settings given as glibc's environment variables with ``--default-allocator``, the
    threshold as 2⁶² since the variables take no −1; docs/results/performance.md, "The floor of one step"):

    ===================================================  =========  ============  ==========
    malloc settings                                      step (ms)  faults/step   step/floor
    ===================================================  =========  ============  ==========
    glibc's defaults                                     1648       437 525       2.00
    M_TRIM_THRESHOLD = 2⁶² alone                         1709       449 247       2.00
    M_MMAP_THRESHOLD = 32 MiB (its maximum), no trim     1667       437 525       2.06
    M_MMAP_MAX = 0 alone                                 980        124 968       1.88
    M_MMAP_MAX = 0, M_TRIM_THRESHOLD = 2⁶²               863        15 625        1.61
    M_MMAP_MAX = 0, M_TRIM_THRESHOLD = −1 (this)         849        0             1.60
    ===================================================  =========  ============  ==========

    Trimming alone or a raised mmap threshold change nothing: a 64 MiB [5·10⁵, 32] tensor is above the largest
    threshold glibc accepts (32 MiB), so it is still mapped afresh. No mmap alone moves the blocks to the heap,
    but a free that leaves more than 128 KiB free at its top returns it to the kernel, and the next step faults
    it in again. Both together reuse the memory; −1 (never trim, as ``man mallopt`` documents) leaves no fault
    at all. The ratio improves less than the step's time (1.94× faster) because the floor's own new tensors
    fault too under glibc's defaults (817 → 530 ms).

    The price: the process keeps its peak heap for its lifetime (memory freed after a large solve stays
    resident, reused by the next allocations but not returned to the system; ``malloc_trim(0)`` from libc gives
    it back on demand), and the setting is process-wide. The ``graphcon-ode`` command and the benchmarks that time
    steps call it at start; a program using the library calls it once, first thing, if it solves large graphs.
    """
    libc = _glibc()
    if libc is None:
        return False
    mallopt = libc.mallopt
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_MAX, 0) == 1 and mallopt(M_TRIM_THRESHOLD, -1) == 1
