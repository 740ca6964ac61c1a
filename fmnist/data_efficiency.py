"""Learning curves: the rule for the epochs a model trains for on a subset of the training split."""


def subset_epochs(size, largest, epochs, max_epochs):
    """Epochs for a subset of `size` images: as many images seen (so about as many gradient steps) as `epochs`
    on the largest subset, up to max_epochs; a small set is then trained longer, not merely undertrained."""
    return max(1, min(max_epochs, round(epochs * largest / size)))

