"""fmnist.evaluation: metrics agree with scikit-learn, calibration error, confusion data and the worst mistakes."""
import json

import numpy as np
import pytest
from sklearn import metrics as sk

from fmnist.data import CLASS_NAMES
from fmnist.evaluation import (classification_metrics, confidence_bins, classification_report_table,
                               confusion_counts, confusion_records, expected_calibration_error,
                               misclassified_examples, most_confused_pairs, rounded)

CLASSES = len(CLASS_NAMES)
ALL = list(range(CLASSES))


def probabilities_with_top(top_class, confidence):
    """Rows whose largest probability, `confidence`, sits on top_class; the rest is spread evenly."""
    rows = np.full((len(top_class), CLASSES), (1 - confidence) / (CLASSES - 1))
    rows[np.arange(len(top_class)), top_class] = confidence
    return rows


@pytest.fixture(scope="module")
def predictions():
    """120 images, 12 per class; the model is right on roughly 60% with random confidences."""
    rng = np.random.default_rng(7)
    labels = np.repeat(np.arange(CLASSES), 12)
    probabilities = rng.dirichlet(np.ones(CLASSES), size=len(labels))
    boosted = rng.random(len(labels)) < 0.6
    probabilities[boosted, labels[boosted]] += 1.5
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return labels, probabilities


@pytest.fixture(scope="module")
def computed(predictions):
    return classification_metrics(*predictions, calibration_bins=10)


def test_overall_metrics_match_scikit_learn(predictions, computed):
    labels, probabilities = predictions
    predicted = probabilities.argmax(axis=1)
    assert 0.3 < computed["accuracy"] < 0.9  # a mixed case, so each metric below differs from its neighbours
    assert computed["accuracy"] == pytest.approx(sk.accuracy_score(labels, predicted), abs=1e-6)
    assert computed["balanced_accuracy"] == pytest.approx(sk.balanced_accuracy_score(labels, predicted), abs=1e-6)
    assert computed["top2_accuracy"] == pytest.approx(
        sk.top_k_accuracy_score(labels, probabilities, k=2, labels=ALL), abs=1e-6)
    assert computed["top2_accuracy"] > computed["accuracy"]
    assert computed["log_loss"] == pytest.approx(sk.log_loss(labels, probabilities, labels=ALL), rel=1e-5)


@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_averaged_precision_recall_f1_match_scikit_learn(predictions, computed, average):
    labels, probabilities = predictions
    predicted = probabilities.argmax(axis=1)
    expected = {"precision": sk.precision_score, "recall": sk.recall_score, "f1": sk.f1_score}
    for name, score in expected.items():
        value = score(labels, predicted, labels=ALL, average=average, zero_division=0)
        assert computed[average][name] == pytest.approx(value, abs=1e-6), name


def test_per_class_metrics_are_keyed_by_class_name(predictions, computed):
    labels, probabilities = predictions
    predicted = probabilities.argmax(axis=1)
    assert list(computed["per_class"]) == list(CLASS_NAMES)
    f1 = sk.f1_score(labels, predicted, labels=ALL, average=None, zero_division=0)
    precision = sk.precision_score(labels, predicted, labels=ALL, average=None, zero_division=0)
    recall = sk.recall_score(labels, predicted, labels=ALL, average=None, zero_division=0)
    for index, name in enumerate(CLASS_NAMES):
        scores = computed["per_class"][name]
        assert scores["f1"] == pytest.approx(f1[index], abs=1e-6)
        assert scores["precision"] == pytest.approx(precision[index], abs=1e-6)
        assert scores["recall"] == pytest.approx(recall[index], abs=1e-6)
        assert scores["support"] == 12 and isinstance(scores["support"], int)


def test_metrics_are_plain_json(computed):
    assert json.loads(json.dumps(computed)) == computed


def test_metrics_of_a_perfect_model():
    labels = np.arange(CLASSES).repeat(3)
    metrics = classification_metrics(labels, probabilities_with_top(labels, 0.91), calibration_bins=10)
    assert metrics["accuracy"] == metrics["balanced_accuracy"] == metrics["macro"]["f1"] == 1.0
    assert metrics["expected_calibration_error"] == pytest.approx(0.09, abs=1e-6)


def test_calibration_error_is_zero_when_confidence_matches_accuracy():
    labels = np.zeros(10, int)
    predicted = np.array([0] * 8 + [1, 2])  # 80% right, every answer given with confidence 0.8
    probabilities = probabilities_with_top(predicted, 0.8)
    assert expected_calibration_error(labels, probabilities, bins=10) == pytest.approx(0.0, abs=1e-12)


def test_calibration_error_of_a_hand_computed_case():
    # Five answers at confidence 0.9 with 3 right (gap 0.3), five at 0.5 all right (gap 0.5): 0.5*0.3 + 0.5*0.5.
    labels = np.zeros(10, int)
    predicted = np.array([0, 0, 0, 1, 2] + [0] * 5)
    probabilities = np.concatenate([probabilities_with_top(predicted[:5], 0.9),
                                    probabilities_with_top(predicted[5:], 0.5)])
    assert expected_calibration_error(labels, probabilities, bins=10) == pytest.approx(0.4, abs=1e-12)


def test_calibration_error_weights_bins_by_their_size():
    # One answer at 0.95, right (gap 0.05), nine at 0.35, all wrong (gap 0.35): 0.1*0.05 + 0.9*0.35.
    labels = np.zeros(10, int)
    predicted = np.array([0] + [3] * 9)
    probabilities = np.concatenate([probabilities_with_top(predicted[:1], 0.95),
                                    probabilities_with_top(predicted[1:], 0.35)])
    assert expected_calibration_error(labels, probabilities, bins=10) == pytest.approx(0.32, abs=1e-12)


def test_confidence_bins_report_only_non_empty_bins():
    labels = np.zeros(10, int)
    predicted = np.array([0, 0, 0, 1, 2] + [0] * 5)
    probabilities = np.concatenate([probabilities_with_top(predicted[:5], 0.93),
                                    probabilities_with_top(predicted[5:], 0.55)])
    rows = confidence_bins(labels, probabilities, bins=10)
    assert [(row["lower"], row["upper"]) for row in rows] == [pytest.approx((0.5, 0.6)), pytest.approx((0.9, 1.0))]
    assert [row["count"] for row in rows] == [5, 5]
    assert [row["accuracy"] for row in rows] == pytest.approx([1.0, 0.6])
    assert [row["confidence"] for row in rows] == pytest.approx([0.55, 0.93])


def test_confusion_records_name_the_classes():
    labels = np.array([0, 3, 9], np.uint8)
    predicted = np.array([6, 3, 7])
    records = confusion_records(labels, predicted)
    assert records == [{"actual": CLASS_NAMES[0], "predicted": CLASS_NAMES[6]},
                       {"actual": CLASS_NAMES[3], "predicted": CLASS_NAMES[3]},
                       {"actual": CLASS_NAMES[9], "predicted": CLASS_NAMES[7]}]
    assert json.loads(json.dumps(records)) == records


def test_confusion_counts_rows_are_actual_columns_predicted():
    counts = confusion_counts(np.array([0, 0, 4]), np.array([6, 6, 2]))
    assert counts.shape == (CLASSES, CLASSES)
    assert counts[0, 6] == 2 and counts[4, 2] == 1 and counts.sum() == 3


def test_most_confused_pairs_are_largest_off_diagonal_first():
    counts = np.diag(np.full(CLASSES, 100))
    counts[6, 0], counts[2, 4], counts[1, 7], counts[9, 5] = 3, 5, 1, 4
    assert most_confused_pairs(counts, 3) == [(2, 4, 5), (9, 5, 4), (6, 0, 3)]
    assert all(isinstance(value, int) for pair in most_confused_pairs(counts, 3) for value in pair)


def test_most_confused_pairs_skip_empty_cells():
    counts = np.diag(np.full(CLASSES, 50))
    counts[6, 0], counts[0, 6] = 2, 1
    assert most_confused_pairs(counts, 5) == [(6, 0, 2), (0, 6, 1)]
    assert most_confused_pairs(np.diag(np.full(CLASSES, 50)), 5) == []


def test_misclassified_examples_pick_the_most_confident_mistakes():
    # Five T-shirts taken for Shirts with confidences 0.5, 0.9, 0.7, 0.6, 0.8; one Coat taken for a Pullover.
    labels = np.array([0, 0, 0, 0, 0, 4, 1, 1])
    predicted = np.array([6, 6, 6, 6, 6, 2, 1, 1])
    confidences = np.array([0.5, 0.9, 0.7, 0.6, 0.8, 0.95, 0.99, 0.99])
    probabilities = np.concatenate([probabilities_with_top(predicted[i:i + 1], confidences[i])
                                    for i in range(len(labels))])
    examples = misclassified_examples(labels, probabilities, pairs=2, per_pair=3)
    assert [(e["actual"], e["predicted"], e["count"]) for e in examples] == [
        (CLASS_NAMES[0], CLASS_NAMES[6], 5), (CLASS_NAMES[4], CLASS_NAMES[2], 1)]
    assert examples[0]["indices"] == [1, 4, 2]
    assert examples[0]["confidences"] == pytest.approx([0.9, 0.8, 0.7])
    assert examples[1]["indices"] == [5]


def test_classification_report_has_a_row_per_class_plus_averages(predictions):
    labels, probabilities = predictions
    predicted = probabilities.argmax(axis=1)
    table = classification_report_table(labels, predicted)
    assert list(table.index[:CLASSES]) == list(CLASS_NAMES)
    assert {"macro avg", "weighted avg"} <= set(table.index[CLASSES:])
    assert set(table.index[CLASSES:]) <= {"accuracy", "macro avg", "weighted avg"}
    assert list(table["support"][:CLASSES]) == [12] * CLASSES
    np.testing.assert_allclose(table["f1-score"][:CLASSES],
                               sk.f1_score(labels, predicted, labels=ALL, average=None, zero_division=0))


def test_classification_report_lists_classes_never_seen():
    table = classification_report_table(np.array([0, 1, 1]), np.array([0, 1, 0]))
    assert list(table.index[:CLASSES]) == list(CLASS_NAMES)
    assert table.loc[CLASS_NAMES[9], "support"] == 0


def test_tiny_values_keep_significant_digits_rounding():
    assert rounded({"p_value": 1.234567891e-33, "n": 3}) == {"p_value": 1.23457e-33, "n": 3}
