"""Stage compare: where, by how much and how surely the CNN beats the ANN on the same test images."""
import json
import os

import numpy as np

from fmnist.atomic import save_figure, write_json, write_text
from fmnist.comparison import compare_models, comparison_report, f1_gain_records, model_f1_records, per_class_f1
from fmnist.why.control import control_summary
from fmnist.errors import StudyError, require_input, run_stage
from fmnist.figures import per_class_f1_bars
from fmnist.params import MODEL_NAMES, CompareParams, load_params
from fmnist.paths import (COMPARE_METRICS, COMPARE_PLOTS, COMPARE_REPORT, CONTROL_METRICS, CONTROL_PREDICTIONS,
                          DATA_EFFICIENCY_METRICS, DATA_EFFICIENCY_PLOTS, EXPLAIN_PLOTS, ROBUSTNESS_METRICS,
                          ROBUSTNESS_PLOTS, evaluation_plots_dir, metrics_file, predictions_file)
from fmnist.why.report import why_section


def load_predictions(model):
    with np.load(require_input(predictions_file(model), f"evaluate@{model}")) as arrays:
        return arrays["labels"], arrays["probabilities"].argmax(axis=1)


def relative_to_report(figures):
    return {title: os.path.relpath(path, COMPARE_REPORT.parent) for title, path in figures.items()}


def report_links():
    """Titles and paths, relative to the report, of the figures the report points to."""
    figures = {"Per-class F1, ANN vs CNN": COMPARE_PLOTS / "per_class_f1.png"}
    for model in MODEL_NAMES:
        for kind in ("confusion", "misclassified", "reliability"):
            figures[f"{model.upper()} {kind}"] = evaluation_plots_dir(model) / f"{kind}.png"
    return relative_to_report(figures)


def why_links():
    """The figures of the why section: robustness and learning curves, what each model looks at."""
    return relative_to_report({
        "Robustness curves": ROBUSTNESS_PLOTS / "curves.png",
        "Learning curves": DATA_EFFICIENCY_PLOTS / "learning_curves.png",
        "CNN class-activation maps (HiResCAM)": EXPLAIN_PLOTS / "cnn_maps.png",
        "ANN input-gradient saliency": EXPLAIN_PLOTS / "ann_saliency.png",
        "CNN first-layer filters and feature maps": EXPLAIN_PLOTS / "cnn_filters.png",
        "ANN first-layer weights of its most influential units": EXPLAIN_PLOTS / "ann_units.png"})


def read_metrics(path, stage):
    return json.loads(require_input(path, stage).read_text())


def main():
    params = load_params("compare", CompareParams)
    (labels, ann_predicted), (cnn_labels, cnn_predicted) = (load_predictions(model) for model in MODEL_NAMES)
    if not np.array_equal(labels, cnn_labels):
        raise StudyError("the two models were evaluated on different test sets: run `dvc repro` to re-evaluate both")
    metrics = {model: read_metrics(metrics_file(model), f"evaluate@{model}") for model in MODEL_NAMES}
    summary = compare_models(labels, ann_predicted, cnn_predicted, metrics["ann"], metrics["cnn"], params)
    with np.load(require_input(CONTROL_PREDICTIONS, "control")) as control_predictions:
        summary["control"] = control_summary(dict(control_predictions), params)
    write_json(COMPARE_METRICS, summary)
    write_json(COMPARE_PLOTS / "per_class_f1.json", f1_gain_records(metrics["ann"], metrics["cnn"]))
    for model in MODEL_NAMES:
        write_json(COMPARE_PLOTS / "f1" / f"{model}.json", model_f1_records(metrics[model]))
    f1_by_model = {model: per_class_f1(metrics[model]) for model in MODEL_NAMES}
    save_figure(per_class_f1_bars(f1_by_model), COMPARE_PLOTS / "per_class_f1.png")
    why = why_section(summary["control"], read_metrics(CONTROL_METRICS, "control"),
                      read_metrics(ROBUSTNESS_METRICS, "robustness"), read_metrics(DATA_EFFICIENCY_METRICS, "data_efficiency"),
                      params.confidence, params.significance_level, why_links())
    write_text(COMPARE_REPORT, comparison_report(summary, report_links()) + "\n" + why)
    print(f"compare: accuracy gain {summary['accuracy_gain']['value']:+.4f}, "
          f"McNemar p = {summary['mcnemar']['p_value']:.3g}")


if __name__ == "__main__":
    run_stage(main)
