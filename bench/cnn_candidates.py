"""Cheaper CNNs on the validation split: each candidate is params.yaml's cnn section with a few changes, trained
by the train_cnn path (fmnist.training.score_trial) on the prepared training split, seed 42, and scored on the
validation split as the evaluate stage scores a saved model. The test set is not touched.

    .venv/bin/python bench/cnn_candidates.py NAME...     # from the project root; names from CANDIDATES

Appends one record per candidate to bench/cnn_candidates.json: validation accuracy, training seconds, images/s.
"""
import datetime
import json
import sys
from pathlib import Path

from fmnist.data import load_split
from fmnist.atomic import write_text
from fmnist.params import CnnParams, load_params, with_changes
from fmnist.paths import prepared_split

RESULTS = Path(__file__).resolve().parent / "cnn_candidates.json"
NARROW = {"batch_size": 256, "dense_units": 256, "warmup_epochs": 1.0}
CANDIDATES = {
    "default": {},
    "16-32-64 d256 b256 lr0.01 20ep": {**NARROW, "filters": [16, 32, 64], "learning_rate": 0.01, "epochs": 20},
    "16-64-128 d256 b256 lr0.01 16ep": {**NARROW, "filters": [16, 64, 128], "learning_rate": 0.01, "epochs": 16},
    "24-48-96 d256 b256 lr0.01 16ep": {**NARROW, "filters": [24, 48, 96], "learning_rate": 0.01, "epochs": 16},
    "16-64-128 b128 20ep": {"filters": [16, 64, 128], "batch_size": 128},  # the default with a narrow first block
}


def main(names):
    train, validation = (load_split(prepared_split(split)) for split in ("train", "validation"))
    from fmnist.models import build_cnn
    from fmnist.training import score_trial
    for name in names:
        params = with_changes("cnn", load_params("cnn", CnnParams), **CANDIDATES[name])
        accuracy, seconds = score_trial(params, build_cnn, train, validation, 512)
        record = {"date": datetime.date.today().isoformat(), "candidate": name, "changes": CANDIDATES[name],
                  "validation_accuracy": round(accuracy, 4), "seconds": round(seconds, 1),
                  "images_per_s": round(params.epochs * len(train[1]) / seconds, 1)}
        print(json.dumps(record), flush=True)
        runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
        write_text(RESULTS, json.dumps(runs + [record], indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
