"""Benchmark on the real data: each stage's wall time and peak memory in a forced full `dvc repro`,
the no-op repro, and training throughput of our train_cnn path against a plain Keras script.

Run from the project root after `bin/setup`:  .venv/bin/python bench/run.py [--skip-repro]
Writes bench/results.json and the table between the bench markers in README.md.
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from fmnist.atomic import write_json, write_text
from fmnist.paths import MODELS, metrics_file

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
README = ROOT / "README.md"
MARKERS = ("<!-- bench:start -->", "<!-- bench:end -->")
STAGE_LINE = re.compile(r"Running stage '([^']+)'")


def tree_rss(process):
    """Resident memory of a process and all its descendants, in bytes."""
    total = 0
    for member in [process] + process.children(recursive=True):
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_repro(*args):
    """Run `dvc repro ARGS`; return total seconds, the cores' worth of CPU it got on average (CPU time
    over wall time) and {stage: {seconds, peak_rss_mib}} from its output."""
    command = [sys.executable, "-m", "dvc", "repro", *args]
    start, start_cpu = time.perf_counter(), children_cpu_seconds()
    # dvc runs stage commands as `python ...`: make that this interpreter, venv activated or not
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watched = psutil.Process(child.pid)
    stages, current = {}, {"name": None}

    def sample_memory():
        while child.poll() is None:
            name = current["name"]
            if name:
                stages[name]["peak_rss_mib"] = max(stages[name]["peak_rss_mib"], tree_rss(watched) / 2**20)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()
    for line in child.stdout:
        sys.stdout.write(line)
        match = STAGE_LINE.search(line)
        if match:
            now = time.perf_counter()
            if current["name"]:
                stages[current["name"]]["seconds"] = now - stages[current["name"]]["start"]
            current["name"] = match.group(1)
            stages[current["name"]] = {"start": now, "seconds": None, "peak_rss_mib": 0.0}
    child.wait()
    total = time.perf_counter() - start
    cores = (children_cpu_seconds() - start_cpu) / total
    sampler.join()
    if child.returncode:
        sys.exit(f"bench: {' '.join(command)} failed with exit status {child.returncode}")
    if current["name"]:
        stages[current["name"]]["seconds"] = total - (stages[current["name"]]["start"] - start)
    return total, round(cores, 2), {name: {"seconds": round(s["seconds"], 1), "peak_rss_mib": round(s["peak_rss_mib"])}
                   for name, s in stages.items()}


def throughput():
    """Images per second of one training epoch: our tf.data path vs numpy arrays into model.fit."""
    script = ROOT / "bench" / "throughput.py"
    output = subprocess.run([sys.executable, str(script)], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def machine():
    cpu = platform.processor() or "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_gib": round(psutil.virtual_memory().total / 2**30),
            "python": platform.python_version()}


def metric(model, key):
    return json.loads((ROOT / metrics_file(model)).read_text())[key]


def markdown(results):
    lines = [f"Measured {results['date']} on {results['machine']['cores']} cores "
             f"({results['machine']['cpu']}, {results['machine']['memory_gib']} GiB), by `bench/run.py`.", ""]
    if "stages" in results:
        lines += ["| stage | wall time (s) | peak memory (MiB) |", "|---|---:|---:|"]
        lines += [f"| {name} | {s['seconds']} | {s['peak_rss_mib']} |" for name, s in results["stages"].items()]
        lines += [f"| **full `dvc repro --force`** | **{results['full_repro_s']:.0f}** | |",
                  f"| no-op `dvc repro` | {results['noop_repro_s']:.1f} | |", "",
                  f"The full repro got {results['full_repro_cores']:.2f} cores' worth of CPU on average "
                  "(CPU time over wall time; see below why that is not 2).", ""]
    t = results["throughput"]
    lines += [f"Training throughput of the default CNN ({t['date']}), {t['timed_rounds']} timed rounds after a "
              f"warm-up, each one epoch of {t['images']} images on either path back to back: median of the "
              f"per-round ratios (ours / plain) **{t['ratio']:.2f}**, ours faster in "
              f"{t['rounds_ours_faster']} of {t['timed_rounds']} rounds. Fastest epoch of each: train_cnn's "
              f"tf.data path {t['ours_best_images_per_s']:.0f} images/s, plain Keras (numpy arrays into "
              f"`model.fit`) {t['plain_best_images_per_s']:.0f} images/s. Per-round seconds are in "
              f"`bench/results.json`."]
    if "accuracy" in results:
        lines += ["", f"Test accuracy: ANN {results['accuracy']['ann']:.4f}, CNN {results['accuracy']['cnn']:.4f}."]
    return "\n".join(lines)


def write_readme_table(table):
    text = README.read_text(encoding="utf-8")
    start, end = text.index(MARKERS[0]) + len(MARKERS[0]), text.index(MARKERS[1])
    write_text(README, text[:start] + "\n" + table + "\n" + text[end:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-repro", action="store_true",
                        help="only measure training throughput; keep the last run's stage times")
    args = parser.parse_args()
    if args.skip_repro and RESULTS.exists():
        results = json.loads(RESULTS.read_text())
    else:
        results = {"date": datetime.date.today().isoformat(), "machine": machine()}
    if not args.skip_repro:
        results["full_repro_s"], results["full_repro_cores"], results["stages"] = timed_repro("--force")
        results["noop_repro_s"], *_ = timed_repro()
        results["accuracy"] = {model: metric(model, "accuracy") for model in MODELS}
    results["throughput"] = {"date": datetime.date.today().isoformat(), **throughput()}
    write_json(RESULTS, results)
    write_readme_table(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
