"""benchmarks/gpu.py imports without a GPU and refuses, with status 2 and one line, where there is no CUDA device."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal path needs a machine without CUDA")
def test_without_cuda_the_gpu_benchmark_refuses_in_one_line(tmp_path):
    out = tmp_path / "gpu.json"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "benchmarks/gpu.py: no CUDA device (torch.cuda.is_available() is False); nothing measured"]
    assert not out.exists()
