"""Benchmark on the real data: each stage's wall time and peak memory in a forced full `dvc repro`, the no-op
repro, the classic small CNN of the tutorials trained right after (the yardstick for train_cnn's cost), and
training throughput of our train_cnn path against a plain Keras script.

Then the loop a user lives in, from the state the forced repro left: one edit of params.yaml (EDITS: ann.dropout, then
cnn.dropout), `dvc repro` timed, and back (the run-cache restores the outputs). Every time is also given as a ratio to
the classic CNN's.

Run from the project root after `bin/setup`:  .venv/bin/python bench/run.py [--skip-repro]
With oneDNN capped (`ONEDNN_MAX_CPU_ISA=AVX2 .venv/bin/python bench/run.py`), it checks that oneDNN obeys.
Appends the run to bench/results.json and writes the tables between the bench markers in docs/benchmark.md.
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
from fmnist.params import MODEL_NAMES
from fmnist.paths import metrics_file

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
BENCHMARK_PAGE = ROOT / "docs" / "benchmark.md"
MARKERS = ("<!-- bench:start -->", "<!-- bench:end -->")
STAGE_LINE = re.compile(r"Running stage '([^']+)'")
WHY_STAGES = ("control", "robustness", "data_efficiency", "explain")  # each per model: control_ann, robustness@ann, ...
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


def why_stage(stage):
    return stage.partition("@")[0] in WHY_STAGES or stage.rpartition("_")[0] in WHY_STAGES


def edit_rerun(section, key):
    """`dvc repro` after params.yaml's section.key moves up by 0.05: seconds, cores, the stages it ran; then the
    file as it was and a `dvc repro` that restores the outputs from the run-cache (exits if anything is left stale)."""
    params = ROOT / "params.yaml"
    committed = params.read_text(encoding="utf-8")
    document = yaml.safe_load(committed)
    document[section][key] = round(document[section][key] + 0.05, 4)
    write_text(params, yaml.safe_dump(document, sort_keys=False))
    try:
        seconds, cores, stages = timed_repro()
    finally:
        write_text(params, committed)
    timed_repro()
    status = subprocess.run([sys.executable, "-m", "dvc", "status", "--json"], cwd=ROOT, capture_output=True, text=True)
    if json.loads(status.stdout or "{}"):
        sys.exit(f"bench: after the {section}.{key} edit and back, dvc status is not clean: {status.stdout}")
    return {"edit": f"{section}.{key} {yaml.safe_load(committed)[section][key]} -> {document[section][key]}",
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


def isa_label(run):
    """'AVX2 cap' when the run capped oneDNN, else the CPU's vector extensions."""
    machine = run["machine"]
    if machine.get("onednn_cap"):
        return f"{machine['onednn_cap']} cap"
    return ", ".join(machine.get("extensions", [])) + ", no cap" if machine.get("extensions") else "not recorded"


def runs_table(runs):
    lines = ["| date | CPU (oneDNN) | full repro (s) | train_cnn (s) | classic CNN (s) | **train_cnn / classic** "
             "| full repro / classic | why stages / classic | ANN edit / classic | CNN edit / classic | CNN test acc. "
             "| classic test acc. | ANN test acc. |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for run in runs:
        if "stages" not in run:
            continue
        classic, accuracy = run.get("classic_cnn", {}), run["accuracy"]
        ratio = f"**{run['train_cnn_to_classic_ratio']:.2f}**" if "train_cnn_to_classic_ratio" in run else "-"
        repro_ratio, why_ratio, ann_ratio, cnn_ratio = (f"{run[key]:.2f}" if key in run else "-" for key in (
            "full_repro_to_classic_ratio", "why_stages_to_classic_ratio", "ann_edit_to_classic_ratio",
            "cnn_edit_to_classic_ratio"))
        lines.append(f"| {run['date']} | {run['machine']['cpu']} ({isa_label(run)}) | {run['full_repro_s']:.0f} | "
                     f"{run['stages']['train_cnn']['seconds']:.0f} | {classic.get('seconds', '-')} | {ratio} | "
                     f"{repro_ratio} | {why_ratio} | {ann_ratio} | {cnn_ratio} | "
                     f"{accuracy['cnn']:.4f} | {classic.get('test_accuracy', '-')} | {accuracy['ann']:.4f} |")
    return lines


def stages_table(runs):
    """Each stage's seconds and peak memory in the latest run as the CPU is and the latest with oneDNN capped."""
    latest = {}
    for run in runs:
        if "stages" in run:
            latest[bool(run["machine"].get("onednn_cap"))] = run
    shown = [latest[capped] for capped in (False, True) if capped in latest]
    if not shown:
        return ["No run with stage times yet."]
    lines = ["| stage | " + " | ".join(f"{isa_label(run)} {run['date']}: s, MiB" for run in shown) + " |",
             "|---|" + "---:|" * len(shown)]
    for stage in max((run["stages"] for run in shown), key=len):  # a stage added since a run shows "-" there
        lines.append(f"| {stage} | " + " | ".join(
            f"{run['stages'][stage]['seconds']}, {run['stages'][stage]['peak_rss_mib']}" if stage in run["stages"]
            else "-" for run in shown) + " |")
    lines.append("| **full `dvc repro --force`** | " + " | ".join(f"**{run['full_repro_s']:.0f}**" for run in shown) + " |")
    lines.append("| no-op `dvc repro` | " + " | ".join(f"{run['noop_repro_s']:.1f}" for run in shown) + " |")
    lines.append(f"| why stages ({', '.join(WHY_STAGES)}) / train_cnn | " + " | ".join(
        f"{run['why_stages_s']:.0f} s: **{run['why_stages_to_train_cnn_ratio']:.2f}**" if "why_stages_s" in run else "-"
        for run in shown) + " |")
    lines += ["", "Cores' worth of CPU the full repro got on average (CPU time over wall time; see below why that is "
              "not 2): " + ", ".join(f"{run['full_repro_cores']:.2f}" for run in shown) + "."]
    return lines


def edits_table(run):
    lines = ["| edit | `dvc repro` (s) | / classic CNN | stages it ran |", "|---|---:|---:|---|"]
    for section in EDITS:
        edit = run[f"{section}_edit"]
        lines.append(f"| `{edit['edit']}` | {edit['seconds']:.0f} | **{run[f'{section}_edit_to_classic_ratio']:.2f}** "
                     f"| {', '.join(edit['stages'])} |")
    return lines


def throughput_lines(run):
    t = run["throughput"]
    return [f"Training throughput of the default CNN ({t['date']}), {t['timed_rounds']} timed rounds after a "
            f"warm-up, each one epoch of {t['images']} images on either path back to back: median of the "
            f"per-round ratios (ours / plain) **{t['ratio']:.2f}**, ours faster in "
            f"{t['rounds_ours_faster']} of {t['timed_rounds']} rounds. Fastest epoch of each: train_cnn's "
            f"tf.data path {t['ours_best_images_per_s']:.0f} images/s, plain Keras (numpy arrays into "
            f"`model.fit`) {t['plain_best_images_per_s']:.0f} images/s."]


def markdown(runs):
    latest = runs[-1]
    lines = [f"Latest run {latest['date']} on {latest['machine']['cores']} cores ({latest['machine']['cpu']}, "
             f"{latest['machine']['memory_gib']} GiB), by `bench/run.py`; every run's figures are in "
             "`bench/results.json`.", "", "Every run, train_cnn against the classic CNN trained right after it:", ""]
    lines += runs_table(runs) + ["", "Stage times and peak memory:", ""] + stages_table(runs)
    with_edits = [run for run in runs if "cnn_edit" in run]
    if with_edits:
        lines += ["", "One edit of params.yaml and `dvc repro`, from the committed state (latest run):", ""]
        lines += edits_table(with_edits[-1])
    with_throughput = [run for run in runs if "throughput" in run]
    if with_throughput:
        lines += [""] + throughput_lines(with_throughput[-1])
    return "\n".join(lines)


def load_runs():
    """Every earlier run in bench/results.json."""
    return json.loads(RESULTS.read_text())["runs"] if RESULTS.exists() else []


def write_benchmark_table(table):
    text = BENCHMARK_PAGE.read_text(encoding="utf-8")
    start, end = text.index(MARKERS[0]) + len(MARKERS[0]), text.index(MARKERS[1])
    write_text(BENCHMARK_PAGE, text[:start] + "\n" + table + "\n" + text[end:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-repro", action="store_true",
                        help="only measure training throughput (no stage times, no classic CNN)")
    parser.add_argument("--skip-throughput", action="store_true", help="leave out the throughput comparison")
    args = parser.parse_args()
    run = {"date": datetime.date.today().isoformat(), "machine": machine()}
    if not args.skip_repro:
        run["full_repro_s"], run["full_repro_cores"], run["stages"] = timed_repro("--force")
        run["noop_repro_s"], *_ = timed_repro()
        run["why_stages_s"] = round(sum(times["seconds"] for stage, times in run["stages"].items() if why_stage(stage)), 1)
        run["why_stages_to_train_cnn_ratio"] = round(run["why_stages_s"] / run["stages"]["train_cnn"]["seconds"], 3)
        run["accuracy"] = {model: metric(model, "accuracy") for model in MODEL_NAMES}
        run["classic_cnn"] = classic_cnn()
        run["train_cnn_to_classic_ratio"] = round(run["stages"]["train_cnn"]["seconds"] / run["classic_cnn"]["seconds"], 3)
        run["full_repro_to_classic_ratio"] = round(run["full_repro_s"] / run["classic_cnn"]["seconds"], 3)
        run["why_stages_to_classic_ratio"] = round(run["why_stages_s"] / run["classic_cnn"]["seconds"], 3)
        for section, key in EDITS.items():
            run[f"{section}_edit"] = edit_rerun(section, key)
            run[f"{section}_edit_to_classic_ratio"] = round(
                run[f"{section}_edit"]["seconds"] / run["classic_cnn"]["seconds"], 3)
    if not args.skip_throughput:
        run["throughput"] = {"date": run["date"], **throughput()}
    runs = load_runs() + [run]
    write_json(RESULTS, {"runs": runs})
    write_benchmark_table(markdown(runs))
    print(markdown(runs))


if __name__ == "__main__":
    main()
