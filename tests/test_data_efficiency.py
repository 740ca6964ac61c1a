"""fmnist.data_efficiency: the rule for the epochs a model trains for on a subset."""
from fmnist.data_efficiency import subset_epochs


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
