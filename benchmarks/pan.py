"""Running SPIN's pan on a Promela model: compile, run, read its numbers.

Used by benchmarks/run.py for the export of each family and for the
hand-written Promela models of benchmarks/direct.py, with the same flags:
``spin -a``, ``gcc -O2 -DSAFETY -DMEMLIM=16000`` (and ``-DNOREDUCE``
without SPIN's partial-order reduction), ``./pan -m1000000``. Seconds are
pan's run, compiling excluded, its start-up (about 0.1 s) included.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time

TIMEOUT = 600


def spin_available() -> bool:
    return shutil.which("spin") is not None and shutil.which("gcc") is not None


def run_pan(promela: str, *, reduce: bool = False, timeout: int = TIMEOUT) -> dict:
    """SPIN's stored states, seconds, memory and errors on ``promela``."""
    work = tempfile.mkdtemp(prefix="racecheck-spin-")
    try:
        with open(os.path.join(work, "model.pml"), "w") as handle:
            handle.write(promela)
        subprocess.run(["spin", "-a", "model.pml"], cwd=work, check=True, capture_output=True)
        flags = ["-O2", "-DSAFETY", "-DMEMLIM=16000"] + ([] if reduce else ["-DNOREDUCE"])
        subprocess.run(["gcc", *flags, "-o", "pan", "pan.c"], cwd=work, check=True, capture_output=True)
        start = time.perf_counter()
        try:
            out = subprocess.run(["./pan", "-m1000000"], cwd=work, capture_output=True, text=True,
                                 timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"timeout": True}
        seconds = time.perf_counter() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = out.stdout
    states = re.search(r"([\d.e+]+) states, stored", text)
    memory = re.search(r"([\d.]+)\s+total actual memory usage", text)
    errors = re.search(r"errors: (\d+)", text)
    return {"states": int(float(states.group(1))) if states else None, "seconds": seconds,
            "memory_mb": float(memory.group(1)) if memory else None,
            "errors": int(errors.group(1)) if errors else None}
