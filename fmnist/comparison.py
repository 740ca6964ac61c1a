"""ANN vs CNN on the same test images: differences, their confidence intervals, significance, and the report."""
from sklearn.metrics import accuracy_score, f1_score

from fmnist.data import CLASS_NAMES
from fmnist.evaluation import LABELS, rounded
from fmnist.statistics import bootstrap_intervals, mcnemar_exact


def headline_scores(labels, ann_predicted, cnn_predicted):
    """Accuracy and macro-F1 of each model and their differences (CNN minus ANN)."""
    scores = {}
    for model, predicted in (("ann", ann_predicted), ("cnn", cnn_predicted)):
        scores[f"{model}_accuracy"] = accuracy_score(labels, predicted)
        scores[f"{model}_macro_f1"] = f1_score(labels, predicted, labels=LABELS, average="macro", zero_division=0)
    scores["accuracy_gain"] = scores["cnn_accuracy"] - scores["ann_accuracy"]
    scores["macro_f1_gain"] = scores["cnn_macro_f1"] - scores["ann_macro_f1"]
    return scores


def compare_models(labels, ann_predicted, cnn_predicted, ann_metrics, cnn_metrics, params):
    """Everything compare.json holds, from the paired test predictions and each model's metrics."""
    point = headline_scores(labels, ann_predicted, cnn_predicted)
    intervals = bootstrap_intervals(headline_scores, (labels, ann_predicted, cnn_predicted),
                                    params.bootstrap_resamples, params.confidence, params.seed)
    test = mcnemar_exact(ann_predicted == labels, cnn_predicted == labels)
    return rounded({
        "confidence": params.confidence,
        "significance_level": params.significance_level,
        **{key: {"value": value, "ci_low": intervals[key][0], "ci_high": intervals[key][1]}
           for key, value in point.items()},
        "mcnemar": {"ann_only_correct": test["only_first_correct"], "cnn_only_correct": test["only_second_correct"],
                    "statistic": test["statistic"], "p_value": test["p_value"],
                    "significant": int(test["p_value"] < params.significance_level)},
        "per_class_f1_gain": f1_gains(ann_metrics, cnn_metrics),
    })


def per_class_f1(metrics):
    """{class name: F1} from one model's metrics."""
    return {name: metrics["per_class"][name]["f1"] for name in CLASS_NAMES}


def f1_gains(ann_metrics, cnn_metrics):
    """Per-class F1 of the CNN minus the ANN's, by class name."""
    ann_f1, cnn_f1 = per_class_f1(ann_metrics), per_class_f1(cnn_metrics)
    return rounded({name: cnn_f1[name] - ann_f1[name] for name in CLASS_NAMES})


def f1_gain_records(ann_metrics, cnn_metrics):
    """DVC plot data: one record per class with both models' F1 and the gain."""
    ann_f1, cnn_f1, gains = per_class_f1(ann_metrics), per_class_f1(cnn_metrics), f1_gains(ann_metrics, cnn_metrics)
    return [{"class": name, "ann_f1": ann_f1[name], "cnn_f1": cnn_f1[name], "f1_gain": gains[name]}
            for name in CLASS_NAMES]


def model_f1_records(metrics):
    """DVC plot data for one model: one {class, f1} record per class."""
    return [{"class": name, "f1": f1} for name, f1 in per_class_f1(metrics).items()]


def percent(value):
    return f"{100 * value:.2f}%"


def points(value):
    """A difference of two rates, in percentage points: 0.0304 -> '3.04 points'."""
    return f"{100 * value:.2f} points"


def confidence_label(confidence):
    """0.95 -> '95%'."""
    return f"{100 * confidence:g}%"


def comparison_report(summary, figures):
    """Markdown that states, from summary alone, who wins, by how much, where, and whether it is significant."""
    level, confidence = summary["significance_level"], summary["confidence"]
    gains = sorted(summary["per_class_f1_gain"].items(), key=lambda item: item[1], reverse=True)
    test = summary["mcnemar"]
    gain = summary["accuracy_gain"]["value"]
    winner, loser = ("CNN", "ANN") if gain >= 0 else ("ANN", "CNN")
    verdict = "is" if test["significant"] else "is not"
    lines = [
        "# ANN vs CNN on the Fashion-MNIST test set",
        "",
        f"The {winner} is more accurate than the {loser} by {points(abs(gain))} "
        f"({confidence_label(confidence)} bootstrap interval of the CNN minus ANN gain: "
        f"{points(summary['accuracy_gain']['ci_low'])} to {points(summary['accuracy_gain']['ci_high'])}). "
        f"The difference {verdict} significant at the {level} level "
        f"(exact McNemar test, p = {test['p_value']:.3g}: {test['cnn_only_correct']} images only the CNN got right, "
        f"{test['ann_only_correct']} only the ANN).",
        "",
        f"| metric | ANN | CNN | gain (CNN - ANN) | {confidence_label(confidence)} interval of the gain |",
        "|---|---|---|---|---|",
    ]
    for metric, label in (("accuracy", "accuracy"), ("macro_f1", "macro F1")):
        ann, cnn, diff = summary[f"ann_{metric}"], summary[f"cnn_{metric}"], summary[f"{metric}_gain"]
        lines.append(f"| {label} | {percent(ann['value'])} | {percent(cnn['value'])} | {points(diff['value'])} "
                     f"| {points(diff['ci_low'])} to {points(diff['ci_high'])} |")
    top = ", ".join(f"{name} ({gain_:+.3f})" for name, gain_ in gains[:4])
    lines += ["", f"The F1 gain (CNN - ANN) is largest on: {top}.", "",
              "| class | F1 gain (CNN - ANN) |", "|---|---|"]
    lines += [f"| {name} | {gain_:+.3f} |" for name, gain_ in gains]
    lines += ["", "## Figures", ""] + [f"- [{title}]({path})" for title, path in figures.items()]
    return "\n".join(lines) + "\n"
