"""Measurement helpers shared by the benchmark scripts: peak memory on CUDA and on CPU, device sync."""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import torch


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"


def cuda_peak_memory(step: Callable[[], None]) -> int:
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start = torch.cuda.memory_allocated()
    step()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - start


def resident_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cpu_peak_memory(step: Callable[[], None]) -> int:
    """Peak resident-set growth during `step`, sampled every millisecond by a thread. Meaningful when glibc
    returns large blocks to the system (MALLOC_MMAP_THRESHOLD_ set low), so the resident set follows the
    live tensors."""
    start = resident_bytes()
    peak, running = [start], [True]

    def sample():
        while running[0]:
            peak[0] = max(peak[0], resident_bytes())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    step()
    running[0] = False
    sampler.join()
    return peak[0] - start


def cpu_peak_memory_in_child(script: str, arguments: list[str]) -> int:
    """Run `script arguments` in a fresh interpreter with glibc returning large blocks to the system, and read
    the peak it prints last (its own `cpu_peak_memory`). A child, because that malloc setting slows every
    allocation and would distort the timings of the parent."""
    environment = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    command = [sys.executable, script, *arguments]
    return int(subprocess.run(command, env=environment, capture_output=True, text=True, check=True).stdout.split()[-1])
