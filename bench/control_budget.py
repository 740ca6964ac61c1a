"""The control's budget, chosen on the validation split: each model's validation accuracy on original and on
scrambled images after several epoch counts, on the control's training subset, with the control's settings.

Run from the project root after `dvc repro preprocess`:  .venv/bin/python bench/control_budget.py
Writes bench/control_budget.json; docs/why.md quotes it. The test set is not read.
"""
import json
import time
from pathlib import Path

import numpy as np

from fmnist.atomic import write_json
from fmnist.data import load_split, stratified_subset
from fmnist.params import MODEL_NAMES, MODEL_PARAMS, ControlParams, load_params
from fmnist.paths import prepared_split

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = {"ann": (10, 20, 30), "cnn": (3, 5, 8)}


def main():
    import keras

    from fmnist.why.control import ARMS, arm_images, pixel_permutation, run_settings
    from fmnist.models import BUILDERS
    from fmnist.training import predict_classes, train_unlogged
    control = load_params("control", ControlParams)
    train = stratified_subset(*load_split(prepared_split("train")), control.train_images, control.seed)
    validation = load_split(prepared_split("validation"))
    permutation = pixel_permutation(control.seed)
    results = []
    for name in MODEL_NAMES:
        for arm in ARMS:
            arm_train, arm_validation = ((arm_images(x, arm, permutation), y) for x, y in (train, validation))
            for epochs in EPOCHS[name]:
                start = time.perf_counter()
                settings = run_settings(name, load_params(name, MODEL_PARAMS[name]), epochs, control.seeds[0])
                model = train_unlogged(settings, BUILDERS[name], arm_train, None)
                accuracy = float(np.mean(predict_classes(model, arm_validation[0], 512) == arm_validation[1]))
                results.append({"model": name, "arm": arm, "epochs": epochs, "validation_accuracy": round(accuracy, 4),
                                "seconds": round(time.perf_counter() - start, 1)})
                print(json.dumps(results[-1]), flush=True)
                keras.utils.clear_session()
    write_json(ROOT / "bench" / "control_budget.json", {"train_images": control.train_images, "seed": control.seeds[0],
                                                         "runs": results})


if __name__ == "__main__":
    main()
