"""What the page shows besides a user's images: the study's headline numbers, a dozen test images to try, and the
committed run's robustness curves and control result beside the lab.

All are read from the pipeline's outputs when they are there (metrics/*.json, data/prepared/test.npz and
data/predictions/*.npz); the page says how to get them when they are not.
"""
import io
import json

import numpy as np
from PIL import Image

from fmnist.data import CLASS_NAMES, load_split
from fmnist.params import MODEL_NAMES
from fmnist.paths import COMPARE_METRICS, predictions_file, prepared_split
from fmnist.why.results import why_metrics

CORRECT_EXAMPLES = 8      # one test image per class that both models get right (the first 8 classes)
MISTAKES_PER_MODEL = 2    # and each model's most confident mistakes where the other model is right
ROBUSTNESS_CURVES = {"shift": "shift", "rotate": "rotation", "noise": "noise"}  # lab setting: the robustness curve
SCRAMBLE_AXIS = {"original": 0, "scrambled": 1}  # the control's two arms as the x of its two-point curves


def metrics(root, path):
    """The JSON metrics file root/path, or None when its stage has not run."""
    return json.loads((root / path).read_text(encoding="utf-8")) if (root / path).exists() else None


def glance(root):
    """Headline numbers from metrics/compare.json, or None when the compare stage has not run."""
    compare = metrics(root, COMPARE_METRICS)
    if compare is None:
        return None
    gain = compare["accuracy_gain"]
    return {"ann_accuracy": compare["ann_accuracy"]["value"], "cnn_accuracy": compare["cnn_accuracy"]["value"],
            "gain": gain["value"], "gain_low": gain["ci_low"], "gain_high": gain["ci_high"],
            "confidence": compare["confidence"], "p_value": compare["mcnemar"]["p_value"]}


def lab_curves(root):
    """{setting: {model: [[x, test accuracy], ...] by x}} for the lab's settings: shift (pixels, the four directions
    averaged), rotate (signed degrees) and noise (share of 255) from metrics/robustness/*.json; scramble from the
    control's mean test accuracies in metrics/compare.json (x 0: original, 1: scrambled). A setting whose stage has
    not run is left out."""
    curves = {}
    robustness = why_metrics(root).get("robustness")
    for setting, curve in ROBUSTNESS_CURVES.items() if robustness else ():
        curves[setting] = {name: sorted([float(level), accuracy] for level, accuracy in robustness[name][curve].items())
                           for name in MODEL_NAMES}
    control = (metrics(root, COMPARE_METRICS) or {}).get("control")
    if control:
        curves["scramble"] = {name: [[x, control[name][arm]["mean"]] for arm, x in SCRAMBLE_AXIS.items()]
                              for name in MODEL_NAMES}
    return curves


def control_result(root):
    """The control's training images and seeds, and each model's accuracy change on scrambled pixels (value,
    interval, whether real) from metrics/compare.json; None when the control or compare stage has not run."""
    control, trained = (metrics(root, COMPARE_METRICS) or {}).get("control"), why_metrics(root).get("control")
    if not control or not trained:
        return None
    return {"train_images": trained[MODEL_NAMES[0]]["train_images"], "seeds": control["seeds"],
            **{name: {"change": control[name]["change"], "real": control[name]["real"]} for name in MODEL_NAMES}}


def examples(root):
    """[(caption, uint8 image 28x28)]: test images both models get right, then each model's typical mistakes.

    Empty when the test split or the evaluate stage's predictions are missing.
    """
    paths = [root / prepared_split("test")] + [root / predictions_file(name) for name in MODEL_NAMES]
    if not all(path.exists() for path in paths):
        return []
    images, labels = load_split(paths[0])
    predicted = {name: np.load(path)["probabilities"] for name, path in zip(MODEL_NAMES, paths[1:])}
    right = {name: probabilities.argmax(axis=1) == labels for name, probabilities in predicted.items()}
    chosen = []
    for label in range(CORRECT_EXAMPLES):
        index = int(np.flatnonzero((labels == label) & right["ann"] & right["cnn"])[0])
        chosen.append((f"test #{index}: {CLASS_NAMES[label]}", index))
    for name, other in zip(MODEL_NAMES, reversed(MODEL_NAMES)):  # the study's two models, each against the other
        wrong = np.flatnonzero(~right[name] & right[other])
        confidence = predicted[name][wrong].max(axis=1)
        for index in wrong[np.argsort(-confidence, kind="stable")[:MISTAKES_PER_MODEL]]:
            guess = CLASS_NAMES[predicted[name][index].argmax()]
            chosen.append((f"test #{index}: {CLASS_NAMES[labels[index]]}, the {name.upper()} says {guess}",
                           int(index)))
    return [(caption, images[index]) for caption, index in chosen]


def png_bytes(pixels):
    """A uint8 grey array as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").save(buffer, format="PNG")
    return buffer.getvalue()
