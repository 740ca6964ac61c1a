"""The committed run as git holds it: the metrics, the training logs, the benchmarks and dvc.lock. A fresh clone
has all of them without `dvc pull`, so the pages can be rendered and checked anywhere."""
import json
from pathlib import Path

import yaml

from fmnist.paths import COMPARE_METRICS, metrics_file, training_log_dir
from fmnist.why import results

ROOT = Path(__file__).resolve().parents[2]


def read_json(relative):
    return json.loads((ROOT / relative).read_text(encoding="utf-8"))


def model_metrics(model):
    return read_json(metrics_file(model))


def comparison():
    return read_json(COMPARE_METRICS)


def why_metrics(kind):
    """One why stage's metrics ("control", "robustness", "data_efficiency") as {model: ...}, read as the compare stage
    reads them (fmnist.why.results); every page reads them here."""
    return results.why_metrics(ROOT)[kind]


def training_log(model):
    """dvclive's last-epoch summary of a training stage."""
    return read_json(training_log_dir(model) / "metrics.json")


def bench(name):
    """bench/NAME.json, a benchmark's committed results."""
    return read_json(Path("bench") / f"{name}.json")


def bench_runs():
    """Every run of bench/run.py, oldest first."""
    return bench("results")["runs"]


def reference_run():
    """The latest bench/run.py run that timed the stages without capping oneDNN: the committed run's machine."""
    return [run for run in bench_runs() if "stages" in run and not run["machine"].get("onednn_cap")][-1]


def lock():
    return yaml.safe_load((ROOT / "dvc.lock").read_text(encoding="utf-8"))


def output_bytes():
    """The size of every output dvc.lock records for the run (data, models, plots, metrics), each path once."""
    sizes = {out["path"]: out.get("size", 0) for stage in lock()["stages"].values() for out in stage.get("outs", [])}
    return sum(sizes.values())
