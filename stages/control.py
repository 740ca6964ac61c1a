"""Stage control (one per model): the model trained on original and on pixel-scrambled images, several seeds each
(docs/why.md); compare weighs the two models' results against each other."""
import time

import numpy as np

from fmnist.atomic import save_arrays, write_json
from fmnist.data import load_split, stratified_subset
from fmnist.errors import run_stage
from fmnist.params import MODEL_PARAMS, ControlParams, load_params, model_argument
from fmnist.paths import control_predictions, prepared_split, why_metrics_file


def main():
    name = model_argument("control")
    params, model_params = load_params("control", ControlParams), load_params(name, MODEL_PARAMS[name])
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
    for arm in ARMS:
        data = {split: (arm_images(images, arm, permutation), labels) for split, (images, labels) in splits.items()}
        runs = {split: [] for split in EVALUATED_SPLITS}
        for seed in params.seeds:
            start = time.perf_counter()
            settings = run_settings(name, model_params, params.epochs[name], seed)
            model = train_unlogged(settings, BUILDERS[name], data["train"], None)
            for split in EVALUATED_SPLITS:
                runs[split].append(predict_classes(model, data[split][0], settings.batch_size).astype("uint8"))
            keras.utils.clear_session()  # the next run builds afresh; graphs of the last ones are garbage
            print(f"control: {name} {arm} seed {seed}: {time.perf_counter() - start:.0f} s")
        for split in EVALUATED_SPLITS:
            predictions[prediction_key(name, arm, split)] = np.stack(runs[split])
    save_arrays(control_predictions(name), **predictions)
    accuracies = control_accuracies(predictions, [name])[name]
    write_json(why_metrics_file("control", name), {"train_images": len(splits["train"][1]),
                                                   "seeds": list(params.seeds), "epochs": params.epochs[name],
                                                   **accuracies})
    print(f"control {name}: test accuracy " + ", ".join(f"{arm} {accuracies[arm]['test']['mean']:.4f}" for arm in ARMS))


if __name__ == "__main__":
    run_stage(main)
