"""The scrambled-pixel control: one seeded permutation of the pixel positions, the settings both arms share, and
what the runs show (each arm's accuracy over seeds, the differences with intervals and tests).

A dense layer gives every pixel its own weights and knows no neighbours: permuting the pixels the same way in every
image changes nothing it can learn (tests/test_control.py proves the invariance). A convolution sees 3x3
neighbourhoods, which the permutation destroys. So a lead that comes from spatial structure shrinks on scrambled
images, and the ANN's accuracy stays where it was.
"""
import numpy as np
from scipy.stats import ttest_ind

from fmnist.data import IMAGE_SIDE
from fmnist.evaluation import rounded
from fmnist.params import with_changes
from fmnist.statistics import bootstrap_intervals, mcnemar_exact

ARMS = ("original", "scrambled")
EVALUATED_SPLITS = ("validation", "test")
# Mirror images, shifts and erased rectangles mean nothing once the pixels are scrambled: off in both arms.
SPATIAL_AUGMENTATIONS_OFF = {"flip": False, "translate": 0.0, "erase": 0.0, "test_time_flip": False}


def pixel_permutation(seed):
    """A seeded permutation of the 784 pixel positions."""
    return np.random.default_rng(seed).permutation(IMAGE_SIDE * IMAGE_SIDE)


def scrambled(images, permutation):
    """Images (n, 28, 28) whose pixel i (row-major) is the original's pixel permutation[i]."""
    return images.reshape(len(images), -1)[:, permutation].reshape(images.shape)


def arm_images(images, arm, permutation):
    return scrambled(images, permutation) if arm == "scrambled" else images


# What the control sets in each model's settings; dvc.yaml's control_<model> stage depends on every other key of
# its model's section (tests/test_control.py checks), so changing a model's epochs does not rerun its control.
OVERRIDDEN_SETTINGS = (*SPATIAL_AUGMENTATIONS_OFF, "epochs", "seed", "early_stopping_patience")


def run_settings(name, model_params, epochs, seed):
    """Model `name`'s own settings with the control's epochs and seed, spatial augmentations off and no early
    stopping (a fixed budget, the same in both arms); validated."""
    return with_changes(name, model_params, **SPATIAL_AUGMENTATIONS_OFF, epochs=epochs, seed=seed,
                        early_stopping_patience=0)


def prediction_key(model, arm, split):
    """The name of a (seeds, images) array of predicted classes in the control's predictions file."""
    return f"{model}_{arm}_{split}"


def accuracy_summary(per_seed):
    """Mean and seed-to-seed standard deviation of per-seed accuracies."""
    per_seed = np.asarray(per_seed, float)
    return {"mean": per_seed.mean(), "std": per_seed.std(ddof=1) if len(per_seed) > 1 else 0.0,
            "per_seed": per_seed.tolist()}


def control_accuracies(predictions, models):
    """{model: {arm: {split: mean, std, per_seed}}} from the predictions file's arrays (labels_<split> included)."""
    return rounded({model: {arm: {split: accuracy_summary(
        np.mean(predictions[prediction_key(model, arm, split)] == predictions[f"labels_{split}"], axis=1))
        for split in EVALUATED_SPLITS} for arm in ARMS} for model in models})


def seeds_test_p(scrambled_accuracies, original_accuracies):
    """Welch's t-test across seeds, two-sided: does scrambling move the accuracy beyond the seed-to-seed spread?
    Arms without any spread are told apart by their means alone (p 0 if they differ, else 1)."""
    p_value = ttest_ind(scrambled_accuracies, original_accuracies, equal_var=False).pvalue
    if np.isfinite(p_value):
        return float(p_value)
    return 0.0 if np.mean(scrambled_accuracies) != np.mean(original_accuracies) else 1.0


def changes(ann_original, ann_scrambled, cnn_original, cnn_scrambled):
    """Each model's accuracy change (scrambled minus original, means over seeds) and the CNN-minus-ANN gap per arm,
    from (images, seeds) correctness matrices."""
    ann_change = ann_scrambled.mean() - ann_original.mean()
    cnn_change = cnn_scrambled.mean() - cnn_original.mean()
    gap_original, gap_scrambled = cnn_original.mean() - ann_original.mean(), cnn_scrambled.mean() - ann_scrambled.mean()
    return {"ann_change": ann_change, "cnn_change": cnn_change, "gap_original": gap_original,
            "gap_scrambled": gap_scrambled, "gap_change": gap_scrambled - gap_original}


def control_summary(predictions, params):
    """What the control shows on the test set, with compare's statistics settings (params: CompareParams).

    The bootstrap resamples test images, the same rows for every seed and arm: its interval is the test set's
    sampling. Training randomness is the seed-to-seed spread, which Welch's test across seeds weighs; an effect is
    called real when that test is significant and the interval excludes 0. McNemar per seed is detail."""
    labels = predictions["labels_test"]
    correct = {(model, arm): (predictions[prediction_key(model, arm, "test")] == labels).T
               for model in ("ann", "cnn") for arm in ARMS}
    samples = tuple(correct[model, arm] for model in ("ann", "cnn") for arm in ARMS)
    point = changes(*samples)
    intervals = bootstrap_intervals(changes, samples, params.bootstrap_resamples, params.confidence, params.seed)

    def with_interval(key):
        return {"value": point[key], "ci_low": intervals[key][0], "ci_high": intervals[key][1]}
    summary = {"seeds": correct["ann", "original"].shape[1]}
    for model in ("ann", "cnn"):
        accuracies = {arm: correct[model, arm].mean(axis=0) for arm in ARMS}
        change, p_value = with_interval(f"{model}_change"), seeds_test_p(accuracies["scrambled"], accuracies["original"])
        summary[model] = {
            **{arm: accuracy_summary(accuracies[arm]) for arm in ARMS},
            "change": change,
            "seeds_test_p": p_value,
            "real": int(p_value < params.significance_level and not change["ci_low"] <= 0 <= change["ci_high"]),
            "mcnemar_p_per_seed": [mcnemar_exact(correct[model, "original"][:, seed],
                                                 correct[model, "scrambled"][:, seed])["p_value"]
                                   for seed in range(correct[model, "original"].shape[1])],
        }
    summary["gap"] = {arm: with_interval(f"gap_{arm}") for arm in ARMS} | {"change": with_interval("gap_change")}
    return rounded(summary)
