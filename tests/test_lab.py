"""fmnist.serving.lab: the shift parameter's parsing, the fixed order of the steps, the seeds read from params.yaml.

The API's parity with the study's code, its 422s and the page's lab in a browser are in tests/test_serve.py, on its
running server."""
import numpy as np
import pytest

from conftest import PROJECT_PARAMS_FILE, project_params
from fmnist.params import ControlParams, RobustnessParams
from fmnist.serving.lab import SHIFT_LIMIT, Perturbation, StudySeeds, parsed_shift, perturbed, study_seeds
from fmnist.why.control import pixel_permutation
from fmnist.why.robustness import rotated, shifted


@pytest.mark.parametrize("text, shift", [("2,0", (2, 0)), (" -14 , 14 ", (-14, 14)), ("+3,-1", (3, -1))])
def test_a_shift_is_rows_then_columns(text, shift):
    assert parsed_shift(text) == shift


@pytest.mark.parametrize("text", ["2", "1,2,3", "a,b", "1.5,0", "", f"{SHIFT_LIMIT + 1},0", f"0,-{SHIFT_LIMIT + 1}"])
def test_a_malformed_or_too_large_shift_is_refused(text):
    with pytest.raises(ValueError, match=r"shift must be 'rows,cols'"):
        parsed_shift(text)


def test_the_steps_run_in_the_documented_order_and_the_identity_changes_nothing():
    image = np.zeros((28, 28), np.uint8)
    image[4:10, 2:6] = 255  # off centre: a shift and a rotation do not commute on it
    seeds = StudySeeds(0, 0, pixel_permutation(0))
    both = perturbed(image, Perturbation(shift=(0, 5), rotate=90.0), seeds)
    np.testing.assert_array_equal(both, rotated(shifted(image[None], 0, 5), 90.0)[0])
    assert not np.array_equal(both, shifted(rotated(image[None], 90.0), 0, 5)[0]), "the order matters here"
    np.testing.assert_array_equal(perturbed(image, Perturbation(), seeds), image)
    assert Perturbation().is_identity() and not Perturbation(scramble=True).is_identity()


def test_the_seeds_are_params_yamls_robustness_and_control_seeds():
    seeds = study_seeds(PROJECT_PARAMS_FILE)
    control = project_params("control", ControlParams)
    assert seeds.noise_seed == project_params("robustness", RobustnessParams).seed
    assert seeds.permutation_seed == control.seed
    np.testing.assert_array_equal(seeds.permutation, pixel_permutation(control.seed))
