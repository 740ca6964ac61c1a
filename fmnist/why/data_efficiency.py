"""Learning curves: the settings and the rule for the epochs a model trains for on a subset of the training split."""
from fmnist.params import with_changes

# What the learning curves set in each model's settings; dvc.yaml's data_efficiency stage depends on every other key
# of the model sections (tests/test_data_efficiency.py checks).
OVERRIDDEN_SETTINGS = ("epochs", "early_stopping_patience")


def subset_settings(name, model_params, epochs):
    """Model `name`'s own settings for `epochs` and without early stopping (a fixed budget); validated."""
    return with_changes(name, model_params, epochs=epochs, early_stopping_patience=0)


def subset_epochs(size, largest, epochs, max_epochs):
    """Epochs for a subset of `size` images: as many images seen (so about as many gradient steps) as `epochs`
    on the largest subset, up to max_epochs; a small set is then trained longer, not merely undertrained."""
    return max(1, min(max_epochs, round(epochs * largest / size)))

