"""A CNN candidate confirmed on the test set over training seeds, after choosing it on the validation split
(bench/cnn_candidates.py): each run is params.yaml's cnn section with the candidate's changes and one seed, trained
by the train_cnn path and scored as the evaluate stage scores a saved model, on the validation and the test split.

    .venv/bin/python bench/cnn_seeds.py NAME SEED...    # from the project root; NAME from CANDIDATES

Appends one record per run to bench/cnn_seeds.json and keeps its test predictions in bench/cnn_seeds/NAME-SEED.npy,
so that `.venv/bin/python bench/cnn_seeds.py --mcnemar NAME_A NAME_B SEED` tests two candidates on the same images.
"""
import datetime
import json
import sys
from pathlib import Path

import numpy as np

from fmnist.atomic import write_text
from fmnist.data import load_split
from fmnist.params import CnnParams, load_params, with_changes
from fmnist.paths import prepared_split

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "cnn_seeds.json"
PREDICTIONS = BENCH / "cnn_seeds"
EVALUATE_BATCH = 512
CANDIDATES = {  # changes to params.yaml's cnn section as it was on 2026-12-05 (32-64-128, batch 64, 20 epochs)
    "2026-12-05 default": {"filters": [32, 64, 128], "batch_size": 64, "epochs": 20},
    "16-64-128 b128 12ep": {"filters": [16, 64, 128], "batch_size": 128, "epochs": 12},
    "16-64-128 b128 15ep": {"filters": [16, 64, 128], "batch_size": 128, "epochs": 15},
}


def predictions_path(name, seed):
    return PREDICTIONS / f"{name.replace(' ', '_')}-{seed}.npy"


def append_record(record):
    runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    write_text(RESULTS, json.dumps(runs + [record], indent=1) + "\n")


def run(name, seed, splits):
    from fmnist.models import build_cnn
    from fmnist.training import deployed_model, predict_classes, train_unlogged
    import time
    params = with_changes("cnn", load_params("cnn", CnnParams), **CANDIDATES[name], seed=seed)
    start = time.perf_counter()
    model = train_unlogged(params, build_cnn, splits["train"], splits["validation"])
    seconds = time.perf_counter() - start
    deployed = deployed_model(model, params)
    predicted = {split: predict_classes(deployed, splits[split][0], EVALUATE_BATCH) for split in ("validation", "test")}
    PREDICTIONS.mkdir(exist_ok=True)
    np.save(predictions_path(name, seed), predicted["test"].astype("uint8"))
    record = {"date": datetime.date.today().isoformat(), "candidate": name, "seed": seed,
              "changes": CANDIDATES[name], "seconds": round(seconds, 1),
              **{f"{split}_accuracy": round(float(np.mean(predicted[split] == splits[split][1])), 4)
                 for split in predicted}}
    print(json.dumps(record), flush=True)
    append_record(record)


def mcnemar(first, second, seed):
    from fmnist.statistics import mcnemar_exact
    labels = load_split(prepared_split("test"))[1]
    correct = [np.load(predictions_path(name, seed)) == labels for name in (first, second)]
    result = mcnemar_exact(*correct)
    print(json.dumps({"first": first, "second": second, "seed": seed, **result}))


def main(args):
    if args[0] == "--mcnemar":
        return mcnemar(args[1], args[2], int(args[3]))
    splits = {split: load_split(prepared_split(split)) for split in ("train", "validation", "test")}
    for seed in args[1:]:
        run(args[0], int(seed), splits)


if __name__ == "__main__":
    main(sys.argv[1:])
