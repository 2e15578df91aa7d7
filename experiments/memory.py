"""Peak memory of one measurement, taken in a fresh child process so that nothing before it counts.

CPU: the growth of the child's resident set. Writing "5" to /proc/self/clear_refs resets the high-water mark
VmHWM, so the peak of the measured block is VmHWM − VmRSS at its start; ``malloc_trim`` first hands free heap
pages back, so that memory freed earlier and reused by the block counts too. glibc's dynamic mmap threshold lets
freed per-step buffers fragment the heap, and peak RSS then grows with the depth N even where live memory does
not; the child fixes the threshold (``mallopt(M_MMAP_THRESHOLD, 16384)``, the same as
``MALLOC_MMAP_THRESHOLD_=16384``), so that tensors above it are returned to the system when freed. 16 KiB lies
below one state of every workload measured here (300 nodes × 16 float32 channels = 19 KiB); at the 128 KiB
often suggested, the states of small graphs stay on the heap and the measured peak depends on fragmentation.
CUDA: ``torch.cuda.max_memory_allocated`` growth over the block.

The child is forked from the experiment's process (no interpreter start-up per point); CUDA is initialised
in the child only, never in the parent, which a fork would not survive.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import pickle
import traceback
from collections.abc import Callable
from typing import Any

import torch

_LIBC = ctypes.CDLL("libc.so.6")
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 16384


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


class PeakMemory:
    """``with PeakMemory(device) as peak: ...`` then ``peak.cpu_mib`` (RSS growth) and ``peak.cuda_mib``."""

    def __init__(self, device: torch.device):
        self.device = device
        self.cpu_mib = 0.0
        self.cuda_mib: float | None = None

    def __enter__(self) -> PeakMemory:
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._cuda_base = torch.cuda.memory_allocated(self.device)
        _LIBC.malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        self._cpu_base = _status_kib("VmRSS")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.cuda_mib = (torch.cuda.max_memory_allocated(self.device) - self._cuda_base) / 2**20
        self.cpu_mib = (_status_kib("VmHWM") - self._cpu_base) / 1024

    @property
    def mib(self) -> float:
        """The figure to report: CUDA's peak on a GPU, the resident set's peak on the CPU."""
        return self.cpu_mib if self.cuda_mib is None else self.cuda_mib


def _child(measure: Callable[[], dict[str, Any]], conn, threads: int) -> None:
    try:
        torch.set_num_threads(threads)
        _LIBC.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        result = measure()
    except BaseException:
        result = {"error": traceback.format_exc(limit=3)}
    try:
        # Plain pickle copies tensors by value; the multiprocessing pickler would hand over shared memory
        # that dies with this process.
        conn.send_bytes(pickle.dumps(result))
    finally:
        conn.close()
        os._exit(0)


def run_isolated(measure: Callable[[], dict[str, Any]], threads: int = 1) -> dict[str, Any]:
    """Run ``measure()`` in a forked child with a fixed mmap threshold and return its result dict.

    A failure in the child comes back as ``{"error": traceback}``; a child killed by the system (out of
    memory) as ``{"error": "child exited with code …"}``.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(measure, sender, threads))
    process.start()
    sender.close()
    try:
        result = pickle.loads(receiver.recv_bytes())
    except EOFError:
        result = None
    process.join()
    return result if result is not None else {"error": f"child exited with code {process.exitcode}"}
