"""fmnist.why.data_efficiency: the rule for the epochs on a subset, the subsets' bound, the control's point."""
import numpy as np
import pytest

from conftest import declared_params, model_keys_except
from fmnist.errors import StudyError
from fmnist.why.control import prediction_key
from fmnist.params import MODEL_NAMES
from fmnist.why.data_efficiency import (OVERRIDDEN_SETTINGS, control_point, curve_from_metrics, curve_metrics,
                                       require_below, subset_epochs)


def test_a_smaller_subset_trains_longer_for_about_the_same_images_seen():
    assert subset_epochs(10000, 10000, 5, 50) == 5
    assert subset_epochs(3000, 10000, 5, 50) == 17
    assert subset_epochs(1000, 10000, 5, 50) == 50
    for size in (1000, 3000, 10000):
        assert abs(subset_epochs(size, 10000, 5, 50) * size - 5 * 10000) <= size / 2


def test_the_cap_and_the_floor():
    assert subset_epochs(1000, 10000, 20, 50) == 50, "200 epochs capped"
    assert subset_epochs(10000, 10000, 1, 50) == 1
    assert subset_epochs(100, 10000, 20, 1) == 1


def test_the_subsets_must_be_smaller_than_the_controls():
    require_below((1000, 3000), 10000)
    with pytest.raises(StudyError, match=r"data_efficiency.train_images must each be below control.train_images "
                                         r"\(10000\), got 10000, 20000"):
        require_below((1000, 10000, 20000), 10000)


def test_the_largest_point_is_the_controls_original_arm_first_seed():
    labels = np.array([0, 1, 2, 3], np.uint8)
    predictions = {"labels_test": labels,
                   prediction_key("cnn", "original", "test"): np.array([[0, 1, 2, 0], [0, 0, 0, 0]], np.uint8),
                   prediction_key("cnn", "scrambled", "test"): np.zeros((2, 4), np.uint8)}
    assert control_point(predictions, "cnn", 10000, 5) == {"train_images": 10000, "epochs": 5, "test_accuracy": 0.75}


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_each_models_stage_depends_on_the_controls_settings_and_every_key_of_its_model_it_does_not_set(model):
    assert declared_params(f"data_efficiency_{model}") == {
        "data_efficiency", "control.train_images", f"control.epochs.{model}", "control.seeds"} | model_keys_except(
        model, OVERRIDDEN_SETTINGS)


def test_a_curve_comes_back_from_its_metrics_in_order_of_training_images():
    curve = [{"train_images": 1000, "epochs": 50, "test_accuracy": 0.8},
             {"train_images": 300, "epochs": 50, "test_accuracy": 0.7},
             {"train_images": 10000, "epochs": 5, "test_accuracy": 0.9}]
    metrics = curve_metrics(curve)
    assert metrics["300"] == {"test_accuracy": 0.7, "epochs": 50}
    assert curve_from_metrics(metrics) == sorted(curve, key=lambda point: point["train_images"])
