import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qingyuan.matching import (
    FEATURE_NAMES,
    Behaviour,
    BehaviourPrior,
    Members,
    pair_features,
    smoothed_rate,
)
from qingyuan.matching.features import _CHUNK
from tests.matching.populations import population

PRIOR = BehaviourPrior(like_rate=0.4, reply_rate=0.5, strength=5)


def features_of(members: Members, pairs: list[tuple[int, int]], **kwargs) -> dict[str, np.ndarray]:
    a, b = np.array(pairs).T
    matrix = pair_features(members, a, b, PRIOR, **kwargs)
    return {name: matrix[:, j] for j, name in enumerate(FEATURE_NAMES)}


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_matrix_is_float32_with_one_named_column_per_feature(members: Members) -> None:
    matrix = pair_features(members, np.arange(10), np.arange(10)[::-1], PRIOR)
    assert matrix.shape == (10, len(FEATURE_NAMES)) and matrix.dtype == np.float32
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)


def test_no_pairs_gives_an_empty_matrix(members: Members) -> None:
    assert pair_features(members, [], [], PRIOR).shape == (0, len(FEATURE_NAMES))


def test_preference_fit_checks_age_range_cities_and_minimum_degree() -> None:
    members = population(
        6,
        age=[27, 28, 32, 28, 28, np.nan],
        region=[330106, 330106, 330106, 330212, 330106, 0],
        degree=[3, 4, 4, 4, 2, 0],
        age_min=[25, np.nan, np.nan, np.nan, np.nan, np.nan],
        age_max=[30, np.nan, np.nan, np.nan, np.nan, np.nan],
        cities=[[3301, 0]] + [[0, 0]] * 5,
        min_degree=[3, 0, 0, 0, 0, 0],
    )
    columns = features_of(members, [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (1, 0)])
    # b fits all / too old / other city / lower degree / all unknown / a states nothing
    np.testing.assert_array_equal(columns["pref_age_fit"], [1, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(columns["pref_city_fit"], [1, 1, 0, 1, 1, 1])
    np.testing.assert_array_equal(columns["pref_degree_fit"], [1, 1, 1, 0, 1, 1])


def test_trait_fit_is_the_importance_weighted_mean_of_b_traits() -> None:
    members = population(
        3,
        traits=[[0, 0], [1, -1], [1, np.nan]],
        trait_weights=[[3, 1], [0, 0], [0, 0]],
    )
    columns = features_of(members, [(0, 1), (0, 2), (1, 2)])
    # (3·1 + 1·(−1)) / 4; an unknown trait counts as average; no weights: neutral 0
    np.testing.assert_allclose(columns["pref_trait_fit"], [0.5, 0.75, 0.0])


def test_profile_differences_are_b_minus_a_and_nan_when_unknown() -> None:
    members = population(3, age=[30, 27, np.nan], degree=[3, 5, 0], gender=[1, 0, 0])
    columns = features_of(members, [(0, 1), (0, 2)])
    np.testing.assert_array_equal(columns["age_gap"], [-3, np.nan])
    np.testing.assert_array_equal(columns["age_gap_abs"], [3, np.nan])
    np.testing.assert_array_equal(columns["degree_diff"], [2, np.nan])
    np.testing.assert_array_equal(columns["a_gender"], [1, 1])


def test_distance_band_follows_the_region_code_hierarchy() -> None:
    members = population(6, region=[330106, 330106, 330102, 330212, 110101, 0])
    columns = features_of(members, [(0, b) for b in range(1, 6)])
    np.testing.assert_array_equal(columns["distance_band"], [0, 1, 2, 3, np.nan])
    np.testing.assert_array_equal(columns["same_city"], [1, 1, 0, 0, np.nan])


def test_interest_overlap_of_tag_sets() -> None:
    tags = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]
    columns = features_of(population(4, interests=tags), [(0, 1), (0, 2), (2, 3)])
    np.testing.assert_allclose(columns["interest_jaccard"], [2 / 4, 0, np.nan])
    expected_cosine = np.corrcoef(tags[0], tags[1])[0, 1]
    np.testing.assert_allclose(
        columns["interest_cosine"], [expected_cosine, np.nan, np.nan], rtol=1e-6
    )


def test_interest_overlap_of_ratings_is_weighted() -> None:
    ratings = [[2, 4, 9], [4, 2, 9], [9, 4, 2]]
    columns = features_of(population(3, interests=ratings), [(0, 1), (0, 2)])
    np.testing.assert_allclose(columns["interest_jaccard"], [(2 + 2 + 9) / (4 + 4 + 9), 8 / 22])
    expected = [np.corrcoef(ratings[0], ratings[b])[0, 1] for b in (1, 2)]
    np.testing.assert_allclose(columns["interest_cosine"], expected, rtol=1e-5)


def test_questionnaire_columns_come_from_the_okcupid_match() -> None:
    members = population(
        2, answers=[[0, 1], [0, 1]], acceptable=[[0b001, 0b011], [0b010, 0b010]],
        importance=[[3, 1], [2, 4]],
    )  # fmt: skip
    columns = features_of(members, [(0, 1)])
    np.testing.assert_allclose(columns["question_match"], [math.sqrt(250 / 260)], rtol=1e-6)
    np.testing.assert_allclose(columns["question_b_satisfies_a"], [1.0])
    np.testing.assert_allclose(columns["question_log_shared"], [math.log1p(2)])


def test_desirability_and_pickiness_are_smoothed_towards_the_prior() -> None:
    members = population(
        3, likes_given=[0, 0, 0], proposals_seen=[10, 0, 0],
        likes_received=[0, 2, 0], proposals_received=[0, 2, 0],
    )  # fmt: skip
    columns = features_of(members, [(0, 1), (2, 2)])
    # b: 2 likes of 2 → (2 + 0.4·5) / (2 + 5) = 4/7, not 1; a: 0 of 10 → 2/15, not 0
    np.testing.assert_allclose(columns["b_desirability_logit"], [logit(4 / 7), logit(0.4)])
    np.testing.assert_allclose(columns["a_pickiness_logit"], [logit(2 / 15), logit(0.4)])
    np.testing.assert_allclose(columns["a_log_proposals_seen"], [math.log1p(10), 0])
    np.testing.assert_allclose(columns["b_log_proposals_received"], [math.log1p(2), 0])


def test_recency_and_reply_rate() -> None:
    members = population(2, days_inactive=[3, 0], replies=[3, 0], chats=[4, 0])
    columns = features_of(members, [(0, 1)])
    np.testing.assert_allclose(columns["a_recency_log_days"], [math.log1p(3)], rtol=1e-6)
    np.testing.assert_allclose(columns["b_recency_log_days"], [0])
    np.testing.assert_allclose(columns["a_reply_rate_logit"], [logit((3 + 2.5) / 9)], rtol=1e-6)


def test_held_out_decision_is_removed_from_both_members_history() -> None:
    members = population(
        2, likes_given=[3, 0], proposals_seen=[4, 0], likes_received=[0, 2],
        proposals_received=[0, 2],
    )  # fmt: skip
    columns = features_of(members, [(0, 1), (0, 1)], held_out=np.array([1.0, np.nan]))
    # with a's like of b taken out: a 2 of 3 → (2+2)/(3+5) = 0.5, b 1 of 1 → 3/6 = 0.5
    np.testing.assert_allclose(columns["a_pickiness_logit"], [0, logit(5 / 9)], atol=1e-6)
    np.testing.assert_allclose(columns["b_desirability_logit"], [0, logit(4 / 7)], atol=1e-6)
    np.testing.assert_allclose(columns["a_log_proposals_seen"], [math.log1p(3), math.log1p(4)])


def test_a_pair_does_not_depend_on_its_batch_or_chunk(members: Members) -> None:
    rng = np.random.default_rng(7)
    a, b = rng.integers(0, len(members), (2, 2 * _CHUNK + 5))
    shuffle = rng.permutation(len(a))
    whole = pair_features(members, a, b, PRIOR)
    np.testing.assert_array_equal(
        whole[shuffle], pair_features(members, a[shuffle], b[shuffle], PRIOR)
    )
    np.testing.assert_array_equal(whole[-5:], pair_features(members, a[-5:], b[-5:], PRIOR))


def test_fits_and_behaviour_are_never_missing(members: Members) -> None:
    matrix = pair_features(members, np.arange(len(members)), np.arange(len(members))[::-1], PRIOR)
    always_known = [
        j for j, name in enumerate(FEATURE_NAMES) if name.startswith(("pref_", "a_", "b_"))
    ]
    assert not np.isnan(matrix[:, always_known]).any()


@pytest.mark.parametrize(
    ("a", "b", "error"),
    [([0, 5], [1, 2], IndexError), ([0, -1], [1, 2], IndexError), ([0, 1], [1], ValueError)],
)
def test_pairs_are_checked(a: list[int], b: list[int], error: type[Exception]) -> None:
    with pytest.raises(error):
        pair_features(population(3), a, b, PRIOR)


def test_held_out_needs_one_entry_per_pair() -> None:
    with pytest.raises(ValueError, match="held_out"):
        pair_features(population(3), [0, 1], [1, 2], PRIOR, held_out=np.array([1.0]))


def test_prior_is_fitted_on_the_population_with_fallbacks() -> None:
    counts = np.array([1.0, 2.0]), np.array([4.0, 6.0])
    zeros = np.zeros(2)
    behaviour = Behaviour(*counts, *counts, np.array([1.0, 0.0]), np.array([2.0, 0.0]), zeros)
    assert BehaviourPrior.fit(behaviour, strength=3) == BehaviourPrior(0.3, 0.5, 3)
    empty = Behaviour(*(zeros,) * 7)
    assert BehaviourPrior.fit(empty) == BehaviourPrior(0.4, 0.5, 5)


@given(
    trials=st.integers(0, 1000),
    share=st.floats(0, 1),
    mean=st.floats(0.01, 0.99),
    strength=st.floats(0.1, 100),
)
def test_smoothed_rate_lies_between_the_prior_mean_and_the_raw_rate(
    trials: int, share: float, mean: float, strength: float
) -> None:
    successes = round(trials * share)
    rate = smoothed_rate(np.array(successes), np.array(trials), mean, strength)
    raw = successes / trials if trials else mean
    assert min(raw, mean) - 1e-12 <= rate <= max(raw, mean) + 1e-12


def test_prior_of_a_population_that_only_passed_stays_finite() -> None:
    """Regression: a first day of nothing but passes gave a like rate of 0 and infinite logits."""
    zeros, seen = np.zeros(3), np.full(3, 4.0)
    behaviour = Behaviour(zeros, seen, zeros, seen, zeros, zeros, zeros)
    prior = BehaviourPrior.fit(behaviour)
    assert 0 < prior.like_rate < 1
    assert np.isfinite(np.log(prior.like_rate / (1 - prior.like_rate)))
