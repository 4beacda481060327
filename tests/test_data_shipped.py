"""lossbook.data.shipped: scikit-learn's bundled sets, split and standardised without leaks."""

import numpy as np
import pytest
import torch

from lossbook.data import shipped


@pytest.mark.parametrize("name", shipped.NAMES)
def test_splits_partition_the_data_set(name):
    features, target = shipped.raw(name)
    split = shipped.load(name, seed=3, validation_fraction=0.2, test_fraction=0.25)
    sizes = [len(split.x_train), len(split.x_val), len(split.x_test)]
    assert sum(sizes) == len(features)
    assert abs(sizes[2] / len(features) - 0.25) < 0.02
    assert abs(sizes[1] / len(features) - 0.2) < 0.02
    for x, y in [(split.x_train, split.y_train), (split.x_val, split.y_val),
                 (split.x_test, split.y_test)]:
        assert x.dtype == torch.float32 and len(x) == len(y)
        assert y.dtype == (torch.float32 if name in shipped.REGRESSION else torch.long)


@pytest.mark.parametrize("name", shipped.NAMES)
def test_features_are_standardised_with_training_statistics_only(name):
    split = shipped.load(name, seed=0, dtype=torch.float64)
    train = split.x_train
    constant = train.std(0, unbiased=False) == 0
    torch.testing.assert_close(train.mean(0), torch.zeros_like(train.mean(0)), atol=1e-10,
                               rtol=0)
    torch.testing.assert_close(train.std(0, unbiased=False)[~constant],
                               torch.ones(int((~constant).sum()), dtype=torch.float64))
    # the test split is transformed with the training statistics, so it is not exactly
    # standardised itself
    assert not torch.allclose(split.x_test.mean(0), torch.zeros_like(train.mean(0)), atol=1e-6)


def test_rows_are_the_shipped_rows_after_the_training_transform():
    features, target = shipped.raw("wine")
    split = shipped.load("wine", seed=1, dtype=torch.float64)
    train, _, test = shipped.split_indices(target, (0.0, 0.25), 1, stratify=True)
    mean, std = features[train].mean(0), features[train].std(0)
    np.testing.assert_allclose(split.x_test.numpy(), (features[test] - mean) / std)
    np.testing.assert_array_equal(split.y_test.numpy(), target[test])


def test_regression_target_is_standardised_and_can_be_undone():
    features, target = shipped.raw("diabetes")
    split = shipped.load("diabetes", seed=0, dtype=torch.float64)
    restored = split.y_train * split.target_scale + split.target_mean
    train, _, _ = shipped.split_indices(target, (0.0, 0.25), 0, stratify=False)
    np.testing.assert_allclose(restored.numpy(), target[train])


def test_classification_splits_are_stratified_and_seeded():
    split = shipped.load("digits", seed=0)
    counts = torch.bincount(split.y_test, minlength=10)
    assert counts.min() >= 43 and counts.max() <= 47  # 25 % of 174-183 per class
    assert split.num_classes == 10
    again = shipped.load("digits", seed=0)
    other = shipped.load("digits", seed=1)
    assert torch.equal(split.x_test, again.x_test)
    assert not torch.equal(split.x_test, other.x_test)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="^name: expected one of digits"):
        shipped.load("mnist")
    with pytest.raises(ValueError, match="^fractions:"):
        shipped.load("iris", test_fraction=0.6, validation_fraction=0.5)
