"""fmnist.why.control: the pixel permutation the control rests on, its settings, and what its runs are said to show."""
import keras
import numpy as np
import pytest

from conftest import declared_params, model_keys_except, project_params
from fmnist.why.control import (ARMS, OVERRIDDEN_SETTINGS, SPATIAL_AUGMENTATIONS_OFF, arm_images, control_accuracies,
                            control_summary, pixel_permutation, prediction_key, run_settings, scrambled)
from fmnist.models import build_ann
from fmnist.params import MODEL_NAMES, AnnParams, CnnParams, CompareParams, ControlParams

STATISTICS = dict(bootstrap_resamples=200, confidence=0.95, significance_level=0.05, seed=0)


def test_permutation_is_a_seeded_bijection_of_the_pixel_positions():
    permutation = pixel_permutation(7)
    assert sorted(permutation) == list(range(28 * 28)), "every position exactly once"
    np.testing.assert_array_equal(permutation, pixel_permutation(7))
    assert not np.array_equal(permutation, pixel_permutation(8))
    assert np.mean(permutation == np.arange(28 * 28)) < 0.05, "a real scramble, not the identity"


def test_scrambling_moves_each_pixel_to_the_same_place_in_every_image_and_split():
    rng = np.random.default_rng(0)
    splits = {split: rng.integers(0, 256, (count, 28, 28)).astype(np.uint8)
              for split, count in (("train", 5), ("validation", 3), ("test", 4))}
    permutation = pixel_permutation(3)
    for images in splits.values():
        result = arm_images(images, "scrambled", permutation)
        assert result.shape == images.shape and result.dtype == images.dtype
        for image, scrambled_image in zip(images, result):
            np.testing.assert_array_equal(scrambled_image.ravel(), image.ravel()[permutation])
        np.testing.assert_array_equal(np.sort(result.reshape(len(images), -1)), np.sort(images.reshape(len(images), -1)))
        assert arm_images(images, "original", permutation) is images
    # one image placed in two splits comes out the same in both
    shared = splits["train"][:1]
    np.testing.assert_array_equal(scrambled(shared, permutation), scrambled(np.concatenate([splits["test"], shared]),
                                                                              permutation)[-1:])


def test_an_ann_with_its_first_layer_permuted_gives_on_scrambled_images_what_it_gives_on_the_originals():
    """The invariance the control rests on: a dense layer can learn on scrambled pixels what it learns on the
    originals, since its weight rows, permuted like the pixels, undo the scramble."""
    params = project_params("ann", AnnParams, hidden_units=(32, 16), dropout=0.0, flip=False, translate=0.0, erase=0.0)
    keras.utils.set_random_seed(0)
    original = build_ann(params)
    permuted = build_ann(params)
    permutation = pixel_permutation(11)
    weights = [np.asarray(w) for w in original.get_weights()]
    first_kernel = next(i for i, w in enumerate(weights) if w.ndim == 2)
    assert weights[first_kernel].shape[0] == 28 * 28
    weights[first_kernel] = weights[first_kernel][permutation]
    permuted.set_weights(weights)
    images = np.random.default_rng(1).integers(0, 256, (16, 28, 28)).astype(np.float32)
    expected = np.asarray(original(images, training=False))
    np.testing.assert_allclose(np.asarray(permuted(scrambled(images, permutation), training=False)), expected,
                               rtol=1e-5, atol=1e-6)
    assert not np.allclose(np.asarray(original(scrambled(images, permutation), training=False)), expected, atol=1e-3), \
        "without permuting the weights the outputs differ: the test can fail"


def test_run_settings_turn_spatial_augmentations_off_and_keep_the_rest():
    cnn = project_params("cnn", CnnParams, flip=True, erase=0.2, translate=0.1, test_time_flip=True, epochs=20, seed=42,
                         early_stopping_patience=3)
    settings = run_settings("cnn", cnn, epochs=3, seed=7)
    assert {key: getattr(settings, key) for key in SPATIAL_AUGMENTATIONS_OFF} == SPATIAL_AUGMENTATIONS_OFF
    assert (settings.epochs, settings.seed, settings.early_stopping_patience) == (3, 7, 0)
    unchanged = set(CnnParams.model_fields) - set(OVERRIDDEN_SETTINGS)
    assert {key: getattr(settings, key) for key in unchanged} == {key: getattr(cnn, key) for key in unchanged}
    assert {key for key in CnnParams.model_fields if getattr(settings, key) != getattr(cnn, key)} == set(OVERRIDDEN_SETTINGS)


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_each_models_stage_depends_on_every_key_of_its_model_it_does_not_set(model):
    """So that `dvc status` tells when the control is stale, a model's epochs alone do not make it so, and an edit
    of one model leaves the other's control alone."""
    control = {f"control.{key}" for key in ControlParams.model_fields if key != "epochs"} | {f"control.epochs.{model}"}
    assert declared_params(f"control_{model}") == control | model_keys_except(model, OVERRIDDEN_SETTINGS)
    assert f"{model}.dropout" in declared_params(f"control_{model}")
    assert f"{model}.epochs" not in declared_params(f"control_{model}")


def synthetic_predictions(rng, accuracy, size=2000, seeds=3):
    """Predictions file arrays: labels, and for each model and arm (seeds, size) predicted classes whose accuracy per
    seed is accuracy[model, arm] plus a little seed noise."""
    labels = rng.integers(0, 10, size)
    arrays = {"labels_test": labels, "labels_validation": labels}
    for (model, arm), rate in accuracy.items():
        runs = []
        for _ in range(seeds):
            correct = rng.random(size) < rate + rng.normal(0, 0.002)
            runs.append(np.where(correct, labels, (labels + 1) % 10))
        for split in ("test", "validation"):
            arrays[prediction_key(model, arm, split)] = np.stack(runs)
    return arrays


def test_a_large_cnn_loss_is_real_and_an_unchanged_ann_is_not():
    arrays = synthetic_predictions(np.random.default_rng(0), {("ann", "original"): 0.87, ("ann", "scrambled"): 0.87,
                                                              ("cnn", "original"): 0.90, ("cnn", "scrambled"): 0.80})
    summary = control_summary(arrays, project_params("compare", CompareParams, **STATISTICS))
    assert summary["seeds"] == 3
    assert summary["cnn"]["real"] == 1 and summary["cnn"]["change"]["value"] == pytest.approx(-0.10, abs=0.02)
    assert summary["cnn"]["change"]["ci_low"] < summary["cnn"]["change"]["value"] < summary["cnn"]["change"]["ci_high"] < 0
    assert summary["cnn"]["seeds_test_p"] < 0.05
    assert summary["ann"]["real"] == 0 and abs(summary["ann"]["change"]["value"]) < 0.02
    assert len(summary["ann"]["mcnemar_p_per_seed"]) == 3
    assert summary["gap"]["original"]["value"] == pytest.approx(0.03, abs=0.02)
    assert summary["gap"]["change"]["value"] == pytest.approx(
        summary["cnn"]["change"]["value"] - summary["ann"]["change"]["value"], abs=1e-6)
    assert summary["cnn"]["original"]["std"] > 0
    assert summary["cnn"]["original"]["mean"] == pytest.approx(np.mean(summary["cnn"]["original"]["per_seed"]))


def test_control_accuracies_per_model_arm_and_split():
    arrays = synthetic_predictions(np.random.default_rng(1), {(m, a): 0.5 for m in ("ann", "cnn") for a in ARMS})
    arrays[prediction_key("cnn", "scrambled", "validation")][:] = arrays["labels_validation"]
    accuracies = control_accuracies(arrays, ("ann", "cnn"))
    assert accuracies["cnn"]["scrambled"]["validation"] == {"mean": 1.0, "std": 0.0, "per_seed": [1.0, 1.0, 1.0]}
    assert accuracies["ann"]["original"]["test"]["mean"] == pytest.approx(0.5, abs=0.03)
