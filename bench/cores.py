"""How many cores' worth of CPU this machine gives a process, second by second.

Two threads multiply matrices for one second at a time (numpy releases the GIL, one BLAS thread each);
CPU time over wall time is 2.0 where both cores run them at once, 1.0 where they share one.
Usage: .venv/bin/python bench/cores.py [SECONDS]
"""
import os
import sys
import threading
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads its BLAS
import numpy as np  # noqa: E402

MATRIX = np.random.default_rng(0).random((400, 400), dtype=np.float32)


def multiply_for(seconds):
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        MATRIX @ MATRIX


def cores_in_use(seconds=1.0, threads=2):
    workers = [threading.Thread(target=multiply_for, args=(seconds,)) for _ in range(threads)]
    cpu, wall = time.process_time(), time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return (time.process_time() - cpu) / (time.perf_counter() - wall)


def main():
    readings = [cores_in_use() for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 30)]
    print(" ".join(f"{reading:.2f}" for reading in readings))
    print(f"share of seconds with under 1.5 cores: {np.mean(np.array(readings) < 1.5):.0%}")


if __name__ == "__main__":
    main()
