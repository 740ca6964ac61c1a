"""Figures of why the CNN wins: robustness and learning curves, what each model looks at, what it learned.
One function per figure, taking data and returning a matplotlib Figure, as in fmnist.figures; the title is the
figure's one-line caption."""
import math

import numpy as np

from fmnist.data import CLASS_NAMES
from fmnist.figures import plt

CURVE_LABELS = {"shift": "shift (pixels, mean of 4 directions)", "rotation": "rotation (degrees, + counter-clockwise)",
                "noise": "Gaussian noise (std as a share of 255)"}


def robustness_figure(curves):
    """Test accuracy against each perturbation's size, one panel per kind, one line per model, from
    {model: {kind: {level: accuracy}}}."""
    kinds = list(next(iter(curves.values())))
    figure, axes = plt.subplots(1, len(kinds), figsize=(4.2 * len(kinds), 3.8), squeeze=False)
    for axis, kind in zip(axes[0], kinds):
        for model, model_curves in curves.items():
            levels = list(model_curves[kind])
            axis.plot(levels, [model_curves[kind][level] for level in levels], marker="o", label=model.upper())
        axis.set_xlabel(CURVE_LABELS.get(kind, kind))
        axis.set_ylabel("test accuracy")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle("Test accuracy of the trained models on shifted, rotated and noisy test images (0: unchanged)")
    figure.tight_layout()
    return figure


def learning_curves_figure(curves):
    """Test accuracy against training images (log scale), one line per model, from {model: [point, ...]}."""
    figure, axis = plt.subplots(figsize=(6, 4))
    for model, points in curves.items():
        axis.plot([p["train_images"] for p in points], [p["test_accuracy"] for p in points], marker="o",
                  label=model.upper())
    axis.set_xscale("log")
    axis.set_xlabel("training images (stratified subset)")
    axis.set_ylabel("test accuracy")
    axis.grid(alpha=0.3, which="both")
    axis.legend()
    axis.set_title("Learning curves: test accuracy against training set size")
    figure.tight_layout()
    return figure


def attribution_gallery(images, maps, picks, title):
    """One column per class, its correct answer above its most confident mistake: the image in grey under its map."""
    figure, axes = plt.subplots(2, len(CLASS_NAMES), figsize=(1.6 * len(CLASS_NAMES), 4.2), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for pick, image, heat in zip(picks, images, maps):
        axis = axes[0 if pick["kind"] == "correct" else 1, pick["class"]]
        axis.imshow(image, cmap="gray", vmin=0, vmax=255)
        axis.imshow(heat, cmap="jet", alpha=0.45, vmin=0, vmax=1)
        axis.set_title(f"{CLASS_NAMES[pick['class']]}\n-> {CLASS_NAMES[pick['predicted']]} {pick['confidence']:.0%}",
                       fontsize=7)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def picture_grid(axes, pictures, cmap, symmetric):
    """Draw each picture on the next axis, without ticks; a symmetric colour scale puts 0 in the middle."""
    for axis, picture in zip(axes, pictures):
        limit = np.abs(picture).max() or 1
        axis.imshow(picture, cmap=cmap, vmin=-limit if symmetric else 0, vmax=limit if symmetric else None)
        axis.axis("off")


def filters_and_feature_maps(filters, feature_maps, image, title, columns=16):
    """The first layer's filters (red positive, blue negative), then the image and its first block's feature maps."""
    filter_rows, map_rows = math.ceil(len(filters) / columns), math.ceil((len(feature_maps) + 1) / columns)
    figure, axes = plt.subplots(filter_rows + map_rows, columns, figsize=(columns * 0.75, (filter_rows + map_rows) * 0.85),
                                squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    picture_grid(axes[:filter_rows].flat, filters, "bwr", symmetric=True)
    maps = axes[filter_rows:].flat
    picture_grid([next(maps)], [image], "gray", symmetric=False)
    picture_grid(maps, feature_maps, "viridis", symmetric=False)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def unit_weights_figure(weights, influences, title, columns=8):
    """Each unit's incoming weights as a 28x28 picture (red positive, blue negative), with its influence."""
    rows = math.ceil(len(weights) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.3, rows * 1.45), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    picture_grid(axes.flat, weights, "bwr", symmetric=True)
    for axis, influence in zip(axes.flat, influences):
        axis.set_title(f"{influence:.2g}", fontsize=7)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure
