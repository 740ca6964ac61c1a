"""Stage data_efficiency (one per model): the model trained on stratified subsets of the training split, scored on
the test set; the largest point is the control's original arm (the same settings and first seed), read from its
predictions. compare draws both models' curves in one figure."""
import time

import numpy as np

from fmnist.atomic import write_json
from fmnist.data import load_split, stratified_subset
from fmnist.errors import require_input, run_stage
from fmnist.params import MODEL_PARAMS, ControlParams, DataEfficiencyParams, load_params, model_argument
from fmnist.paths import control_predictions, learning_curve, prepared_split, why_metrics_file
from fmnist.why.data_efficiency import control_point, curve_metrics, require_below, subset_epochs


def main():
    name = model_argument("data_efficiency")
    params, control = load_params("data_efficiency", DataEfficiencyParams), load_params("control", ControlParams)
    model_params = load_params(name, MODEL_PARAMS[name])
    train, (test_images, test_labels) = (load_split(prepared_split(split)) for split in ("train", "test"))
    largest = min(control.train_images, len(train[1]))  # the control's subset
    require_below(params.train_images, largest)
    with np.load(require_input(control_predictions(name), f"control_{name}")) as arrays:
        control_run = dict(arrays)
    # TensorFlow only now: its start-up notices must not bury an input error
    import keras

    from fmnist.models import BUILDERS
    from fmnist.training import predict_classes, train_unlogged
    from fmnist.why.control import run_settings
    curve = []
    for size in sorted(params.train_images):
        start = time.perf_counter()
        subset = stratified_subset(*train, size, params.seed)
        epochs = subset_epochs(size, largest, control.epochs[name], params.max_epochs)
        settings = run_settings(name, model_params, epochs, control.seeds[0])
        model = train_unlogged(settings, BUILDERS[name], subset, None)
        accuracy = float(np.mean(predict_classes(model, test_images, settings.batch_size) == test_labels))
        curve.append({"train_images": len(subset[1]), "epochs": epochs, "test_accuracy": accuracy})
        keras.utils.clear_session()
        print(f"data_efficiency {name}: {len(subset[1])} images, {epochs} epochs, test accuracy {accuracy:.4f} "
              f"({time.perf_counter() - start:.0f} s)")
    curve.append(control_point(control_run, name, largest, control.epochs[name]))
    write_json(learning_curve(name), curve)
    write_json(why_metrics_file("data_efficiency", name), curve_metrics(curve))


if __name__ == "__main__":
    run_stage(main)
