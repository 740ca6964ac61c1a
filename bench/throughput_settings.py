"""Training images per second of the CNN under each throughput setting: op determinism, XLA (jit_compile), batch
size, thread pools, bfloat16 mixed precision, and cheaper networks, each as train_cnn's path runs it.

Each setting is one process (thread pools, op determinism and the dtype policy are process-wide), which trains a
fresh model on the first IMAGES prepared training images for one warm-up epoch (tracing) and TIMED epochs, and
reports the best epoch's images per second and the median epoch's images per CPU second (both cores' CPU time
summed: the measure that the VM's time slicing leaves alone). Usage, from the project root after `bin/setup`:

    .venv/bin/python bench/throughput_settings.py            # every setting of SETTINGS, one JSON line each
    .venv/bin/python bench/throughput_settings.py NAME...    # only these

Appends the run to bench/throughput_settings.json (read by docs/results.md's table).
"""
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from fmnist.atomic import write_text

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "throughput_settings.json"
IMAGES = 3072
TIMED = 8
# name: (changes to params.yaml's cnn section, process settings). The first is the project as it was run.
SETTINGS = {
    "as run: batch 64, determinism on": ({}, {}),
    "determinism off": ({}, {"deterministic": False}),
    "jit_compile (XLA)": ({}, {"jit_compile": True}),
    "batch 128": ({"batch_size": 128}, {}),
    "batch 256": ({"batch_size": 256}, {}),
    "1 inter-op thread": ({}, {"inter_op_threads": 1}),
    "mixed bfloat16": ({}, {"precision": "mixed_bfloat16"}),
    "no flip/erase layers": ({"flip": False, "erase": 0.0}, {}),
    "translate 0.1": ({"translate": 0.1}, {}),
    "16-64-128": ({"filters": [16, 64, 128]}, {}),
    "16-64-128, batch 128": ({"filters": [16, 64, 128], "batch_size": 128}, {}),
    "16-32-64, dense 256, batch 256": ({"filters": [16, 32, 64], "dense_units": 256, "batch_size": 256}, {}),
    "24-48-96, dense 256, batch 256": ({"filters": [24, 48, 96], "dense_units": 256, "batch_size": 256}, {}),
}


def measure(name):
    """One setting in this process: {setting, images_per_s, epoch_seconds}."""
    import time

    import keras
    import numpy as np
    import tensorflow as tf

    from fmnist.data import load_split
    from fmnist.models import build_cnn
    from fmnist.params import CnnParams, load_params, with_changes
    from fmnist.paths import prepared_split
    from fmnist.training import compile_model, image_dataset

    changes, process = SETTINGS[name]
    if "inter_op_threads" in process:
        tf.config.threading.set_inter_op_parallelism_threads(process["inter_op_threads"])
    keras.utils.set_random_seed(42)
    if process.get("deterministic", True):
        tf.config.experimental.enable_op_determinism()
    if "precision" in process:
        keras.mixed_precision.set_global_policy(process["precision"])
    params = with_changes("cnn", load_params("cnn", CnnParams), **changes)
    images, labels = (array[:IMAGES] for array in load_split(prepared_split("train")))
    data = image_dataset(images, labels, params.batch_size, shuffle_seed=params.seed)
    model = build_cnn(params)
    compile_model(model, params, steps_per_epoch=len(data))
    if process.get("jit_compile"):
        model.jit_compile = True
        model.make_train_function(force=True)
    seconds, cpu_seconds = [], []
    for _ in range(1 + TIMED):
        start, start_cpu = time.perf_counter(), time.process_time()
        model.fit(data, epochs=1, shuffle=False, verbose=0)
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - start_cpu)
    # This VM hands out CPU in slices of about 1.3 s, so wall seconds come in steps; CPU seconds do not.
    median_cpu = float(np.median(cpu_seconds[1:]))
    return {"setting": name, "images_per_s": round(IMAGES / min(seconds[1:]), 1),
            "images_per_cpu_s": round(IMAGES / median_cpu, 1), "epoch_seconds": [round(s, 3) for s in seconds],
            "epoch_cpu_seconds": [round(s, 3) for s in cpu_seconds], "parameters": model.count_params()}


def main(names):
    if len(names) == 1 and names[0].startswith("--one="):
        print(json.dumps(measure(names[0][len("--one="):])))
        return
    rows = []
    for name in names or SETTINGS:
        result = subprocess.run([sys.executable, __file__, f"--one={name}"], cwd=ROOT, capture_output=True, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        line = result.stdout.strip().splitlines()[-1] if result.returncode == 0 else json.dumps(
            {"setting": name, "error": result.stderr.strip().splitlines()[-1]})
        print(line, flush=True)
        rows.append(json.loads(line))
    runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    runs.append({"date": datetime.date.today().isoformat(), "cpu": platform.processor() or platform.machine(),
                 "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", ""), "images": IMAGES, "rows": rows})
    write_text(RESULTS, json.dumps(runs, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
