"""Stage data_efficiency: both models trained on stratified subsets of the training split, scored on the test set;
the largest point is the control's original arm (the same settings and first seed), read from its predictions."""
import time

import numpy as np

from fmnist.atomic import save_figure, write_json
from fmnist.data import load_split, stratified_subset
from fmnist.errors import require_input, run_stage
from fmnist.params import MODEL_NAMES, MODEL_PARAMS, ControlParams, DataEfficiencyParams, load_params
from fmnist.paths import CONTROL_PREDICTIONS, DATA_EFFICIENCY_METRICS, DATA_EFFICIENCY_PLOTS, prepared_split
from fmnist.why.data_efficiency import control_point, require_below, subset_epochs


def main():
    params, control = load_params("data_efficiency", DataEfficiencyParams), load_params("control", ControlParams)
    models = {name: load_params(name, MODEL_PARAMS[name]) for name in MODEL_NAMES}
    train, (test_images, test_labels) = (load_split(prepared_split(split)) for split in ("train", "test"))
    largest = min(control.train_images, len(train[1]))  # the control's subset
    require_below(params.train_images, largest)
    with np.load(require_input(CONTROL_PREDICTIONS, "control")) as arrays:
        control_predictions = dict(arrays)
    # TensorFlow only now: its start-up notices must not bury an input error
    import keras

    from fmnist.models import BUILDERS
    from fmnist.training import predict_classes, train_unlogged
    from fmnist.why.control import run_settings
    from fmnist.why.figures import learning_curves_figure
    curves = {name: [] for name in MODEL_NAMES}
    for name in MODEL_NAMES:
        for size in sorted(params.train_images):
            start = time.perf_counter()
            subset = stratified_subset(*train, size, params.seed)
            epochs = subset_epochs(size, largest, control.epochs[name], params.max_epochs)
            settings = run_settings(name, models[name], epochs, control.seeds[0])
            model = train_unlogged(settings, BUILDERS[name], subset, None)
            accuracy = float(np.mean(predict_classes(model, test_images, settings.batch_size) == test_labels))
            curves[name].append({"train_images": len(subset[1]), "epochs": epochs, "test_accuracy": accuracy})
            keras.utils.clear_session()
            print(f"data_efficiency {name}: {len(subset[1])} images, {epochs} epochs, test accuracy {accuracy:.4f} "
                  f"({time.perf_counter() - start:.0f} s)")
        curves[name].append(control_point(control_predictions, name, largest, control.epochs[name]))
        write_json(DATA_EFFICIENCY_PLOTS / f"{name}.json", curves[name])
    write_json(DATA_EFFICIENCY_METRICS, {name: {str(point["train_images"]): {
        "test_accuracy": point["test_accuracy"], "epochs": point["epochs"]} for point in points}
        for name, points in curves.items()})
    save_figure(learning_curves_figure(curves), DATA_EFFICIENCY_PLOTS / "learning_curves.png")


if __name__ == "__main__":
    run_stage(main)
