"""The lab of bin/serve: one model input shifted, rotated, blurred with noise and scrambled by the study's own code
(fmnist.why.robustness and the control's pixel permutation), in one fixed order, and the query that asks for it."""
import re
from dataclasses import dataclass
from typing import Annotated

import numpy as np
from fastapi import Query
from pydantic import AfterValidator

from fmnist.params import MAX_NOISE, MAX_ROTATION, MAX_SHIFT, ControlParams, RobustnessParams, load_params
from fmnist.why.control import pixel_permutation, scrambled
from fmnist.why.robustness import noisy, rotated, shifted

ORDER = ("shift", "rotate", "noise", "scramble")  # the order the steps are applied in
SHIFT_LIMIT = MAX_SHIFT             # pixels each way, the robustness stage's own limits
ROTATE_LIMIT = float(MAX_ROTATION)  # degrees each way
NOISE_LIMIT = float(MAX_NOISE)      # standard deviation as a share of 255
LIMITS = {"shift": SHIFT_LIMIT, "rotate": ROTATE_LIMIT, "noise": NOISE_LIMIT}
ALLOWED = {  # each setting's values in words: the OpenAPI description and the 422 error say them alike
    "shift": f"'rows,cols': two whole numbers of pixels, each in [-{SHIFT_LIMIT}, {SHIFT_LIMIT}] (positive: down, "
             "right; what moves in is background)",
    "rotate": f"degrees in [-{ROTATE_LIMIT:g}, {ROTATE_LIMIT:g}] (positive: counter-clockwise, about the centre)",
    "noise": f"a share of 255 in [0, {NOISE_LIMIT:g}]: the standard deviation of Gaussian noise, seeded with "
             "robustness.seed",
    "scramble": "true or false: permute the pixels with the control stage's permutation (control.seed)",
}
SHIFT_TEXT = re.compile(r"\s*([+-]?\d{1,3})\s*,\s*([+-]?\d{1,3})\s*")


@dataclass(frozen=True)
class Perturbation:
    shift: tuple[int, int] = (0, 0)  # rows (down), columns (right)
    rotate: float = 0.0
    noise: float = 0.0
    scramble: bool = False

    def is_identity(self):
        return self == Perturbation()


@dataclass(frozen=True, eq=False)
class StudySeeds:
    """What makes the lab's noise and scramble the study's: robustness.seed and control.seed's permutation."""

    noise_seed: int
    permutation_seed: int
    permutation: np.ndarray


def study_seeds(params_path):
    """The seeds of params.yaml's robustness and control sections (StudyError naming a bad key)."""
    permutation_seed = load_params("control", ControlParams, params_path).seed
    return StudySeeds(load_params("robustness", RobustnessParams, params_path).seed, permutation_seed,
                      pixel_permutation(permutation_seed))


def parsed_shift(text):
    """'rows,cols' -> (rows, cols), each within SHIFT_LIMIT; ValueError otherwise (the 422 says ALLOWED)."""
    match = SHIFT_TEXT.fullmatch(text)
    shift = tuple(int(part) for part in match.groups()) if match else None
    if shift is None or max(abs(part) for part in shift) > SHIFT_LIMIT:
        raise ValueError(f"shift must be {ALLOWED['shift']}")
    return shift


def perturbation_query(
        shift: Annotated[str | None, AfterValidator(parsed_shift),
                         Query(description=f"Shift the model input: {ALLOWED['shift']}; 2,0 is two pixels down. "
                                           "Default 0,0.")] = None,
        rotate: Annotated[float, Query(ge=-ROTATE_LIMIT, le=ROTATE_LIMIT,
                                       description=f"Rotate it, after the shift: {ALLOWED['rotate']}.")] = 0.0,
        noise: Annotated[float, Query(ge=0.0, le=NOISE_LIMIT,
                                      description=f"Then add noise: {ALLOWED['noise']}.")] = 0.0,
        scramble: Annotated[bool, Query(description=f"Last, scramble: {ALLOWED['scramble']}.")] = False):
    """The lab's query parameters of POST /api/predict (a FastAPI dependency) as a Perturbation."""
    return Perturbation(shift or (0, 0), rotate, noise, scramble)


def perturbed(image, perturbation, seeds):
    """A 28x28 uint8 model input perturbed in ORDER by the study's functions, each on a one-image batch: shifted,
    rotated, noisy (its noise is what the robustness stage draws for a one-image set), scrambled. A step at its
    identity (no shift, 0 degrees, no noise, no scramble) is skipped: it would return the image unchanged."""
    images = image[None]
    if perturbation.shift != (0, 0):
        images = shifted(images, *perturbation.shift)
    if perturbation.rotate:
        images = rotated(images, perturbation.rotate)
    if perturbation.noise:
        images = noisy(images, perturbation.noise, seeds.noise_seed)
    if perturbation.scramble:
        images = scrambled(images, seeds.permutation)
    return images[0]


def applied(perturbation, seeds):
    """The settings a response echoes: every step in ORDER, and the seeds that fix the noise and the permutation."""
    return {"order": list(ORDER), "shift": list(perturbation.shift), "rotate": perturbation.rotate,
            "noise": perturbation.noise, "scramble": perturbation.scramble, "noise_seed": seeds.noise_seed,
            "permutation_seed": seeds.permutation_seed}
