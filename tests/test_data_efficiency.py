"""fmnist.why.data_efficiency: the settings and the rule for the epochs a model trains for on a subset."""
from conftest import declared_params, model_keys_except, project_params
from fmnist.why.data_efficiency import OVERRIDDEN_SETTINGS, subset_epochs, subset_settings
from fmnist.params import AnnParams


def test_a_smaller_subset_trains_longer_for_about_the_same_images_seen():
    assert subset_epochs(10000, 10000, 5, 50) == 5
    assert subset_epochs(3000, 10000, 5, 50) == 17
    assert subset_epochs(1000, 10000, 5, 50) == 50
    for size in (1000, 3000, 10000):
        assert abs(subset_epochs(size, 10000, 5, 50) * size - 5 * 10000) <= size / 2


def test_the_cap_and_the_floor():
    assert subset_epochs(1000, 10000, 20, 50) == 50, "200 epochs capped"
    assert subset_epochs(10000, 10000, 1, 50) == 1
    assert subset_epochs(100, 10000, 20, 1) == 1


def test_subset_settings_change_only_the_epochs_and_early_stopping():
    ann = project_params("ann", AnnParams, epochs=40, early_stopping_patience=3, flip=True)
    settings = subset_settings("ann", ann, 7)
    assert (settings.epochs, settings.early_stopping_patience, settings.flip) == (7, 0, True)
    assert {key for key in AnnParams.model_fields if getattr(settings, key) != getattr(ann, key)} == set(OVERRIDDEN_SETTINGS)


def test_the_stage_depends_on_every_model_key_it_does_not_set():
    assert declared_params("data_efficiency") == {"data_efficiency"} | model_keys_except(OVERRIDDEN_SETTINGS)
