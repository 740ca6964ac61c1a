"""Stage robustness (one per model): the trained model's test accuracy on shifted, rotated and noisy test images."""
from fmnist.atomic import write_json
from fmnist.data import load_split
from fmnist.errors import run_stage
from fmnist.model_files import load_model, require_model
from fmnist.params import RobustnessParams, load_params, model_argument
from fmnist.paths import model_file, prepared_split, robustness_curve, why_metrics_file


def main():
    name = model_argument("robustness")
    params = load_params("robustness", RobustnessParams)
    images, labels = load_split(prepared_split("test"))
    require_model(model_file(name), name)
    import numpy as np

    from fmnist.training import predict_classes
    from fmnist.why.robustness import curve_records, metrics_keys, robustness_curves
    model = load_model(model_file(name), name)
    curves = robustness_curves(
        lambda perturbed: float(np.mean(predict_classes(model, perturbed, params.batch_size) == labels)), images, params)
    for kind, curve in curves.items():
        write_json(robustness_curve(kind, name), curve_records(curve, kind))
    write_json(why_metrics_file("robustness", name), metrics_keys(curves))
    print(f"robustness {name}: " + ", ".join(
        f"{kind} {max(curve):g}: {curve[max(curve)]:.4f}" for kind, curve in curves.items()))


if __name__ == "__main__":
    run_stage(main)
