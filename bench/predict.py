"""Benchmark of bin/predict on the real models and test images: model load time, single-image latency and
throughput of each model, 10,000 PNG files classified end to end, and parity with the evaluate stage.

Run from the project root after the pipeline (models/*.keras, data/prepared/test.npz, data/predictions/*.npz):
    .venv/bin/python bench/predict.py
Writes bench/predict_results.json (bench/run.py's results.json and the table in docs/benchmark.md are left alone).
"""
import datetime
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from fmnist.atomic import write_json
from fmnist.data import CLASS_NAMES, load_split
from fmnist.params import MODEL_NAMES
from fmnist.paths import model_file, predictions_file, prepared_split
from fmnist.prediction import evaluate_batch_size
from run import machine  # bench/run.py, beside this file

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "predict_results.json"
PREDICT = ROOT / "bin" / "predict"
LATENCY_CALLS = 30
THROUGHPUT_IMAGES = 10_000
PARITY_IMAGES = 200
TARGET_END_TO_END_S = 30

# Run in a fresh interpreter so the TensorFlow import and the first load are timed as a user meets them.
LOAD_PROBE = """
import json, sys, time
start = time.perf_counter()
import keras
imported = time.perf_counter()
from fmnist.model_files import load_model
load_model(sys.argv[1], sys.argv[2])
print(json.dumps({"import_s": imported - start, "load_s": time.perf_counter() - imported}))
"""


def load_times(name):
    output = subprocess.run([sys.executable, "-c", LOAD_PROBE, str(ROOT / model_file(name)), name], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    return {key: round(value, 2) for key, value in json.loads(output.strip().splitlines()[-1]).items()}


def inference(name, images, batch_size):
    """Median seconds of model.predict on one image, and images/s of model.predict over many (best of 3)."""
    from fmnist.model_files import load_model

    model = load_model(ROOT / model_file(name), name)
    one = images[:1].astype("float32")
    model.predict(one, verbose=0)  # traces the predict function
    single = []
    for _ in range(LATENCY_CALLS):
        start = time.perf_counter()
        model.predict(one, verbose=0)
        single.append(time.perf_counter() - start)
    batch = images[:THROUGHPUT_IMAGES].astype("float32")
    model.predict(batch[:batch_size], batch_size=batch_size, verbose=0)
    rounds = []
    for _ in range(3):
        start = time.perf_counter()
        model.predict(batch, batch_size=batch_size, verbose=0)
        rounds.append(time.perf_counter() - start)
    return {"single_image_ms": round(1000 * statistics.median(single), 1),
            "single_image_ms_min": round(1000 * min(single), 1),
            "throughput_images_per_s": round(len(batch) / min(rounds)),
            "throughput_batch_size": batch_size}


def write_pngs(images, folder):
    folder.mkdir(parents=True)
    for index, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{index:05d}.png")


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_predict(folder, name):
    """bin/predict --json on a folder: (wall seconds, cores' worth of CPU, probabilities in file order, classes)."""
    start, start_cpu = time.perf_counter(), children_cpu_seconds()
    result = subprocess.run([str(PREDICT), folder.name, "--model", name, "--top", "10", "--json"], cwd=folder.parent,
                            capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        sys.exit(f"bench: bin/predict failed with exit status {result.returncode}: {result.stderr[-2000:]}")
    records = json.loads(result.stdout)
    probabilities = np.array([[{entry["class"]: entry["probability"] for entry in record["top"]}[class_name]
                               for class_name in CLASS_NAMES] for record in records], dtype=np.float64)
    classes = [record["class"] for record in records]
    return seconds, (children_cpu_seconds() - start_cpu) / seconds, probabilities, classes


def parity(probabilities, classes, stored):
    """How bin/predict's answers compare with what the evaluate stage stored for the same images."""
    stored = stored[:len(probabilities)]
    return {"images": len(probabilities),
            "classes_equal": classes == [CLASS_NAMES[index] for index in stored.argmax(axis=1)],
            "max_abs_probability_difference": float(np.abs(probabilities - stored).max())}


def main():
    images, labels = load_split(prepared_split("test"))
    results = {"date": datetime.date.today().isoformat(), "machine": machine(), "models": {}}
    for name in MODEL_NAMES:
        results["models"][name] = {**load_times(name), **inference(name, images, batch_size=evaluate_batch_size())}
        print(name, results["models"][name], flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as temp:
        first, everything = Path(temp) / "first", Path(temp) / "test"
        write_pngs(images[:PARITY_IMAGES], first)
        write_pngs(images, everything)
        for name in MODEL_NAMES:
            with np.load(ROOT / predictions_file(name)) as stored:
                stored_probabilities = stored["probabilities"].astype(np.float64)
            _, _, probabilities, classes = run_predict(first, name)
            results["models"][name]["parity_first_200"] = parity(probabilities, classes, stored_probabilities)
            seconds, cores, probabilities, classes = run_predict(everything, name)
            results["models"][name]["end_to_end"] = {
                "files": len(classes), "seconds": round(seconds, 1), "cores": round(cores, 2),
                "files_per_s": round(len(classes) / seconds), "target_s": TARGET_END_TO_END_S,
                "accuracy": round(float(np.mean(np.array(classes) == np.array(CLASS_NAMES)[labels])), 4),
                "parity_all": parity(probabilities, classes, stored_probabilities)}
            print(name, results["models"][name]["parity_first_200"], results["models"][name]["end_to_end"], flush=True)
    write_json(RESULTS, results)
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
