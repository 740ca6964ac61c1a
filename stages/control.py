"""Stage control: both models trained on original and on pixel-scrambled images, several seeds each (docs/why.md)."""
import time

import numpy as np

from fmnist.atomic import save_arrays, write_json
from fmnist.data import load_split, stratified_subset
from fmnist.errors import run_stage
from fmnist.params import MODEL_NAMES, MODEL_PARAMS, ControlParams, load_params
from fmnist.paths import CONTROL_METRICS, CONTROL_PREDICTIONS, prepared_split


def main():
    params = load_params("control", ControlParams)
    models = {name: load_params(name, MODEL_PARAMS[name]) for name in MODEL_NAMES}
    splits = {split: load_split(prepared_split(split)) for split in ("train", "validation", "test")}
    splits["train"] = stratified_subset(*splits["train"], params.train_images, params.seed)
    # TensorFlow only now: its start-up notices must not bury an input error
    import keras

    from fmnist.why.control import ARMS, EVALUATED_SPLITS, arm_images, control_accuracies, pixel_permutation, \
        prediction_key, run_settings
    from fmnist.models import BUILDERS
    from fmnist.training import predict_classes, train_unlogged
    permutation = pixel_permutation(params.seed)
    predictions = {f"labels_{split}": splits[split][1] for split in EVALUATED_SPLITS}
    for name in MODEL_NAMES:
        for arm in ARMS:
            data = {split: (arm_images(images, arm, permutation), labels) for split, (images, labels) in splits.items()}
            runs = {split: [] for split in EVALUATED_SPLITS}
            for seed in params.seeds:
                start = time.perf_counter()
                settings = run_settings(name, models[name], params.epochs[name], seed)
                model = train_unlogged(settings, BUILDERS[name], data["train"], None)
                for split in EVALUATED_SPLITS:
                    runs[split].append(predict_classes(model, data[split][0], settings.batch_size).astype("uint8"))
                keras.utils.clear_session()  # the next run builds afresh; graphs of the last ones are garbage
                print(f"control: {name} {arm} seed {seed}: {time.perf_counter() - start:.0f} s")
            for split in EVALUATED_SPLITS:
                predictions[prediction_key(name, arm, split)] = np.stack(runs[split])
    save_arrays(CONTROL_PREDICTIONS, **predictions)
    accuracies = control_accuracies(predictions, MODEL_NAMES)
    write_json(CONTROL_METRICS, {"train_images": len(splits["train"][1]), "seeds": list(params.seeds),
                                 "epochs": params.epochs, **accuracies})
    for name in MODEL_NAMES:
        print(f"control {name}: test accuracy " + ", ".join(
            f"{arm} {accuracies[name][arm]['test']['mean']:.4f}" for arm in ARMS))


if __name__ == "__main__":
    run_stage(main)
