"""Stage robustness: the trained models' test accuracy on shifted, rotated and noisy test images."""
from fmnist.atomic import save_figure, write_json
from fmnist.data import load_split
from fmnist.errors import run_stage
from fmnist.model_files import load_model, require_model
from fmnist.params import MODEL_NAMES, RobustnessParams, load_params
from fmnist.paths import ROBUSTNESS_METRICS, ROBUSTNESS_PLOTS, model_file, prepared_split


def main():
    params = load_params("robustness", RobustnessParams)
    images, labels = load_split(prepared_split("test"))
    for name in MODEL_NAMES:
        require_model(model_file(name), name)
    import numpy as np

    from fmnist.why.robustness import curve_records, metrics_keys, robustness_curves
    from fmnist.training import predict_classes
    from fmnist.why.figures import robustness_figure
    curves = {}
    for name in MODEL_NAMES:
        model = load_model(model_file(name), name)
        curves[name] = robustness_curves(
            lambda perturbed: float(np.mean(predict_classes(model, perturbed, params.batch_size) == labels)),
            images, params)
        for kind, curve in curves[name].items():
            write_json(ROBUSTNESS_PLOTS / kind / f"{name}.json", curve_records(curve, kind))
        print(f"robustness {name}: " + ", ".join(
            f"{kind} {max(curve):g}: {curve[max(curve)]:.4f}" for kind, curve in curves[name].items()))
    write_json(ROBUSTNESS_METRICS, {name: metrics_keys(curve) for name, curve in curves.items()})
    save_figure(robustness_figure(curves), ROBUSTNESS_PLOTS / "curves.png")


if __name__ == "__main__":
    run_stage(main)
