"""Perturbed test images, exactly defined: shifts with the emptied edge filled with background, rotations about the
centre, seeded Gaussian noise; and the accuracy curves of a model over them."""
import numpy as np
from scipy import ndimage

BACKGROUND = 0  # Fashion-MNIST draws garments light on black
DIRECTIONS = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}  # (rows, columns) per pixel


def shifted(images, rows, columns):
    """Images (n, h, w) moved by whole pixels (positive: down, right); what moves in is background."""
    result = np.full_like(images, BACKGROUND)
    height, width = images.shape[1:]
    if abs(rows) >= height or abs(columns) >= width:
        return result
    target = (slice(None), slice(max(rows, 0), height + min(rows, 0)), slice(max(columns, 0), width + min(columns, 0)))
    source = (slice(None), slice(max(-rows, 0), height + min(-rows, 0)), slice(max(-columns, 0), width + min(-columns, 0)))
    result[target] = images[source]
    return result


def shifted_each_way(images, pixels):
    """Image i shifted by `pixels` in direction i mod 4 (up, down, left, right): the four directions' accuracies
    averaged, at the cost of one pass over the images instead of four."""
    result = np.empty_like(images)
    for way, (rows, columns) in enumerate(DIRECTIONS.values()):
        result[way::len(DIRECTIONS)] = shifted(images[way::len(DIRECTIONS)], rows * pixels, columns * pixels)
    return result


def rotated(images, degrees):
    """Images (n, h, w) of uint8 turned counter-clockwise (as seen) by `degrees` about their centre, bilinear,
    the corners filled with background, rounded back to uint8."""
    turned = ndimage.rotate(images.astype(np.float32), degrees, axes=(2, 1), reshape=False, order=1,
                            mode="constant", cval=BACKGROUND)
    return np.clip(np.rint(turned), 0, 255).astype(np.uint8)


def noisy(images, level, seed):
    """Images with Gaussian noise of standard deviation level * 255 added, seeded, clipped to 0..255."""
    noise = np.random.default_rng(seed).normal(0.0, level * 255, images.shape)
    return np.clip(np.rint(images + noise), 0, 255).astype(np.uint8)


def robustness_curves(accuracy, images, params):
    """{"shift": {pixels: accuracy over the four directions}, "rotation": {signed degrees: accuracy},
    "noise": {level: accuracy}}, each curve starting at the clean images' accuracy (0); accuracy(images) -> float,
    the share of `images` (in the test set's order) answered right."""
    clean = accuracy(images)
    curves = {"shift": {0: clean}, "rotation": {0: clean}, "noise": {0: clean}}
    for pixels in params.shifts:
        curves["shift"][pixels] = accuracy(shifted_each_way(images, pixels))
    for degrees in params.rotations:
        for signed in (-degrees, degrees):
            curves["rotation"][signed] = accuracy(rotated(images, signed))
    for level in params.noise_levels:
        curves["noise"][level] = accuracy(noisy(images, level, params.seed))
    return {kind: dict(sorted(curve.items())) for kind, curve in curves.items()}


CURVE_AXES = {"shift": "pixels", "rotation": "degrees", "noise": "noise_std"}  # each curve's x, as plot data names it


def curve_records(curve, kind):
    """DVC plot data of one curve: [{<x name>: level, "accuracy": accuracy}, ...]."""
    return [{CURVE_AXES[kind]: level, "accuracy": accuracy} for level, accuracy in curve.items()]


def metrics_keys(curves):
    """The curves with string keys, as JSON and `dvc metrics diff` show them: {"shift": {"1": ...}, ...}."""
    return {kind: {f"{level:g}": accuracy for level, accuracy in curve.items()} for kind, curve in curves.items()}


def curves_from_metrics(metrics):
    """metrics_keys' form back to curves with numeric levels, in order: {"shift": {1.0: ...}, ...}."""
    return {kind: dict(sorted((float(level), accuracy) for level, accuracy in curve.items()))
            for kind, curve in metrics.items()}
