"""Test-set metrics of one model's predicted probabilities, computed with scikit-learn."""
import numpy as np
import pandas as pd
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, classification_report, confusion_matrix,
                             log_loss, precision_recall_fscore_support, top_k_accuracy_score)

from fmnist.data import CLASS_NAMES

LABELS = list(range(len(CLASS_NAMES)))


def classification_metrics(labels, probabilities, calibration_bins):
    """Overall, macro, weighted and per-class metrics as a JSON-ready dict keyed by class name."""
    predicted = probabilities.argmax(axis=1)
    metrics = {
        "accuracy": accuracy_score(labels, predicted),
        "balanced_accuracy": balanced_accuracy_score(labels, predicted),
        "top2_accuracy": top_k_accuracy_score(labels, probabilities, k=2, labels=LABELS),
        "log_loss": log_loss(labels, probabilities, labels=LABELS),
        "expected_calibration_error": expected_calibration_error(labels, probabilities, calibration_bins),
    }
    for average in ("macro", "weighted"):
        precision, recall, f1, _ = precision_recall_fscore_support(
            labels, predicted, labels=LABELS, average=average, zero_division=0)
        metrics[average] = {"precision": precision, "recall": recall, "f1": f1}
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=LABELS, zero_division=0)
    metrics["per_class"] = {
        name: {"precision": precision[i], "recall": recall[i], "f1": f1[i], "support": int(support[i])}
        for i, name in enumerate(CLASS_NAMES)
    }
    return rounded(metrics)


def rounded(value, digits=6):
    """Floats to `digits` significant digits (so a p-value of 1e-33 stays 1e-33), recursively through dicts and lists."""
    if isinstance(value, dict):
        return {key: rounded(item, digits) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(item, digits) for item in value]
    if isinstance(value, (int, np.integer)):
        return int(value)
    return float(f"{float(value):.{digits}g}")


def classification_report_table(labels, predicted):
    """scikit-learn's classification report as a DataFrame, one row per class plus the averages."""
    report = classification_report(labels, predicted, labels=LABELS, target_names=list(CLASS_NAMES),
                                   output_dict=True, zero_division=0)
    return pd.DataFrame(report).transpose().rename_axis("class")


def confusion_counts(labels, predicted):
    """10x10 counts: rows are actual classes, columns predicted ones."""
    return confusion_matrix(labels, predicted, labels=LABELS)


def confusion_records(labels, predicted):
    """One {actual, predicted} record per test image, by class name: DVC's confusion plot data."""
    return [{"actual": CLASS_NAMES[a], "predicted": CLASS_NAMES[p]} for a, p in zip(labels, predicted)]


def confidence_bins(labels, probabilities, bins):
    """Equal-width bins of top-class confidence: bounds, count, mean confidence and accuracy of each non-empty bin."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    return [
        {"lower": edges[b], "upper": edges[b + 1], "count": int((which == b).sum()),
         "confidence": float(confidence[which == b].mean()), "accuracy": float(correct[which == b].mean())}
        for b in range(bins) if (which == b).any()
    ]


def expected_calibration_error(labels, probabilities, bins):
    """Sum over confidence bins of |accuracy - confidence| weighted by the bin's share of images."""
    return sum(row["count"] * abs(row["accuracy"] - row["confidence"])
               for row in confidence_bins(labels, probabilities, bins)) / len(labels)


def most_confused_pairs(counts, pairs):
    """The `pairs` largest off-diagonal cells as (actual, predicted, count), largest first."""
    off_diagonal = counts.copy()
    np.fill_diagonal(off_diagonal, 0)
    order = np.argsort(off_diagonal, axis=None)[::-1][:pairs]
    return [(int(a), int(p), int(off_diagonal[a, p])) for a, p in zip(*np.unravel_index(order, counts.shape))
            if off_diagonal[a, p] > 0]


def misclassified_examples(labels, probabilities, pairs, per_pair):
    """For the most confused pairs, the test indices the model got most confidently wrong."""
    predicted = probabilities.argmax(axis=1)
    examples = []
    for actual, wrong, count in most_confused_pairs(confusion_counts(labels, predicted), pairs):
        indices = np.flatnonzero((labels == actual) & (predicted == wrong))
        indices = indices[np.argsort(-probabilities[indices, wrong], kind="stable")][:per_pair]
        examples.append({"actual": CLASS_NAMES[actual], "predicted": CLASS_NAMES[wrong], "count": count,
                         "indices": indices.tolist(), "confidences": probabilities[indices, wrong].tolist()})
    return examples
