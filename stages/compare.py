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
from fmnist.paths import (COMPARE_METRICS, COMPARE_PLOTS, COMPARE_REPORT, LEARNING_CURVES_FIGURE, ROBUSTNESS_FIGURE,
                          control_predictions, evaluation_plots_dir, explain_plots, metrics_file, predictions_file)
from fmnist.why.data_efficiency import curve_from_metrics
from fmnist.why.figures import learning_curves_figure, robustness_figure
from fmnist.why.report import why_section
from fmnist.why.results import why_metrics, why_metrics_files
from fmnist.why.robustness import curves_from_metrics

WHY_STAGES = {"control": "control_{}", "robustness": "robustness@{}", "data_efficiency": "data_efficiency_{}"}


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
        "Robustness curves": ROBUSTNESS_FIGURE,
        "Learning curves": LEARNING_CURVES_FIGURE,
        "CNN class-activation maps (HiResCAM)": explain_plots("cnn") / "maps.png",
        "ANN input-gradient saliency": explain_plots("ann") / "maps.png",
        "CNN first-layer filters and feature maps": explain_plots("cnn") / "learned.png",
        "ANN first-layer weights of its most influential units": explain_plots("ann") / "learned.png"})


def read_metrics(path, stage):
    return json.loads(require_input(path, stage).read_text())


def read_why_metrics():
    """{kind: {model: metrics}} of the why stages; a missing file names the stage that writes it."""
    for kind, paths in why_metrics_files().items():
        for model, path in paths.items():
            require_input(path, WHY_STAGES[kind].format(model))
    return why_metrics()


def control_runs():
    """Both models' control predictions in one dict (each file holds its model's arrays and the labels)."""
    runs = {}
    for model in MODEL_NAMES:
        with np.load(require_input(control_predictions(model), WHY_STAGES["control"].format(model))) as arrays:
            runs |= dict(arrays)
    return runs


def main():
    params = load_params("compare", CompareParams)
    (labels, ann_predicted), (cnn_labels, cnn_predicted) = (load_predictions(model) for model in MODEL_NAMES)
    if not np.array_equal(labels, cnn_labels):
        raise StudyError("the two models were evaluated on different test sets: run `dvc repro` to re-evaluate both")
    metrics = {model: read_metrics(metrics_file(model), f"evaluate@{model}") for model in MODEL_NAMES}
    summary = compare_models(labels, ann_predicted, cnn_predicted, metrics["ann"], metrics["cnn"], params)
    why = read_why_metrics()
    summary["control"] = control_summary(control_runs(), params)
    write_json(COMPARE_METRICS, summary)
    write_json(COMPARE_PLOTS / "per_class_f1.json", f1_gain_records(metrics["ann"], metrics["cnn"]))
    for model in MODEL_NAMES:
        write_json(COMPARE_PLOTS / "f1" / f"{model}.json", model_f1_records(metrics[model]))
    f1_by_model = {model: per_class_f1(metrics[model]) for model in MODEL_NAMES}
    save_figure(per_class_f1_bars(f1_by_model), COMPARE_PLOTS / "per_class_f1.png")
    save_figure(robustness_figure({model: curves_from_metrics(why["robustness"][model]) for model in MODEL_NAMES}),
                ROBUSTNESS_FIGURE)
    save_figure(learning_curves_figure({model: curve_from_metrics(why["data_efficiency"][model]) for model in MODEL_NAMES}),
                LEARNING_CURVES_FIGURE)
    why_text = why_section(summary["control"], why["control"], why["robustness"], why["data_efficiency"],
                           params.confidence, params.significance_level, why_links())
    write_text(COMPARE_REPORT, comparison_report(summary, report_links()) + "\n" + why_text)
    print(f"compare: accuracy gain {summary['accuracy_gain']['value']:+.4f}, "
          f"McNemar p = {summary['mcnemar']['p_value']:.3g}")


if __name__ == "__main__":
    run_stage(main)
