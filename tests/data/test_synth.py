"""The synthetic data generator: shape, CSR invariants, determinism, and realistic structure."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netcfg.data import synth
from netcfg.data.store import load_dataset, save_dataset
from netcfg.data.synth import synthesize, synthetic_model

START, END = 946684800, 1136073600
USERS, ITEMS, DENSITY = 3000, 600, 0.02


@pytest.fixture(scope="module")
def matrix():
    return synthesize(USERS, ITEMS, DENSITY, seed=11)


def row_of_entries(m):
    return np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))


def assert_csr(m, users, items):
    assert m.shape == (users, items)
    assert m.indptr.dtype == np.int64 and m.indptr.shape == (users + 1,)
    assert m.indptr[0] == 0 and m.indptr[-1] == m.nnz
    assert np.all(np.diff(m.indptr) >= 1)  # every user has at least one interaction
    assert m.indices.dtype == np.int32
    assert m.indices.min() >= 0 and m.indices.max() < items
    same_row = row_of_entries(m)[1:] == row_of_entries(m)[:-1]
    assert np.all(np.diff(m.indices.astype(np.int64))[same_row] > 0)  # ascending, distinct


def test_shape_ids_and_metadata(matrix):
    assert_csr(matrix, USERS, ITEMS)
    assert matrix.orientation == "user"
    assert matrix.rows.ids.tolist() == list(range(1, USERS + 1))
    assert matrix.columns.ids.tolist() == list(range(1, ITEMS + 1))
    params = matrix.meta["source"]["synthetic"]
    assert params["seed"] == 11 and params["density"] == DENSITY and params["rank"] == 16
    assert matrix.values.dtype == np.float32 and matrix.times.dtype == np.int64


def test_total_matches_density(matrix):
    planned = DENSITY * USERS * ITEMS
    assert planned * 0.998 <= matrix.nnz <= planned  # short only where candidates ran out
    assert matrix.row_counts().max() <= ITEMS


def test_activity_is_heavy_tailed(matrix):
    counts = matrix.row_counts()
    assert counts.mean() > 1.5 * np.median(counts)
    assert counts.max() > 10 * np.median(counts)


@pytest.mark.parametrize("target", [1000, 12345, 99_999])
def test_planned_activity_hits_the_target_exactly(target):
    z = np.random.default_rng(target).standard_normal(1000)
    counts = synth._activity(z, 1.2, target, 200)
    assert counts.sum() == target
    assert counts.min() >= 1 and counts.max() <= 200


def test_every_user_gets_one_when_density_is_tiny():
    m = synthesize(500, 100, 1e-4, seed=2)
    assert_csr(m, 500, 100)
    assert m.nnz == 500


def test_full_density_gives_every_pair():
    m = synthesize(40, 30, 1.0, seed=3)
    assert m.nnz == 40 * 30
    assert_csr(m, 40, 30)


def test_same_seed_same_arrays_other_seed_differs(matrix):
    again = synthesize(USERS, ITEMS, DENSITY, seed=11)
    assert again == matrix  # indptr, indices, values, times, ids
    other = synthesize(USERS, ITEMS, DENSITY, seed=12)
    assert not np.array_equal(other.indices[:1000], matrix.indices[:1000])
    assert not np.array_equal(other.times[:1000], matrix.times[:1000])


def test_chunk_size_does_not_change_the_result():
    args = dict(seed=5, activity_sigma=1.6)
    counts = synthesize(1500, 200, 0.05, **args).row_counts()
    assert counts.max() == 200  # the "rank every item" path is exercised too
    big = synthesize(1500, 200, 0.05, **args, chunk_candidates=1 << 22)
    small = synthesize(1500, 200, 0.05, **args, chunk_candidates=777)
    assert big == small
    implicit = synthesize(1500, 200, 0.05, **args, implicit=True, chunk_candidates=3000)
    assert np.array_equal(implicit.indices, big.indices)
    assert np.array_equal(implicit.times, big.times)


def test_explicit_ratings_look_like_movielens(matrix):
    values = matrix.values
    assert set(np.unique(values).tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    share = np.bincount(values.astype(np.int64), minlength=6)[1:] / len(values)
    assert share.argmax() == 3  # mode 4
    assert share[0] < 0.08 < share[3] / 4  # few 1s
    assert 3.3 < values.mean() < 3.9
    assert 0.8 < values.std() < 1.3


def test_implicit_has_no_values():
    m = synthesize(300, 80, 0.05, implicit=True)
    assert m.values is None
    assert_csr(m, 300, 80)
    assert m.times is not None


def test_popularity_is_long_tailed():
    m = synthesize(5000, 1000, 0.01, seed=4, implicit=True)
    per_item = np.sort(m.column_counts())[::-1]
    assert per_item[:100].sum() > 0.4 * m.nnz  # top 10% of items
    flat = synthesize(5000, 1000, 0.01, seed=4, implicit=True, popularity_exponent=0.0)
    assert np.sort(flat.column_counts())[::-1][:100].sum() < 0.2 * flat.nnz


def test_ratings_follow_the_latent_tastes(matrix):
    model = synthetic_model(USERS, ITEMS, seed=11)
    users = row_of_entries(matrix)
    items = matrix.indices
    affinity = model.affinity(users, items)
    counts = matrix.row_counts()

    def centred(taste):
        return taste - (np.bincount(users, weights=taste) / counts)[users]

    residual = matrix.values - model.user_bias[users] - model.item_bias[items]
    assert np.corrcoef(residual, centred(model.experience(users, items)))[0, 1] > 0.5
    # the appeal that chose the items says less (it varies little among a user's items)
    assert 0.1 < np.corrcoef(residual, centred(affinity))[0, 1] < 0.5
    # a model from another seed explains nothing
    wrong = synthetic_model(USERS, ITEMS, seed=99).experience(users, items)
    assert abs(np.corrcoef(residual, centred(wrong))[0, 1]) < 0.05
    # users choose items they like: observed pairs beat random ones
    rng = np.random.default_rng(0)
    random_pairs = model.affinity(rng.integers(0, USERS, 20000), rng.integers(0, ITEMS, 20000))
    assert affinity.mean() > random_pairs.mean() + 0.2


def test_tastes_decay_over_factors_and_experience_correlates_with_appeal():
    model = synthetic_model(20000, 20000, seed=6, rank=8)
    variance = model.user_factors.var(axis=0) * model.item_factors.var(axis=0)
    assert np.allclose(
        variance / variance.sum(), (1 / np.arange(1, 9)) / (1 / np.arange(1, 9)).sum(), rtol=0.05
    )
    rng = np.random.default_rng(1)
    users, items = rng.integers(0, 20000, 50000), rng.integers(0, 20000, 50000)
    appeal, experience = model.affinity(users, items), model.experience(users, items)
    assert abs(appeal.std() - 0.8) < 0.03 and abs(experience.std() - 0.8) < 0.03
    assert abs(np.corrcoef(appeal, experience)[0, 1] - 0.5) < 0.02


def test_timestamps_fall_in_per_user_periods(matrix):
    times = matrix.times
    assert times.min() >= START and times.max() < END
    starts = matrix.indptr[:-1]
    first = np.minimum.reduceat(times, starts)
    last = np.maximum.reduceat(times, starts)
    assert ((last - first) / (END - START)).mean() < 0.4
    active = matrix.row_counts() >= 20
    assert np.all(last[active] > first[active])  # spread over the period, not one instant
    assert np.std(first) > 0.15 * (END - START)  # users start at different dates


def test_custom_time_range():
    m = synthesize(200, 50, 0.1, start_time=1000, end_time=5000)
    assert m.times.min() >= 1000 and m.times.max() < 5000


def test_save_and_load_round_trip(tmp_path, matrix):
    for name, dtype in (("indptr", "<i8"), ("indices", "<i4"), ("values", "<f4"), ("times", "<i8")):
        array = getattr(matrix, name)
        assert array.flags.c_contiguous and array.dtype == np.dtype(dtype)  # saved uncopied
    save_dataset(matrix, tmp_path / "synthetic")
    assert load_dataset(tmp_path / "synthetic") == matrix


@pytest.mark.parametrize(
    "args",
    [
        dict(users=0, items=10, density=0.1),
        dict(users=10, items=10, density=0.0),
        dict(users=10, items=10, density=1.5),
        dict(users=10, items=10, density=0.1, start_time=5, end_time=5),
        dict(users=10, items=10, density=0.1, rank=0),
        dict(users=10, items=10, density=0.1, noise=-1.0),
        dict(users=10, items=10, density=0.1, popularity_exponent=-1.0),
    ],
)
def test_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        synthesize(**args)


@settings(max_examples=25, deadline=None)
@given(
    users=st.integers(1, 60),
    items=st.integers(1, 40),
    density=st.floats(0.001, 1.0),
    seed=st.integers(0, 2**32 - 1),
    exponent=st.sampled_from([0.0, 1.0, 2.5]),
)
def test_csr_invariants_for_any_shape(users, items, density, seed, exponent):
    m = synthesize(
        users, items, density, seed=seed, popularity_exponent=exponent, chunk_candidates=50
    )
    assert_csr(m, users, items)
    planned = min(max(round(density * users * items), users), users * items)
    assert m.nnz <= planned
    assert synth.synthesize(users, items, density, seed=seed, popularity_exponent=exponent) == m
