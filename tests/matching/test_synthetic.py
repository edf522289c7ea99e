from dataclasses import fields

import numpy as np
import pytest

from qingyuan.matching import FEATURE_NAMES, BehaviourPrior, Members, pair_features
from qingyuan.matching.synthetic import SyntheticPopulation, synthetic_population

PRIOR = BehaviourPrior(0.35, 0.5)


@pytest.fixture(scope="module")
def synthetic() -> SyntheticPopulation:
    return synthetic_population(5000, seed=3, provinces=(32, 33))


def arrays(members: Members) -> list[np.ndarray]:
    parts = [members, members.questionnaire, members.preferences, members.behaviour]
    return [
        getattr(part, field.name)
        for part in parts
        for field in fields(part)
        if isinstance(getattr(part, field.name), np.ndarray)
    ]


def test_same_seed_same_population_other_seed_another() -> None:
    first, again, other = (synthetic_population(300, seed=s) for s in (1, 1, 2))
    for x, y in zip(arrays(first.members), arrays(again.members), strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(first.filters.seeks, again.filters.seeks)
    np.testing.assert_array_equal(first.truth.taste, again.truth.taste)
    assert not np.array_equal(first.members.age, other.members.age)


def test_populations_larger_than_a_chunk_are_whole(synthetic: SyntheticPopulation) -> None:
    members = synthetic.members
    assert all(len(array) == 5000 for array in arrays(members))
    assert len(synthetic_population(70_000, seed=1).members) == 70_000


def test_members_fit_the_feature_pipeline(synthetic: SyntheticPopulation) -> None:
    members = synthetic.members
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 5000, (2, 2000))
    matrix = pair_features(members, a, b, PRIOR)
    assert matrix.shape == (2000, len(FEATURE_NAMES))
    assert np.isfinite(matrix[:, FEATURE_NAMES.index("interest_cosine")]).mean() > 0.9
    assert set(np.unique(members.region // 10_000)) == {32, 33}


def test_population_shares_are_as_documented(synthetic: SyntheticPopulation) -> None:
    filters, gender = synthetic.filters, synthetic.members.gender
    other = filters.seeks == (1 << (1 - gender.astype(int)))
    assert 0.94 < other.mean() < 0.98
    assert 0.93 < filters.eligible.mean() < 0.97
    anywhere = (synthetic.members.preferences.cities == 0).all(axis=1)
    assert 0.17 < anywhere.mean() < 0.23


def test_planted_likes_are_probabilities_near_the_target_rate(
    synthetic: SyntheticPopulation,
) -> None:
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 5000, (2, 50_000))
    p = synthetic.truth.probability(a, b)
    truth = synthetic.truth
    close = np.abs(truth.age[b] - truth.age[a] - truth.preferred_gap[a]) < 4
    assert np.all((p > 0) & (p < 1))
    assert 0.2 < p.mean() < 0.3 and 0.28 < p[close].mean() < 0.38
    assert synthetic.truth.decide(a, b, rng).mean() == pytest.approx(p.mean(), abs=0.01)


def test_attractive_members_are_liked_more(synthetic: SyntheticPopulation) -> None:
    order = np.argsort(synthetic.truth.attractiveness)
    rng = np.random.default_rng(2)
    deciders = rng.integers(0, 5000, 1000)
    plain = synthetic.truth.probability(deciders, rng.choice(order[:500], 1000))
    attractive = synthetic.truth.probability(deciders, rng.choice(order[-500:], 1000))
    assert attractive.mean() > plain.mean() + 0.2


def test_profiles_reveal_part_of_the_hidden_taste(synthetic: SyntheticPopulation) -> None:
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 5000, (2, 20_000))
    taste = np.einsum("ij,ij->i", synthetic.truth.taste[a], synthetic.truth.taste[b])
    matrix = pair_features(synthetic.members, a, b, PRIOR)
    for name in ("interest_cosine", "question_match"):
        column = matrix[:, FEATURE_NAMES.index(name)]
        known = np.isfinite(column)
        assert np.corrcoef(column[known], taste[known])[0, 1] > 0.2, name
