"""Learning curves: the rule for the epochs a model trains for on a subset of the training split, and the points.

The curves train with the control's settings (fmnist.why.control.run_settings, its first seed), so their largest
point is the control's original arm on its subset: read from the control's predictions, not trained twice.
"""
import numpy as np

from fmnist.errors import StudyError
from fmnist.why.control import OVERRIDDEN_SETTINGS, prediction_key

# The learning curves set what the control sets: dvc.yaml's data_efficiency_<model> stage depends on every other
# key of its model's section, as the control does (tests/test_data_efficiency.py checks).
__all__ = ["OVERRIDDEN_SETTINGS", "control_point", "curve_metrics", "require_below", "subset_epochs"]


def subset_epochs(size, largest, epochs, max_epochs):
    """Epochs for a subset of `size` images: as many images seen (so about as many gradient steps) as `epochs`
    on the largest subset, up to max_epochs; a small set is then trained longer, not merely undertrained."""
    return max(1, min(max_epochs, round(epochs * largest / size)))


def require_below(sizes, largest):
    """The subsets must be smaller than the control's, whose original arm is the curve's largest point."""
    too_large = [size for size in sizes if size >= largest]
    if too_large:
        raise StudyError(f"data_efficiency.train_images must each be below control.train_images ({largest}), got "
                         f"{', '.join(map(str, too_large))}: the control's original arm is the curve's largest point")


def control_point(predictions, name, train_images, epochs):
    """The largest point of model `name`'s curve: the control's original arm, first seed, on the test set."""
    predicted = predictions[prediction_key(name, "original", "test")][0]
    return {"train_images": train_images, "epochs": epochs,
            "test_accuracy": float(np.mean(predicted == predictions["labels_test"]))}


def curve_metrics(curve):
    """A curve's points as metrics, keyed by training images: {"1000": {"test_accuracy", "epochs"}, ...}."""
    return {str(point["train_images"]): {"test_accuracy": point["test_accuracy"], "epochs": point["epochs"]}
            for point in curve}


def curve_from_metrics(metrics):
    """The curve's points back from curve_metrics' form, by training images."""
    return [{"train_images": int(size), **point} for size, point in sorted(metrics.items(), key=lambda item: int(item[0]))]
