"""The latent model behind `synthesize`, and which items each user picks under it.

`synthetic_model` draws the ground truth (low-rank tastes, user and item biases, a Zipf-like
item popularity). `choose_items` then picks the items of a chunk of users: candidates drawn by
popularity, the best of them by 3 affinity + Gumbel noise. Randomness comes from independent
named streams spawned from the seed (`random_streams`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SyntheticModel", "synthetic_model"]

# Standard deviations of the latent model (rating scale). The affinity <U_u, V_i> has the
# standard deviation _TASTE, comparable to the default rating noise (0.5). Factor k carries a
# share of its variance proportional to 1 / k, as the singular values of real rating matrices
# decay: a few broad tastes, then finer ones.
_TASTE = 0.8
# How strongly the affinity drives which items a user picks (a multiple of it is added to
# Gumbel noise), and how much the appeal that made a user pick an item predicts the rating
# given after the experience (the correlation of the two affinities).
_CHOICE_TASTE = 3.0
_EXPERIENCE_CORRELATION = 0.5
_USER_BIAS = 0.45
_ITEM_BIAS = 0.4
_ITEM_BIAS_POPULARITY = 0.1  # popular items are rated a little higher
# Item choice: a user's popularity-weighted candidates are packed with the user into int64
# sort keys, and the n best by 3 affinity + Gumbel noise are kept.
_SAMPLE_BITS = 40  # resolution of the popularity CDF (items below 2**-40 are not sampled)
_SCORE_BITS = 20  # resolution of the scores in the selection sort key
_SCORE_LOW, _SCORE_HIGH = -64.0, 48.0
_STREAMS = (
    "factors",
    "popularity",
    "activity",
    "periods",
    "candidates",
    "selection",
    "ratings",
    "times",
    "experience",
)


@dataclass(frozen=True)
class SyntheticModel:
    """The latent model behind `synthesize` (the ground truth a recommender should recover).

    Attributes:
        user_factors: float32 [users, rank]: column k is N(0, s_k^2), with ``s_k^4``
            proportional to ``1 / k`` and summing to ``0.8^2``, so that the affinity
            ``user_factors[u] @ item_factors[i]`` (the appeal that makes users pick items)
            has a standard deviation of 0.8, most of it in the first factors.
        item_factors: float32 [items, rank], same distribution.
        user_experience, item_experience: float32 [users | items, rank], independent factors
            of the same distribution; see `experience`.
        user_bias: float32 [users], rating offset of each user (standard deviation 0.45).
        item_bias: float32 [items], rating offset of each item: N(0, 0.4^2) plus 0.1 per
            standard deviation of log-popularity above that of a typical interaction
            (popular items are rated a little higher).
        popularity: float64 [items], the probability of each item in a popularity-weighted
            draw; ``1 / rank_i ** popularity_exponent`` over a random ranking of the items.
    """

    user_factors: np.ndarray
    item_factors: np.ndarray
    user_experience: np.ndarray
    item_experience: np.ndarray
    user_bias: np.ndarray
    item_bias: np.ndarray
    popularity: np.ndarray

    def affinity(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The affinity of pairs (user, item) given as two aligned arrays of numbers (float32).

        Example:
            >>> model = synthetic_model(100, 50, seed=1)
            >>> model.affinity(np.array([0, 3]), np.array([7, 7])).shape
            (2,)
        """
        return _dot(self.user_factors, self.item_factors, users, items)

    def experience(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """How much each user liked each item once tried, the taste part of the rating.

        ``r * affinity + sqrt(1 - r^2) * user_experience[u] @ item_experience[i]`` with
        ``r = 0.5``: correlated with the appeal that made the user pick the item, but not
        the same (users mostly pick what appeals to them, so the appeal alone would vary
        little among a user's items). Standard deviation 0.8 over random pairs.

        Example:
            >>> model = synthetic_model(100, 50, seed=1)
            >>> model.experience(np.array([0, 3]), np.array([7, 7])).dtype
            dtype('float32')
        """
        rho = _EXPERIENCE_CORRELATION
        own = _dot(self.user_experience, self.item_experience, users, items)
        own *= np.float32((1.0 - rho * rho) ** 0.5)
        own += np.float32(rho) * self.affinity(users, items)
        return own


def _dot(left: np.ndarray, right: np.ndarray, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """``(left[users] * right[items]).sum(1)`` in float32, one factor at a time (little memory)."""
    users, items = np.asarray(users), np.asarray(items)
    out = np.zeros(users.shape, dtype=np.float32)
    for k in range(left.shape[1]):
        out += left[users, k] * right[items, k]
    return out


def random_streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent random generators, one per purpose, spawned from ``seed``.

    Args:
        seed: the random seed.

    Returns:
        A generator for each of "factors", "popularity", "activity", "periods",
        "candidates", "selection", "ratings", "times" and "experience".
    """
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    return {
        name: np.random.Generator(np.random.PCG64(child))
        for name, child in zip(_STREAMS, children, strict=True)
    }


def check_positive(**values: int) -> None:
    """Check that every keyword argument is a positive integer.

    Raises:
        ValueError: a value is not a positive integer (the message names it).
    """
    for name, value in values.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def synthetic_model(
    users: int, items: int, *, seed: int = 0, rank: int = 16, popularity_exponent: float = 1.0
) -> SyntheticModel:
    """The latent model that `synthesize` uses for the same arguments.

    Args:
        users: number of users.
        items: number of items.
        seed: the random seed (the same as given to `synthesize`).
        rank: number of latent taste factors.
        popularity_exponent: Zipf exponent of the item popularity (0: uniform).

    Example:
        >>> model = synthetic_model(1000, 200, seed=3, rank=8)
        >>> model.user_factors.shape, model.item_factors.shape
        ((1000, 8), (200, 8))
        >>> bool(np.isclose(model.popularity.sum(), 1.0))
        True
    """
    check_positive(users=users, items=items, rank=rank)
    if popularity_exponent < 0:
        raise ValueError(f"popularity_exponent must be >= 0, got {popularity_exponent}")
    streams = random_streams(seed)
    factors, popular = streams["factors"], streams["popularity"]
    share = 1.0 / np.arange(1, rank + 1)
    scale = ((_TASTE * _TASTE * share / share.sum()) ** 0.25).astype(np.float32)
    user_factors = factors.standard_normal((users, rank), dtype=np.float32) * scale
    item_factors = factors.standard_normal((items, rank), dtype=np.float32) * scale
    tried = streams["experience"]
    user_experience = tried.standard_normal((users, rank), dtype=np.float32) * scale
    item_experience = tried.standard_normal((items, rank), dtype=np.float32) * scale
    user_bias = factors.standard_normal(users, dtype=np.float32) * np.float32(_USER_BIAS)
    ranking = np.empty(items, dtype=np.int64)
    ranking[popular.permutation(items)] = np.arange(1, items + 1)
    log_popularity = -popularity_exponent * np.log(ranking.astype(np.float64))
    popularity = np.exp(log_popularity - log_popularity.max())
    popularity /= popularity.sum()
    spread = log_popularity.std()
    # centred on the items that interactions typically hit: the distinct draws of a user
    weights = -np.expm1(-items * popularity)
    typical = float(weights @ log_popularity / weights.sum())
    standard = (log_popularity - typical) / spread if spread > 0 else 0.0
    item_bias = (
        popular.standard_normal(items) * _ITEM_BIAS + _ITEM_BIAS_POPULARITY * standard
    ).astype(np.float32)
    return SyntheticModel(
        user_factors,
        item_factors,
        user_experience,
        item_experience,
        user_bias,
        item_bias,
        popularity,
    )


@dataclass(frozen=True)
class ChoiceContext:
    """What `choose_items` needs: the model, the streams, the per-user plan and the CDF."""

    model: SyntheticModel
    streams: dict
    counts: np.ndarray
    candidates: np.ndarray
    heavy: np.ndarray
    cdf: np.ndarray
    log_popularity: np.ndarray
    item_bits: int
    items: int
    guide: np.ndarray
    guide_bits: int

    @property
    def max_chunk(self) -> int:
        """The most candidates a chunk of users may have (the packed sort keys limit it)."""
        return (1 << min(63 - _SAMPLE_BITS, 63 - _SCORE_BITS - self.item_bits)) - 1


def choice_context(
    model: SyntheticModel,
    streams: dict[str, np.random.Generator],
    counts: np.ndarray,
    candidates: np.ndarray,
    heavy: np.ndarray,
    items: int,
) -> ChoiceContext:
    """Prepare the popularity CDF and its guide table for `choose_items`.

    Args:
        model: the latent model.
        streams: the random streams (`random_streams`).
        counts: interactions per user.
        candidates: candidate draws per user (``_candidate_counts`` of `synthesize`).
        heavy: the users who rank every item instead of drawing candidates.
        items: number of items.
    """
    item_bits = max(1, (items - 1).bit_length())
    cdf = np.cumsum(model.popularity)
    cdf = np.minimum(np.rint(cdf / cdf[-1] * 2.0**_SAMPLE_BITS), 2.0**_SAMPLE_BITS)
    cdf = cdf.astype(np.int64)
    cdf[-1] = 1 << _SAMPLE_BITS
    log_popularity = np.log(np.maximum(model.popularity, 1e-300) / model.popularity.max())
    guide_bits = min(24, max(16, item_bits + 4))
    starts = np.arange((1 << guide_bits) + 1, dtype=np.int64) << (_SAMPLE_BITS - guide_bits)
    guide = np.searchsorted(cdf, starts, side="right").astype(np.int32)
    return ChoiceContext(
        model,
        streams,
        counts,
        candidates,
        heavy,
        cdf,
        log_popularity,
        item_bits,
        items,
        guide,
        guide_bits,
    )


def choose_items(context: ChoiceContext, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """The items of users ``first:last``: local user numbers and items.

    Each user keeps the candidates with the highest ``3 * affinity`` + Gumbel noise.

    Returned in CSR order (by user, then item).
    """
    model, items, item_bits = context.model, context.items, context.item_bits
    item_mask = (1 << item_bits) - 1
    size = last - first
    local = np.arange(size, dtype=np.int64)
    # popularity-weighted candidates, sorted by (user, item) via one packed sort
    draws = context.candidates[first:last]
    key = context.streams["candidates"].bit_generator.random_raw(int(draws.sum()))
    key >>= np.uint64(64 - _SAMPLE_BITS)
    key = key.view(np.int64)
    key |= np.repeat(local << _SAMPLE_BITS, draws)
    key.sort()
    drawn = _sample(context, key & ((1 << _SAMPLE_BITS) - 1))
    key >>= _SAMPLE_BITS
    key <<= item_bits
    key |= drawn
    del drawn
    distinct = np.ones(len(key), dtype=bool)
    np.not_equal(key[1:], key[:-1], out=distinct[1:])
    pairs = key[distinct]
    del key, distinct
    heavy = context.heavy[first:last]
    if heavy.any():
        everything = np.arange(items, dtype=np.int64)
        extra = (local[heavy][:, None] << item_bits) | everything
        pairs = np.concatenate((pairs, extra.ravel()))
        pairs.sort()
        del extra
    user = pairs >> item_bits
    item = pairs & item_mask
    del pairs
    offered = np.bincount(user, minlength=size)
    starts = np.cumsum(offered) - offered
    # score: 3 affinity + Gumbel noise (+ log-popularity for users who rank every item)
    affinity = np.zeros(len(item), dtype=np.float32)
    term = np.empty(len(item), dtype=np.float32)
    for k in range(model.user_factors.shape[1]):
        np.take(model.item_factors[:, k], item, out=term)
        term *= np.repeat(model.user_factors[first:last, k], offered)
        affinity += term
    uniform = context.streams["selection"].random(len(item), dtype=np.float32)
    np.maximum(uniform, np.float32(2.0**-25), out=uniform)
    np.log(uniform, out=uniform)
    np.negative(uniform, out=uniform)
    np.log(uniform, out=uniform)
    score = affinity * np.float32(_CHOICE_TASTE) - uniform  # + Gumbel(0, 1)
    del uniform, term
    if heavy.any():
        heavy_entries = np.repeat(heavy, offered)
        score[heavy_entries] += context.log_popularity[item[heavy_entries]].astype(np.float32)
        del heavy_entries
    # keep the n_u best-scored candidates of each user: sort (user, -score, position)
    levels = 1 << _SCORE_BITS
    quantized = np.clip(
        (score - _SCORE_LOW) * (levels / (_SCORE_HIGH - _SCORE_LOW)), 0, levels - 1
    ).astype(np.int64)
    del score
    begin = np.repeat(starts, offered)
    order = (levels - 1) - quantized
    del quantized
    order <<= item_bits
    order |= np.arange(len(item), dtype=np.int64) - begin
    order |= user << (_SCORE_BITS + item_bits)
    order.sort()
    rank = np.arange(len(item), dtype=np.int64) - begin
    chosen = rank < np.repeat(context.counts[first:last], offered)
    keep = np.zeros(len(item), dtype=bool)
    keep[begin[chosen] + (order[chosen] & item_mask)] = True
    return user[keep], item[keep].astype(np.int32)


def _sample(context: ChoiceContext, draws: np.ndarray) -> np.ndarray:
    """The items of uniform draws in [0, 2**_SAMPLE_BITS): ``searchsorted(cdf, draws, "right")``.

    A guide table gives the item at the start of each of ``2**k`` equal buckets of the draws;
    only draws in a bucket that holds an item boundary need the binary search.
    """
    bucket = draws >> (_SAMPLE_BITS - context.guide_bits)
    item = context.guide[bucket].astype(np.int64)
    unsure = np.flatnonzero(context.guide[bucket + 1] != item)
    del bucket
    item[unsure] = np.searchsorted(context.cdf, draws[unsure], side="right")
    return item
