"""A model's setting confirmed on the test set over training seeds, after choosing it on the validation split
(bench/cnn_candidates.py): each run is params.yaml's section of the model with the setting's changes and one seed,
trained by the train stage's path and scored as the evaluate stage scores a saved model, on the validation and the
test split.

    .venv/bin/python bench/seeds.py MODEL SETTING SEED...            # from the project root; SETTING from SETTINGS
    .venv/bin/python bench/seeds.py --mcnemar MODEL SETTING_A SETTING_B SEED

Appends one record per run to bench/seeds.json ("runs") and keeps its test predictions in bench/seeds/, so that
--mcnemar tests two settings on the same test images (the exact McNemar test, appended to "mcnemar").
"""
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

from fmnist.atomic import write_json
from fmnist.data import load_split
from fmnist.params import MODEL_PARAMS, load_params, with_changes
from fmnist.paths import prepared_split

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "seeds.json"
PREDICTIONS = BENCH / "seeds"
EVALUATE_BATCH = 512
SETTINGS = {  # changes to params.yaml's section of the model
    "ann": {"default": {}},
    "cnn": {
        "2026-12-05 default": {"filters": [32, 64, 128], "batch_size": 64, "epochs": 20},
        "16-64-128 b128 12ep": {"filters": [16, 64, 128], "batch_size": 128, "epochs": 12},
    },
}


def predictions_path(model, setting, seed):
    return PREDICTIONS / f"{model}-{setting.replace(' ', '_')}-{seed}.npy"


def append(kind, record):
    print(json.dumps(record), flush=True)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": [], "mcnemar": []}
    write_json(RESULTS, results | {kind: results[kind] + [record]})


def run(model, setting, seed, splits):
    from fmnist.models import BUILDERS
    from fmnist.training import deployed_model, predict_classes, train_unlogged
    params = with_changes(model, load_params(model, MODEL_PARAMS[model]), **SETTINGS[model][setting], seed=seed)
    start = time.perf_counter()
    trained = train_unlogged(params, BUILDERS[model], splits["train"], splits["validation"])
    seconds = time.perf_counter() - start
    deployed = deployed_model(trained, params)
    predicted = {split: predict_classes(deployed, splits[split][0], EVALUATE_BATCH) for split in ("validation", "test")}
    PREDICTIONS.mkdir(exist_ok=True)
    np.save(predictions_path(model, setting, seed), predicted["test"].astype("uint8"))
    append("runs", {"date": datetime.date.today().isoformat(), "model": model, "setting": setting, "seed": seed,
                    "changes": SETTINGS[model][setting], "seconds": round(seconds, 1),
                    **{f"{split}_accuracy": round(float(np.mean(predicted[split] == splits[split][1])), 4)
                       for split in predicted}})


def mcnemar(model, first, second, seed):
    from fmnist.statistics import mcnemar_exact
    labels = load_split(prepared_split("test"))[1]
    correct = [np.load(predictions_path(model, setting, seed)) == labels for setting in (first, second)]
    append("mcnemar", {"model": model, "first": first, "second": second, "seed": seed, **mcnemar_exact(*correct)})


def main(args):
    if args[0] == "--mcnemar":
        return mcnemar(args[1], args[2], args[3], int(args[4]))
    splits = {split: load_split(prepared_split(split)) for split in ("train", "validation", "test")}
    for seed in args[2:]:
        run(args[0], args[1], int(seed), splits)


if __name__ == "__main__":
    main(sys.argv[1:])
