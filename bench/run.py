"""Benchmark on the real data: each stage's wall time and peak memory in a forced full `dvc repro`, the no-op
repro, the classic small CNN of the tutorials trained right after (the yardstick for train_cnn's cost), and
training throughput of our train_cnn path against a plain Keras script.

Then the loop a user lives in, from the state the forced repro left: one edit of params.yaml (EDITS: ann.dropout, then
cnn.dropout), `dvc repro` timed, and back (the run-cache restores the outputs). Every time is also given as a ratio to
the classic CNN's.

Run from the project root after `bin/setup`:  .venv/bin/python bench/run.py [--skip-repro]
With oneDNN capped (`ONEDNN_MAX_CPU_ISA=AVX2 .venv/bin/python bench/run.py`), it checks that oneDNN obeys.
Appends the run to bench/results.json, then runs bin/docs, which writes the pages' tables from it.
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
import yaml

from fmnist.atomic import write_json, write_text
from fmnist.docs.costs import why_seconds
from fmnist.params import MODEL_NAMES
from fmnist.paths import metrics_file

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
STAGE_LINE = re.compile(r"Running stage '([^']+)'")
EDITS = {"ann": "dropout", "cnn": "dropout"}  # the edit of each model's section whose rerun is timed: +0.05
VECTOR_EXTENSIONS = {"avx2": "AVX2", "avx512f": "AVX-512", "amx_tile": "AMX"}  # /proc/cpuinfo flag: name


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


def edit_rerun(section, key):
    """`dvc repro` after params.yaml's section.key moves up by 0.05: seconds, cores, the stages it ran; then the
    file as it was and a `dvc repro` that restores the outputs from the run-cache (exits if anything is left stale)."""
    params = ROOT / "params.yaml"
    committed = params.read_text(encoding="utf-8")
    document = yaml.safe_load(committed)
    before = document[section][key]
    document[section][key] = round(before + 0.05, 4)
    write_text(params, yaml.safe_dump(document, sort_keys=False))
    try:
        seconds, cores, stages = timed_repro()
    finally:
        write_text(params, committed)
    timed_repro()
    status = subprocess.run([sys.executable, "-m", "dvc", "status", "--json"], cwd=ROOT, capture_output=True, text=True)
    if json.loads(status.stdout or "{}"):
        sys.exit(f"bench: after the {section}.{key} edit and back, dvc status is not clean: {status.stdout}")
    return {"edit": f"{section}.{key} {before} -> {document[section][key]}",
            "seconds": round(seconds, 1), "cores": cores, "stages": sorted(stages)}


def classic_cnn():
    """The classic CNN's whole process, timed as dvc times the train_cnn stage: seconds and test accuracy."""
    start = time.perf_counter()
    output = subprocess.run([sys.executable, str(ROOT / "bench" / "classic_cnn.py")], cwd=ROOT, check=True,
                            capture_output=True, text=True)
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 1), **json.loads(output.stdout.strip().splitlines()[-1])}


def onednn_isa():
    """The instruction set oneDNN dispatches to in this environment, as its verbose mode names it."""
    probe = "import tensorflow as tf; tf.nn.conv2d(tf.ones([1, 8, 8, 1]), tf.ones([3, 3, 1, 4]), 1, 'SAME')"
    output = subprocess.run([sys.executable, "-c", probe], env={**os.environ, "ONEDNN_VERBOSE": "1"},
                            capture_output=True, text=True, check=True)
    match = re.search(r"onednn_verbose,[^\n]*,isa:([^\n]+)", output.stdout + output.stderr)
    return match.group(1).strip() if match else "unknown (no onednn_verbose isa line)"


def throughput():
    """Images per second of one training epoch: our tf.data path vs numpy arrays into model.fit."""
    script = ROOT / "bench" / "throughput.py"
    output = subprocess.run([sys.executable, str(script)], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def cap_obeyed(cap, isa):
    """Whether oneDNN's isa line fits the cap: the cap's family named (AVX2 -> 'Intel AVX2', AVX512_CORE ->
    'Intel AVX-512'), and no AMX unless the cap allows it. ALL and DEFAULT cap nothing."""
    if cap.upper() in ("ALL", "DEFAULT"):
        return True
    family = {"SSE41": "SSE4.1", "AVX512": "AVX-512"}.get(cap.upper().split("_")[0], cap.upper().split("_")[0])
    return family in isa and ("AMX" in cap.upper() or "AMX" not in isa)


def machine():
    """The CPU, its vector extensions and oneDNN's cap and choice; exits if a cap is set that oneDNN ignores."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    flags = set((re.search(r"^flags\s*:\s*(.+)$", cpuinfo, re.M) or [None, ""])[1].split())
    cap, isa = os.environ.get("ONEDNN_MAX_CPU_ISA"), onednn_isa()
    if cap and not cap_obeyed(cap, isa):
        sys.exit(f"bench: ONEDNN_MAX_CPU_ISA={cap} is set but oneDNN reports isa {isa!r}: "
                 "unset it or name an ISA this CPU and TensorFlow support")
    return {"cores": os.cpu_count(), "cpu": model.group(1).strip() if model else platform.processor() or "unknown",
            "memory_gib": round(psutil.virtual_memory().total / 2**30), "python": platform.python_version(),
            "extensions": [name for flag, name in VECTOR_EXTENSIONS.items() if flag in flags],
            "onednn_cap": cap, "onednn_isa": isa}


def metric(model, key):
    return json.loads((ROOT / metrics_file(model)).read_text())[key]


def load_runs():
    """Every earlier run in bench/results.json."""
    return json.loads(RESULTS.read_text())["runs"] if RESULTS.exists() else []


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-repro", action="store_true",
                        help="only measure training throughput (no stage times, no classic CNN)")
    parser.add_argument("--skip-throughput", action="store_true", help="leave out the throughput comparison")
    parser.add_argument("--edits", nargs="*", choices=list(EDITS), default=list(EDITS),
                        help="the models whose edit's rerun is timed (default: both; none: --edits)")
    args = parser.parse_args()
    run = {"date": datetime.date.today().isoformat(), "machine": machine()}
    if not args.skip_repro:
        run["full_repro_s"], run["full_repro_cores"], run["stages"] = timed_repro("--force")
        run["noop_repro_s"], *_ = timed_repro()
        run["why_stages_s"] = round(why_seconds(run), 1)
        run["why_stages_to_train_cnn_ratio"] = round(run["why_stages_s"] / run["stages"]["train_cnn"]["seconds"], 3)
        run["accuracy"] = {model: metric(model, "accuracy") for model in MODEL_NAMES}
        run["classic_cnn"] = classic_cnn()
        run["train_cnn_to_classic_ratio"] = round(run["stages"]["train_cnn"]["seconds"] / run["classic_cnn"]["seconds"], 3)
        run["full_repro_to_classic_ratio"] = round(run["full_repro_s"] / run["classic_cnn"]["seconds"], 3)
        run["why_stages_to_classic_ratio"] = round(run["why_stages_s"] / run["classic_cnn"]["seconds"], 3)
        for section in args.edits:
            run[f"{section}_edit"] = edit_rerun(section, EDITS[section])
            run[f"{section}_edit_to_classic_ratio"] = round(
                run[f"{section}_edit"]["seconds"] / run["classic_cnn"]["seconds"], 3)
    if not args.skip_throughput:
        run["throughput"] = {"date": run["date"], **throughput()}
    write_json(RESULTS, {"runs": load_runs() + [run]})
    subprocess.run([str(ROOT / "bin" / "docs")], cwd=ROOT, check=True)  # the pages' tables and ratios, from RESULTS
    print(f"bench: run appended to {RESULTS.relative_to(ROOT)}; bin/docs rewrote README.md and docs/ from it")


if __name__ == "__main__":
    main()
