"""fmnist.training: the same seed gives bit-identical weights and byte-identical files across processes, and fit
logs through dvclive."""
import csv
import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import project_params
from fmnist.params import CnnParams

EPOCHS = 2

# One training run, as a separate process: seeds are process-wide state, so only fresh processes prove determinism.
# {params!r} becomes the CnnParams(...) expression that training_params() returns.
TRAIN_SCRIPT = """
import hashlib, sys
from pathlib import Path
import numpy as np
sys.path.insert(0, {tests_dir!r})
from idx_builders import banded_images
from fmnist.model_files import save_model
from fmnist.models import build_cnn, with_flip_averaging
from fmnist.params import CnnParams
from fmnist.training import fit, make_deterministic

def digest(model):
    return hashlib.sha256(b"".join(np.ascontiguousarray(w).tobytes() for w in model.get_weights())).hexdigest()

params = {params!r}
make_deterministic(params.seed)
model = build_cnn(params)
print("INITIAL", digest(model))
fit(model, params, banded_images(200, 1), banded_images(60, 2), Path(sys.argv[1]))
print("TRAINED", digest(model))
save_model(with_flip_averaging(model), Path("model.keras"))
"""


def training_params():
    """The repo's cnn section with a tiny network, the epoch count the checks below expect, and random layers on."""
    return project_params("cnn", CnnParams, filters=(4,), convs_per_block=1, kernel_size=3, padding="valid",
                          dense_units=16, epochs=EPOCHS, early_stopping_patience=0, batch_size=32, flip=True,
                          dropout=0.2, seed=7)


def outside_any_git_repo(directory):
    return not any((parent / ".git").exists() for parent in (directory, *directory.parents))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Start both training processes at once (they are mostly waiting on imports), then collect them."""
    root = tmp_path_factory.mktemp("training")
    if not outside_any_git_repo(root):
        # dvclive initialises a DVC repo at the root of an enclosing git repo and needs a commit there: give it its own.
        git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
        subprocess.run(git + ["init", "-q"], cwd=root, check=True)
        subprocess.run(git + ["commit", "-q", "--allow-empty", "-m", "empty"], cwd=root, check=True)
    script = root / "train.py"
    script.write_text(TRAIN_SCRIPT.format(params=training_params(), tests_dir=str(Path(__file__).parent)))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", DVC_NO_ANALYTICS="1", DO_NOT_TRACK="1", CUDA_VISIBLE_DEVICES="")
    runs = []
    for name in ("first", "second"):
        workdir = root / name
        workdir.mkdir()
        process = subprocess.Popen([sys.executable, str(script), "live"], cwd=workdir, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        runs.append((workdir, process))
    results = []
    for workdir, process in runs:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-3000:]
        hashes = dict(line.split() for line in stdout.splitlines() if line.startswith(("INITIAL ", "TRAINED ")))
        results.append({"workdir": workdir, "dir": workdir / "live", "hashes": hashes})
    return results


def test_same_seed_gives_bit_identical_weights_in_separate_processes(two_runs):
    first, second = (run["hashes"] for run in two_runs)
    assert set(first) == {"INITIAL", "TRAINED"}
    assert first["INITIAL"] == second["INITIAL"]
    assert first["TRAINED"] == second["TRAINED"]


def test_fit_changes_the_weights(two_runs):
    hashes = two_runs[0]["hashes"]
    assert hashes["TRAINED"] != hashes["INITIAL"]


def read_tsv(path):
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream, delimiter="\t"))


@pytest.mark.parametrize("split", ["train", "eval"])
def test_fit_logs_one_row_per_epoch(two_runs, split):
    live = two_runs[0]["dir"]
    for metric in ("accuracy", "loss"):
        rows = read_tsv(live / "plots" / "metrics" / split / f"{metric}.tsv")
        assert [int(row["step"]) for row in rows] == list(range(EPOCHS))
        assert all(0 <= float(row[metric]) for row in rows)
    assert all(0 <= float(row["accuracy"]) <= 1 for row in read_tsv(live / "plots" / "metrics" / split / "accuracy.tsv"))


def test_fit_writes_the_final_metrics(two_runs):
    live = two_runs[0]["dir"]
    metrics = json.loads((live / "metrics.json").read_text())
    assert metrics["step"] == EPOCHS - 1
    for split in ("train", "eval"):
        assert set(metrics[split]) >= {"accuracy", "loss"}
        last = read_tsv(live / "plots" / "metrics" / split / "accuracy.tsv")[-1]
        assert metrics[split]["accuracy"] == pytest.approx(float(last["accuracy"]))


def test_both_runs_log_the_same_metrics(two_runs):
    first, second = (json.loads((run["dir"] / "metrics.json").read_text()) for run in two_runs)
    assert first == second


def file_digests(directory):
    """{relative path: md5} of every file under directory."""
    return {str(path.relative_to(directory)): hashlib.md5(path.read_bytes()).hexdigest()
            for path in sorted(directory.rglob("*")) if path.is_file()}


def test_both_runs_write_byte_identical_files(two_runs):
    """The saved .keras archive and every dvclive file, as DVC hashes them: a rerun leaves dvc.lock unchanged."""
    first, second = (file_digests(run["workdir"]) for run in two_runs)
    assert "model.keras" in first and "live/metrics.json" in first
    assert first == second


def rates(params, steps_per_epoch, steps):
    from fmnist.training import learning_rate
    schedule = learning_rate(params, steps_per_epoch)
    return [float(schedule(step)) if callable(schedule) else schedule for step in steps]


@pytest.mark.parametrize("schedule", ["cosine", "constant"])
def test_a_warmup_rises_linearly_to_the_rate_then_follows_the_schedule(schedule):
    params = project_params("cnn", CnnParams, epochs=4, learning_rate=0.01, schedule=schedule, warmup_epochs=1.0)
    warmup = rates(params, 10, [0, 5, 10])
    assert warmup == pytest.approx([0.0, 0.005, 0.01])
    after = rates(params, 10, [20, 25, 40])
    expected = [0.01 * (1 + math.cos(math.pi * step / 30)) / 2 for step in (10, 15, 30)] if schedule == "cosine" \
        else [0.01] * 3
    assert after == pytest.approx(expected, abs=1e-7)


def test_no_warmup_keeps_the_plain_cosine_decay():
    params = project_params("cnn", CnnParams, epochs=4, learning_rate=0.01, schedule="cosine", warmup_epochs=0.0)
    assert rates(params, 10, [0, 20, 40]) == pytest.approx([0.01, 0.005, 0.0], abs=1e-7)
