"""What the page shows besides a user's images: the study's headline numbers and a dozen test images to try.

Both are read from the pipeline's outputs when they are there (metrics/*.json, data/prepared/test.npz and
data/predictions/*.npz); the page says how to get them when they are not.
"""
import io
import json

import numpy as np
from PIL import Image

from fmnist.data import CLASS_NAMES, load_split
from fmnist.params import MODEL_NAMES
from fmnist.paths import COMPARE_METRICS, predictions_file, prepared_split

CORRECT_EXAMPLES = 8      # one test image per class that both models get right (the first 8 classes)
MISTAKES_PER_MODEL = 2    # and each model's most confident mistakes where the other model is right


def glance(root):
    """Headline numbers from metrics/compare.json, or None when the compare stage has not run."""
    path = root / COMPARE_METRICS
    if not path.exists():
        return None
    metrics = json.loads(path.read_text(encoding="utf-8"))
    gain = metrics["accuracy_gain"]
    return {"ann_accuracy": metrics["ann_accuracy"]["value"], "cnn_accuracy": metrics["cnn_accuracy"]["value"],
            "gain": gain["value"], "gain_low": gain["ci_low"], "gain_high": gain["ci_high"],
            "confidence": metrics["confidence"], "p_value": metrics["mcnemar"]["p_value"]}


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
