"""fmnist.why.robustness: shifts and rotations exact on small synthetic images, seeded noise, the curves' layout."""
import numpy as np
import pytest

from conftest import project_params
from fmnist.params import RobustnessParams
from fmnist.why.robustness import (BACKGROUND, curve_records, curves_from_metrics, metrics_keys, noisy, robustness_curves,
                                  rotated, shifted, shifted_each_way)


def random_images(count=3, side=28, seed=0):
    return np.random.default_rng(seed).integers(1, 256, (count, side, side)).astype(np.uint8)


@pytest.mark.parametrize("rows, columns", [(1, 0), (-2, 0), (0, 3), (0, -4), (2, -1)])
def test_a_shift_moves_every_pixel_exactly_and_fills_the_emptied_edge_with_background(rows, columns):
    images = random_images(side=9)
    result = shifted(images, rows, columns)
    assert result.dtype == images.dtype and result.shape == images.shape
    for r in range(9):
        for c in range(9):
            source = (r - rows, c - columns)
            expected = images[:, source[0], source[1]] if 0 <= source[0] < 9 and 0 <= source[1] < 9 else BACKGROUND
            np.testing.assert_array_equal(result[:, r, c], expected)


def test_a_single_bright_pixel_lands_where_the_shift_says():
    image = np.zeros((1, 5, 5), np.uint8)
    image[0, 2, 2] = 200
    assert np.argwhere(shifted(image, 1, -2)[0]).tolist() == [[3, 0]]
    assert not shifted(image, 0, 3).any(), "moved off the image"


def test_a_shift_by_the_whole_side_leaves_only_background():
    assert (shifted(random_images(side=6), 6, 0) == BACKGROUND).all()


def test_each_way_shifts_image_i_in_direction_i_mod_4():
    images = random_images(count=9, side=8)
    result = shifted_each_way(images, 2)
    for index, (rows, columns) in enumerate([(-2, 0), (2, 0), (0, -2), (0, 2)] * 3):
        if index < len(images):
            np.testing.assert_array_equal(result[index], shifted(images[index:index + 1], rows, columns)[0])


def test_rotation_by_zero_is_the_identity_and_quarter_turns_are_exact():
    images = random_images()
    np.testing.assert_array_equal(rotated(images, 0), images)
    np.testing.assert_array_equal(rotated(images, 90), np.rot90(images, 1, axes=(1, 2)))
    np.testing.assert_array_equal(rotated(images, -90), np.rot90(images, -1, axes=(1, 2)))
    np.testing.assert_array_equal(rotated(images, 180), images[:, ::-1, ::-1])


def test_positive_degrees_turn_counter_clockwise_as_seen():
    image = np.zeros((1, 5, 5), np.uint8)
    image[0, 0, 4] = 255  # top right
    assert np.argwhere(rotated(image, 90)[0]).tolist() == [[0, 0]], "to the top left"


def test_a_small_rotation_keeps_the_centre_and_fills_the_corners_with_background():
    image = np.full((1, 28, 28), 255, np.uint8)
    result = rotated(image, 20)
    assert result[0, 14, 14] == 255 and result[0, 0, 0] == BACKGROUND and result[0, 27, 27] == BACKGROUND
    assert 0.8 < result.mean() / 255 < 0.95, "the rotated square covers most, not all, of the frame"


def test_noise_is_seeded_clipped_and_of_the_stated_size():
    images = np.full((20, 28, 28), 128, np.uint8)
    first, second = noisy(images, 0.1, seed=5), noisy(images, 0.1, seed=5)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, noisy(images, 0.1, seed=6))
    assert first.dtype == np.uint8
    assert np.std(first.astype(float)) == pytest.approx(0.1 * 255, rel=0.05)
    assert noisy(np.zeros((2, 28, 28), np.uint8), 0.5, seed=0).min() == 0


def test_curves_start_at_the_clean_accuracy_and_average_the_four_shift_directions():
    params = project_params("robustness", RobustnessParams, shifts=(1, 2), rotations=(10.0,), noise_levels=(0.2,))
    images = np.zeros((4, 28, 28), np.uint8)
    images[:, 10, 14] = 255  # a pixel: an image is "right" while its pixel lies on row 10

    def on_row_ten(perturbed):
        return float(np.mean(perturbed[:, 10].any(axis=1)))
    curves = robustness_curves(on_row_ten, images, params)
    assert list(curves) == ["shift", "rotation", "noise"]
    assert curves["shift"] == {0: 1.0, 1: 0.5, 2: 0.5}, "left and right keep it on its row, up and down do not"
    assert list(curves["rotation"]) == [-10.0, 0, 10.0]
    assert list(curves["noise"]) == [0, 0.2]
    assert curve_records(curves["shift"], "shift") == [{"pixels": 0, "accuracy": 1.0}, {"pixels": 1, "accuracy": 0.5},
                                                      {"pixels": 2, "accuracy": 0.5}]
    assert metrics_keys(curves)["rotation"] == {"-10": curves["rotation"][-10.0], "0": 1.0, "10": curves["rotation"][10.0]}
    assert curves_from_metrics(metrics_keys(curves)) == curves, "compare draws the curves back from the metrics"
    assert list(curves_from_metrics(metrics_keys(curves))["rotation"]) == [-10.0, 0, 10.0], "in order of level"
