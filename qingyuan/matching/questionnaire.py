"""OkCupid-style values questionnaire and its match percentage, bit-packed for speed.

Every member answers the same q questions (up to 8 answer options each), says which answers
they accept from a partner and how much each question matters. How well b satisfies a is the
share of a's importance that b's answers earn, over the questions both answered; the match is
the geometric mean of both directions, OkCupid's formula.

The matcher compares millions of pairs, so answers are packed one question per byte, eight
questions to a 64-bit word, and a whole word of questions is compared with one AND and one
popcount. Worked example, questions 0–2 of one word (byte 0 is the rightmost)::

    a accepts     answers {0, 1} / {2} / anything    accept_a = 0x__FF_04_03
    b answered    1 / 2 / (blank)                    offer_b  = 0x__00_04_02
    accept_a & offer_b                                        = 0x__00_04_02
    a's "very" questions are 0 and 1                 level_a  = 0x__00_FF_FF

popcount(level_a & accept_a & offer_b) = 2 questions earned at weight 50, out of
popcount(level_a & offer_b) = 2 answered by b: b satisfies a fully on a's "very" questions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

# OkCupid's weights by importance level: irrelevant, a little, somewhat, very, mandatory
IMPORTANCE_WEIGHTS = (0, 1, 10, 50, 250)
MAX_ANSWERS = 8
_PER_WORD = 64 // MAX_ANSWERS
_COUNTED_LEVELS = np.arange(1, len(IMPORTANCE_WEIGHTS))  # "irrelevant" weighs nothing
_WEIGHTS = np.array(IMPORTANCE_WEIGHTS[1:], dtype=np.float32)


@dataclass(frozen=True)
class Questionnaire:
    """Answers of n members to the same q questions.

    ``answers`` (n, q) int8: the member's own answer 0..7, -1 when unanswered.
    ``acceptable`` (n, q) uint8 bitmask of the answers accepted from a partner (bit j: answer j).
    ``importance`` (n, q) int8 level 0..4 into :data:`IMPORTANCE_WEIGHTS`.
    """

    answers: np.ndarray
    acceptable: np.ndarray
    importance: np.ndarray

    @cached_property
    def packed(self) -> PackedAnswers:
        """The answers in the bit layout of the module docstring, built once."""
        return PackedAnswers.of(self)


class Comparison(NamedTuple):
    """Questionnaire comparison of pairs (a, b); NaN where they share no answered question."""

    match: np.ndarray
    b_satisfies_a: np.ndarray
    shared: np.ndarray


@dataclass(frozen=True)
class PackedAnswers:
    """(n, words) uint64 tables, one byte per question.

    ``offer``: 1 << the member's answer, 0 where blank. ``accept``: the acceptable mask.
    ``answered``: 0xFF where the member answered. ``levels`` (n, 4, words): 0xFF where the
    member answered with importance level 1..4, so ANDing with it both picks a level and drops
    the member's blank questions.
    """

    offer: np.ndarray
    accept: np.ndarray
    answered: np.ndarray
    levels: np.ndarray

    @classmethod
    def of(cls, questionnaire: Questionnaire) -> PackedAnswers:
        answers, importance = questionnaire.answers, questionnaire.importance
        _check_ranges(answers, importance)
        answered = answers >= 0
        offer = np.where(answered, np.left_shift(1, answers.clip(0).astype(np.int64)), 0)
        levels = [np.where(answered & (importance == level), 0xFF, 0) for level in _COUNTED_LEVELS]
        return cls(
            offer=_pack(offer),
            accept=_pack(questionnaire.acceptable),
            answered=_pack(np.where(answered, 0xFF, 0)),
            levels=np.stack([_pack(level) for level in levels], axis=1),
        )


def compare(questionnaire: Questionnaire, a: np.ndarray, b: np.ndarray) -> Comparison:
    """OkCupid match, how well b satisfies a, and the number of questions both answered."""
    packed = questionnaire.packed
    offer_a, offer_b = _pair_last(packed.offer, a), _pair_last(packed.offer, b)
    b_satisfies_a = _satisfaction(
        _pair_last(packed.levels, a), _pair_last(packed.accept, a), offer_b
    )
    a_satisfies_b = _satisfaction(
        _pair_last(packed.levels, b), _pair_last(packed.accept, b), offer_a
    )
    shared = _popcount(_pair_last(packed.answered, a) & offer_b)
    return Comparison(np.sqrt(b_satisfies_a * a_satisfies_b), b_satisfies_a, shared)


def _pair_last(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The members' rows of a packed table, transposed so that pairs are the last axis.

    Whole rows are gathered (a cache line or two per member), then turned so the masks
    broadcast over long runs of pairs: numpy's inner loop over a 2-word axis is 3x slower.
    """
    return np.ascontiguousarray(np.take(table, index, axis=0).T)


def _satisfaction(levels: np.ndarray, accept: np.ndarray, offer: np.ndarray) -> np.ndarray:
    """Share of the asker's importance earned by the other's answers; NaN with none shared.

    ``levels`` is (word, level, pair), ``accept`` and ``offer`` are (word, pair).
    """
    earned = _importance(levels & (accept & offer)[:, None, :])
    possible = _importance(levels & offer[:, None, :])
    return np.divide(earned, possible, out=np.full_like(possible, np.nan), where=possible > 0)


def _importance(masks: np.ndarray) -> np.ndarray:
    """Σ weight × questions over (word, level, pair) masks, as one vector-matrix product."""
    words, levels, pairs = masks.shape
    counts = np.bitwise_count(masks).reshape(words * levels, pairs).astype(np.float32)
    return np.tile(_WEIGHTS, words) @ counts


def _popcount(words: np.ndarray) -> np.ndarray:
    """Set bits summed over the word axis of (word, pair) masks."""
    return np.bitwise_count(words).sum(axis=0, dtype=np.float32)


def _pack(values: np.ndarray) -> np.ndarray:
    """(n, q) byte values → (n, ceil(q / 8)) uint64, question j in byte j % 8 of word j // 8."""
    n, q = values.shape
    words = -(-q // _PER_WORD)
    padded = np.zeros((n, words * _PER_WORD), dtype=np.uint64)
    padded[:, :q] = values
    shifts = (MAX_ANSWERS * np.arange(_PER_WORD)).astype(np.uint64)
    return np.bitwise_or.reduce(padded.reshape(n, words, _PER_WORD) << shifts, axis=2)


def _check_ranges(answers: np.ndarray, importance: np.ndarray) -> None:
    if answers.size and (answers.min() < -1 or answers.max() >= MAX_ANSWERS):
        raise ValueError(f"answers must be -1 (blank) or 0..{MAX_ANSWERS - 1}")
    if importance.size and (importance.min() < 0 or importance.max() >= len(IMPORTANCE_WEIGHTS)):
        raise ValueError(f"importance must be a level 0..{len(IMPORTANCE_WEIGHTS) - 1}")
