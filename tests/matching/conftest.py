"""Shared fixtures: a random population, its pair features and a model trained on them."""

import numpy as np
import pytest

from qingyuan.matching import BehaviourPrior, Members, ScoringModel, pair_features, train
from tests.matching.populations import random_population


@pytest.fixture(scope="session")
def members() -> Members:
    return random_population(400)


@pytest.fixture(scope="session")
def labelled_pairs(members: Members) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, liked, day) for 6,000 pairs whose likes follow b's desirability and a's
    pickiness, the way real decisions do, with pairs spread over 10 days."""
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, len(members), (2, 6000))
    behaviour = members.behaviour
    logit = 3 * (behaviour.likes_received[b] + 1) / (behaviour.proposals_received[b] + 2)
    logit += 2 * (behaviour.likes_given[a] + 1) / (behaviour.proposals_seen[a] + 2) - 2.5
    liked = (rng.random(6000) < 1 / (1 + np.exp(-logit))).astype(int)
    features = pair_features(members, a, b, BehaviourPrior.fit(behaviour))
    return features, liked, np.arange(6000) // 600


@pytest.fixture(scope="session")
def trained(members: Members, labelled_pairs: tuple[np.ndarray, ...]) -> ScoringModel:
    features, liked, day = labelled_pairs
    return train(features, liked, day, BehaviourPrior.fit(members.behaviour), version="test-1")
