"""Synthetic user x item interactions with the shape of real recommender data.

The generator draws a latent model (low-rank tastes, biases, a Zipf-like item popularity,
heavy-tailed user activity, per-user active periods) and then, chunk by chunk of users,
samples which items each user interacts with, the ratings and the timestamps. Every step is
vectorized in numpy; the output CSR arrays are allocated once at their planned size and
filled in place, so the peak memory stays close to the size of the result (about 1.6 GB
for the Netflix Prize shape, 100M interactions).

Randomness comes from independent streams (one per purpose, spawned from the seed) that are
consumed in user order, so the result depends on the seed only, not on the chunk size.
The latent model and the choice of items are in `netcfg.data.synth_model`.
"""

from __future__ import annotations

import numpy as np

from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions
from netcfg.data.synth_model import (
    ChoiceContext,
    SyntheticModel,
    check_positive,
    choice_context,
    choose_items,
    random_streams,
    synthetic_model,
)

__all__ = ["GENERATOR_VERSION", "SyntheticModel", "synthesize", "synthetic_model"]

GENERATOR_VERSION = 2
"""Changes whenever the same arguments start giving other data (2: decaying taste spectrum,
stronger taste-driven choice, ratings from the experience factors). Recorded in the
metadata and part of the data cache's key, so a cached dataset is never an older one."""

# Each user's active period: a fraction of the time range, log-normal around this median,
# longer for more active users.
_PERIOD_MEDIAN = 0.12
_PERIOD_SIGMA = 0.8
_PERIOD_ACTIVITY = 0.4
# Candidate sampling: a user with n interactions draws enough popularity-weighted candidates
# to expect _DISTINCT * n distinct items, then keeps the n best by 3 affinity + Gumbel noise.
_DISTINCT = 4.0


def synthesize(
    users: int,
    items: int,
    density: float,
    *,
    implicit: bool = False,
    seed: int = 0,
    rank: int = 16,
    popularity_exponent: float = 1.0,
    activity_sigma: float = 1.2,
    noise: float = 0.5,
    mean_rating: float = 3.6,
    start_time: int = 946684800,
    end_time: int = 1136073600,
    chunk_candidates: int = 1 << 22,
) -> Interactions:
    """A realistic synthetic user x item interaction matrix.

    How it is drawn:

    * **Tastes:** the `SyntheticModel` of `synthetic_model` (low-rank user and item factors
      whose affinity has a standard deviation of 0.8, most of it in the first factors;
      independent "experience" factors; user and item biases; popularity).
    * **Activity:** user ``u`` gets ``n_u`` interactions, log-normal (``activity_sigma``)
      scaled so that the total is ``round(density * users * items)``, each at least 1 and at
      most ``items``.
    * **Which items:** a user draws candidate items by popularity, enough to expect
      ``4 n_u`` distinct ones, and keeps the ``n_u`` distinct candidates with the highest
      3 affinity + Gumbel noise. Users too active for that (``n_u`` close to ``items``) rank
      all items by log-popularity + 3 affinity + Gumbel noise (exact weighted sampling
      without replacement). A user can end up with a little fewer than ``n_u`` items when the
      candidates ran short, so the total is within a fraction of a percent of the plan.
    * **Ratings:** ``round(mean_rating + user bias + item bias + experience (centered over
      the user's items) + N(0, noise^2))``, where the experience
      (`SyntheticModel.experience`) is low-rank and correlated 0.5 with the affinity;
      clipped to 1..5, which gives a MovieLens-like histogram (mode 4, few 1s). Biased
      matrix factorization predicts them about 5% better than the biases alone (as on
      MovieLens).
    * **Times:** every user has an active period within ``[start_time, end_time)`` (a
      log-normal fraction of the range, longer for active users; starts skewed to later
      dates, as a growing service would see); interactions fall in it, denser at its start.

    Rows are users with ids 1..users, columns items with ids 1..items. The same arguments
    give the same arrays, whatever ``chunk_candidates``.

    Args:
        users: number of users (rows).
        items: number of items (columns).
        density: interactions / (users * items), in (0, 1]. Every user gets at least one
            interaction, so the total is at least ``users``.
        implicit: True for implicit feedback (``values`` None: every interaction is 1).
        seed: the random seed.
        rank: number of latent taste factors.
        popularity_exponent: Zipf exponent of item popularity; 1 gives the long tail of
            real catalogs (a few items get most interactions), 0 a uniform popularity.
        activity_sigma: sigma of the log-normal interactions per user (1.2 is close to
            Netflix and MovieLens: the mean is about twice the median).
        noise: standard deviation of the Gaussian rating noise.
        mean_rating: the rating scale's center before rounding (about the mean rating).
        start_time: first timestamp (Unix seconds, inclusive); default 2000-01-01.
        end_time: end of the time range (exclusive); default 2006-01-01.
        chunk_candidates: about how many candidates are processed at once (memory bound:
            about 100 bytes each); does not change the result.

    Returns:
        The interactions, user-oriented, with float32 ratings (or None when implicit) and
        int64 timestamps; ``meta["source"]["synthetic"]`` records every argument. The arrays
        are views of buffers allocated at the planned size (no copy is made to trim them).

    Raises:
        ValueError: a size, density, time range or scale out of range.

    Example:
        >>> matrix = synthesize(2000, 500, 0.02, seed=7)
        >>> matrix.shape
        (2000, 500)
        >>> abs(matrix.nnz - 0.02 * 2000 * 500) < 0.02 * 0.02 * 2000 * 500
        True
        >>> sorted(set(matrix.values.tolist())) == [1.0, 2.0, 3.0, 4.0, 5.0]
        True
        >>> synthesize(100, 50, 0.1, implicit=True).values is None
        True
    """
    check_positive(users=users, items=items, rank=rank, chunk_candidates=chunk_candidates)
    if not 0 < density <= 1:
        raise ValueError(f"density must be in (0, 1], got {density}")
    if not start_time < end_time:
        raise ValueError(f"start_time ({start_time}) must be before end_time ({end_time})")
    if noise < 0 or activity_sigma < 0:
        raise ValueError("noise and activity_sigma must be >= 0")
    for name, size in (("users", users), ("items", items)):
        if size >= 1 << 31:
            raise ValueError(f"{name} must be below 2**31 (int32 numbers), got {size}")
    model = synthetic_model(
        users, items, seed=seed, rank=rank, popularity_exponent=popularity_exponent
    )
    streams = random_streams(seed)
    z_activity = streams["activity"].standard_normal(users)
    counts = _activity(z_activity, activity_sigma, round(density * users * items), items)
    candidates, heavy = _candidate_counts(counts, model.popularity)
    period_start, period_length = _periods(z_activity, streams["periods"], start_time, end_time)

    planned = int(counts.sum())
    indptr = np.zeros(users + 1, dtype=np.int64)
    indices = np.empty(planned, dtype=np.int32)
    values = None if implicit else np.empty(planned, dtype=np.float32)
    times = np.empty(planned, dtype=np.int64)
    context = choice_context(model, streams, counts, candidates, heavy, items)
    # chunks of users of about chunk_candidates candidates (sort keys limit the user count)
    budget = min(chunk_candidates, context.max_chunk)
    cost = np.where(heavy, items, candidates)
    chunk = (np.cumsum(cost) - cost) // budget
    bounds = np.concatenate(([0], np.flatnonzero(np.diff(chunk)) + 1, [users]))
    total = 0
    for first, last in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        user, item = choose_items(context, first, last)
        kept = np.bincount(user, minlength=last - first)
        np.cumsum(kept, out=indptr[first + 1 : last + 1])
        indptr[first + 1 : last + 1] += total
        end = total + len(item)
        indices[total:end] = item
        if values is not None:
            _ratings(context, first, user, item, kept, mean_rating, noise, values[total:end])
        when = streams["times"].random(len(item))
        when *= when
        when *= period_length[first:last][user]
        np.floor(when, out=when)
        times[total:end] = when
        times[total:end] += period_start[first:last][user]
        total = end
    parameters = {
        "generator": GENERATOR_VERSION,
        "users": users,
        "items": items,
        "density": density,
        "implicit": implicit,
        "seed": seed,
        "rank": rank,
        "popularity_exponent": popularity_exponent,
        "activity_sigma": activity_sigma,
        "noise": noise,
        "mean_rating": mean_rating,
        "start_time": start_time,
        "end_time": end_time,
    }
    ids = lambda n: IdIndex(np.arange(1, n + 1, dtype=np.int64))  # noqa: E731
    return Interactions(
        indptr=indptr,
        indices=indices[:total],
        values=None if values is None else values[:total],
        times=times[:total],
        rows=ids(users),
        columns=ids(items),
        orientation="user",
        meta={"source": {"synthetic": parameters}},
    )


def _activity(z: np.ndarray, sigma: float, target: int, items: int) -> np.ndarray:
    """Interactions per user: ``clip(floor(s * exp(sigma z)), 1, items)`` summing to target.

    The scale ``s`` is found by bisection; the remainder goes, one each, to the users with
    the largest fractional parts (among those below ``items``).
    """
    users = len(z)
    target = min(max(target, users), users * items)
    log_raw = sigma * (z - z.max())  # <= 0

    def planned(log_scale: float) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.clip(np.floor(np.exp(log_scale + log_raw)), 1, items).astype(np.int64)

    # planned(0) is all ones (at most target); planned(high) is all items (at least target)
    low, high = 0.0, float(np.log(items) - log_raw.min()) + 1.0
    for _ in range(200):
        middle = 0.5 * (low + high)
        if planned(middle).sum() <= target:
            low = middle
        else:
            high = middle
        if high - low <= 1e-15 * high:
            break
    counts = planned(low)
    missing = target - int(counts.sum())
    if missing > 0:
        with np.errstate(over="ignore"):
            scaled = np.exp(low + log_raw)
        fraction = scaled - np.floor(scaled)
        open_users = np.flatnonzero(counts < items)
        order = open_users[np.argsort(-fraction[open_users], kind="stable")]
        counts[order[:missing]] += 1
    return counts


def _candidate_counts(counts: np.ndarray, popularity: np.ndarray) -> tuple[np.ndarray, ...]:
    """Popularity-weighted draws per user so as to expect ``_DISTINCT * n_u`` distinct items.

    The expected number of distinct items in ``m`` draws is ``sum_i 1 - exp(-m p_i)``; it is
    tabulated on a log grid of ``m`` and inverted by interpolation. Users who would need
    ``items`` draws or more are "heavy": they rank every item instead.
    """
    items = len(popularity)
    grid = np.geomspace(1.0, float(items), 96)
    distinct = np.array([items - np.exp(-m * popularity).sum() for m in grid])
    distinct = np.maximum.accumulate(distinct)
    wanted = _DISTINCT * counts
    draws = np.exp(np.interp(wanted, distinct, np.log(grid)))
    draws = np.maximum(np.ceil(draws * 1.02), wanted).astype(np.int64)
    heavy = (wanted >= distinct[-1]) | (draws >= items)
    return np.where(heavy, 0, draws), heavy


def _periods(
    z_activity: np.ndarray, rng: np.random.Generator, start: int, end: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each user's active period: first second and length (int64, within [start, end))."""
    span = end - start
    z = rng.standard_normal(len(z_activity))
    fraction = np.exp(np.log(_PERIOD_MEDIAN) + _PERIOD_ACTIVITY * z_activity + _PERIOD_SIGMA * z)
    fraction = np.clip(fraction, min(1.0, 86400.0 / span), 1.0)
    length = np.clip(np.floor(fraction * span), 1, span).astype(np.int64)
    offset = np.floor(np.sqrt(rng.random(len(z_activity))) * (span - length + 1))
    first = start + np.minimum(offset.astype(np.int64), span - length)
    return first, length


def _ratings(
    context: ChoiceContext,
    first: int,
    user: np.ndarray,
    item: np.ndarray,
    kept: np.ndarray,
    mean_rating: float,
    noise: float,
    out: np.ndarray,
) -> None:
    """Ratings 1..5 of the chosen pairs, written into ``out`` (float32)."""
    model = context.model
    taste = model.experience(user + first, item)
    total = np.bincount(user, weights=taste, minlength=len(kept))
    centre = (total / np.maximum(kept, 1)).astype(np.float32)
    out[:] = context.streams["ratings"].standard_normal(len(user), dtype=np.float32)
    out *= np.float32(noise)
    out += taste
    out -= centre[user]
    out += model.user_bias[first : first + len(kept)][user]
    out += model.item_bias[item]
    out += np.float32(mean_rating)
    np.rint(out, out=out)
    np.clip(out, 1, 5, out=out)
