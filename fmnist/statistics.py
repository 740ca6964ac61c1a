"""Is the difference real: paired exact McNemar test and seeded bootstrap confidence intervals."""
import numpy as np
from scipy.stats import binomtest


def mcnemar_exact(first_correct, second_correct):
    """Exact McNemar test on paired correctness: a two-sided binomial test on the discordant pairs."""
    first_correct, second_correct = np.asarray(first_correct, bool), np.asarray(second_correct, bool)
    only_first = int(np.sum(first_correct & ~second_correct))
    only_second = int(np.sum(~first_correct & second_correct))
    discordant = only_first + only_second
    p_value = binomtest(only_first, discordant, 0.5).pvalue if discordant else 1.0
    return {"only_first_correct": only_first, "only_second_correct": only_second,
            "statistic": min(only_first, only_second), "p_value": float(p_value)}


def bootstrap_intervals(score, samples, resamples, confidence, seed):
    """Percentile intervals of each value of score(*rows) over `resamples` paired draws of the rows of samples.

    score returns a dict of floats; the result maps each key to (low, high).
    """
    rng = np.random.default_rng(seed)
    size = len(samples[0])
    draws = [score(*(sample[rows] for sample in samples))
             for rows in (rng.integers(0, size, size) for _ in range(resamples))]
    tail = (1 - confidence) / 2 * 100
    return {key: tuple(float(bound) for bound in np.percentile([draw[key] for draw in draws], [tail, 100 - tail]))
            for key in draws[0]}
