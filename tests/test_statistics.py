"""fmnist.statistics: the exact McNemar test by hand, and the seeded paired bootstrap."""
from math import comb

import numpy as np
import pytest

from fmnist.statistics import bootstrap_intervals, mcnemar_exact


def paired_correctness(only_first, only_second, both=20, neither=5):
    """Correctness vectors of two models with the given discordant and concordant counts, shuffled."""
    first = [True] * only_first + [False] * only_second + [True] * both + [False] * neither
    second = [False] * only_first + [True] * only_second + [True] * both + [False] * neither
    order = np.random.default_rng(0).permutation(len(first))
    return np.array(first)[order], np.array(second)[order]


def test_mcnemar_matches_the_hand_computed_binomial_tail():
    # Discordant 1 and 9: p = 2 * (C(10,0) + C(10,1)) / 2^10 = 22/1024.
    result = mcnemar_exact(*paired_correctness(1, 9))
    assert result["only_first_correct"] == 1
    assert result["only_second_correct"] == 9
    assert result["statistic"] == 1
    assert result["p_value"] == pytest.approx(22 / 1024, rel=1e-12)


def test_mcnemar_second_hand_computed_case():
    # Discordant 0 and 6: p = 2 * C(6,0) / 2^6 = 1/32; concordant pairs do not change it.
    assert mcnemar_exact(*paired_correctness(0, 6, both=500, neither=300))["p_value"] == pytest.approx(1 / 32)
    assert mcnemar_exact(*paired_correctness(3, 7))["p_value"] == pytest.approx(
        2 * sum(comb(10, k) for k in range(4)) / 2 ** 10)


def test_mcnemar_is_symmetric():
    first, second = paired_correctness(2, 11)
    forward, backward = mcnemar_exact(first, second), mcnemar_exact(second, first)
    assert backward["p_value"] == forward["p_value"]
    assert backward["statistic"] == forward["statistic"]
    assert (backward["only_first_correct"], backward["only_second_correct"]) == (11, 2)
    assert (forward["only_first_correct"], forward["only_second_correct"]) == (2, 11)


def test_mcnemar_without_discordant_pairs_gives_p_1():
    first, second = paired_correctness(0, 0)
    result = mcnemar_exact(first, second)
    assert result == {"only_first_correct": 0, "only_second_correct": 0, "statistic": 0, "p_value": 1.0}


def test_mcnemar_balanced_discordance_is_not_significant():
    assert mcnemar_exact(*paired_correctness(8, 8))["p_value"] == pytest.approx(1.0)


def accuracy(correct):
    return {"accuracy": float(np.mean(correct))}


def correctness(size, rate=0.7, seed=0):
    return np.random.default_rng(seed).random(size) < rate


def test_bootstrap_interval_contains_the_point_estimate():
    sample = correctness(1000)
    low, high = bootstrap_intervals(accuracy, (sample,), 300, 0.95, seed=1)["accuracy"]
    assert low < accuracy(sample)["accuracy"] < high
    assert 0.6 < low < high < 0.8


def test_bootstrap_same_seed_same_result_other_seed_other_result():
    sample = correctness(500)
    first = bootstrap_intervals(accuracy, (sample,), 200, 0.95, seed=3)
    assert bootstrap_intervals(accuracy, (sample,), 200, 0.95, seed=3) == first
    assert bootstrap_intervals(accuracy, (sample,), 200, 0.95, seed=4) != first


def test_bootstrap_interval_narrows_as_the_sample_grows():
    small = bootstrap_intervals(accuracy, (correctness(200),), 300, 0.95, seed=1)["accuracy"]
    large = bootstrap_intervals(accuracy, (correctness(5000),), 300, 0.95, seed=1)["accuracy"]
    assert (large[1] - large[0]) < 0.5 * (small[1] - small[0])


def test_bootstrap_interval_widens_with_confidence():
    sample = correctness(1000)
    narrow = bootstrap_intervals(accuracy, (sample,), 400, 0.8, seed=1)["accuracy"]
    wide = bootstrap_intervals(accuracy, (sample,), 400, 0.99, seed=1)["accuracy"]
    assert wide[0] < narrow[0] and narrow[1] < wide[1]


def test_bootstrap_draws_the_same_rows_from_every_sample():
    # Resampled together, two copies of one sample always agree, so their difference has a zero-width interval.
    sample = correctness(300)
    intervals = bootstrap_intervals(lambda a, b: {"difference": float(np.mean(a) - np.mean(b)), **accuracy(a)},
                                    (sample, sample.copy()), 100, 0.95, seed=2)
    assert intervals["difference"] == (0.0, 0.0)
    assert intervals["accuracy"][0] < intervals["accuracy"][1]
