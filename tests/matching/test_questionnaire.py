import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qingyuan.matching import IMPORTANCE_WEIGHTS, Questionnaire, compare

VERY, A_LITTLE, SOMEWHAT, MANDATORY = 3, 1, 2, 4


def questionnaire(answers: list, acceptable: list, importance: list) -> Questionnaire:
    return Questionnaire(
        answers=np.array(answers, dtype=np.int8),
        acceptable=np.array(acceptable, dtype=np.uint8),
        importance=np.array(importance, dtype=np.int8),
    )


def reference_satisfaction(q: Questionnaire, asker: int, other: int) -> float:
    """OkCupid's definition, question by question."""
    earned = possible = 0
    for answer_a, answer_b, accepted, level in zip(
        q.answers[asker], q.answers[other], q.acceptable[asker], q.importance[asker], strict=True
    ):
        if answer_a >= 0 and answer_b >= 0:
            possible += IMPORTANCE_WEIGHTS[level]
            earned += IMPORTANCE_WEIGHTS[level] * (int(accepted) >> int(answer_b) & 1)
    return earned / possible if possible else math.nan


def test_match_is_the_geometric_mean_of_both_satisfactions() -> None:
    q = questionnaire(
        answers=[[0, 1], [0, 1]],
        acceptable=[[0b001, 0b011], [0b010, 0b010]],
        importance=[[VERY, A_LITTLE], [SOMEWHAT, MANDATORY]],
    )
    result = compare(q, np.array([0]), np.array([1]))
    # b earns all of a's 50 + 1; a misses b's "somewhat" question: 250 of 260
    assert result.b_satisfies_a[0] == pytest.approx(1.0)
    assert result.match[0] == pytest.approx(math.sqrt(250 / 260))
    assert result.shared[0] == 2


def test_only_questions_both_answered_count() -> None:
    q = questionnaire(
        answers=[[0, -1], [0, 1]],
        acceptable=[[0b001, 0b011], [0b010, 0b010]],
        importance=[[VERY, A_LITTLE], [SOMEWHAT, MANDATORY]],
    )
    result = compare(q, np.array([0]), np.array([1]))
    assert (result.b_satisfies_a[0], result.match[0], result.shared[0]) == (1.0, 0.0, 1)


def test_nothing_shared_or_nothing_important_is_unknown() -> None:
    q = questionnaire(
        answers=[[0, -1], [-1, 1], [0, 1]],
        acceptable=[[1, 1], [1, 1], [1, 1]],
        importance=[[VERY, VERY], [VERY, VERY], [0, 0]],
    )
    result = compare(q, np.array([0, 2]), np.array([1, 0]))
    assert np.isnan(result.match).all() and np.isnan(result.b_satisfies_a[1])
    np.testing.assert_array_equal(result.shared, [0, 1])


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), questions=st.integers(0, 20))
def test_bit_packed_comparison_equals_the_definition(seed: int, questions: int) -> None:
    rng = np.random.default_rng(seed)
    q = questionnaire(
        answers=rng.integers(-1, 8, (6, questions)),
        acceptable=rng.integers(0, 256, (6, questions)),
        importance=rng.integers(0, 5, (6, questions)),
    )
    a, b = rng.integers(0, 6, (2, 30))
    result = compare(q, a, b)
    b_satisfies_a = [reference_satisfaction(q, i, j) for i, j in zip(a, b, strict=True)]
    a_satisfies_b = [reference_satisfaction(q, j, i) for i, j in zip(a, b, strict=True)]
    np.testing.assert_allclose(result.b_satisfies_a, b_satisfies_a, rtol=1e-6)
    np.testing.assert_allclose(
        result.match, np.sqrt(np.multiply(b_satisfies_a, a_satisfies_b)), rtol=1e-6
    )


@pytest.mark.parametrize(
    ("answers", "importance"), [([[8]], [[1]]), ([[-2]], [[1]]), ([[0]], [[5]]), ([[0]], [[-1]])]
)
def test_out_of_range_answers_and_levels_are_refused(answers: list, importance: list) -> None:
    with pytest.raises(ValueError):
        compare(questionnaire(answers, [[1]], importance), np.array([0]), np.array([0]))
