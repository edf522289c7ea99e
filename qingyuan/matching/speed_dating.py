"""The pair model on real human decisions: the Speed Dating experiment (Fisman & Iyengar).

Protocol (``shared/data/speed-dating/README.md``): train on waves 1–14, test on waves 15–21;
report ROC AUC of p(a→b) against ``dec`` and of the reciprocal score against ``match``.

The data goes through the platform's own feature pipeline, mapped as follows:

- age → ``age_gap``; gender → ``a_gender``; zip code where they grew up → region, whose
  hierarchy (zip, zip3, first digit) gives the distance band just as GB/T 2260 codes do;
- the 17 interest ratings → interest vector (Jaccard, correlation);
- what they look for (``attr1_1`` … ``amb1_1``) → trait weights, their partner's self-rating
  (``attr3_1`` … ``amb3_1``, centred) → traits, together ``pref_trait_fit``; the weights are
  normalised per person, so the 1–10 scale of waves 6–9 and the 100 points of the others
  compare; ``shar1_1`` has no self-rating to meet and is left out;
- race and ``imprace`` → one questionnaire question: own background as the answer, only the
  own background acceptable when it matters (``imprace`` > 5);
- the decisions → behaviour counts, minus the decision being predicted (leave-one-out), the
  way a live platform knows only earlier days.

Only signup ("Time 1") columns and the decisions are read: :data:`PERSON_COLUMNS` and
:data:`DATE_COLUMNS`. Everything rated during or after the date (``attr``, ``like``, ``prob``,
``*_o``, ``*_2``, ``*_3``, ``match_es``…) is leakage and never leaves the CSV reader; ``match``
is read only as the mutual label. The partner's decision on a row is taken from the partner's
own row, so ``dec_o`` is not read either.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from qingyuan.matching.features import (
    Behaviour,
    BehaviourPrior,
    Members,
    Preferences,
    pair_features,
)
from qingyuan.matching.questionnaire import Questionnaire
from qingyuan.matching.scoring import ColdStartModel, ModelKind, PairScorer, reciprocal_score, train

INTERESTS = (
    "sports", "tvsports", "exercise", "dining", "museums", "art", "hiking", "gaming",
    "clubbing", "reading", "tv", "theater", "movies", "concerts", "music", "shopping", "yoga",
)  # fmt: skip
LOOKS_FOR = ("attr1_1", "sinc1_1", "intel1_1", "fun1_1", "amb1_1")
SELF_RATING = ("attr3_1", "sinc3_1", "intel3_1", "fun3_1", "amb3_1")
PERSON_COLUMNS = (
    "gender",
    "age",
    "race",
    "imprace",
    "zipcode",
    *INTERESTS,
    *LOOKS_FOR,
    *SELF_RATING,
)
DATE_COLUMNS = ("iid", "pid", "wave", "dec", "match")
LAST_TRAIN_WAVE = 14
_RACE_MATTERS = 5  # imprace above this: only the own background is acceptable
_SOMEWHAT = 2  # importance level, see IMPORTANCE_WEIGHTS


@dataclass(frozen=True)
class Dates:
    """One row per (person, partner) date; indexes point into the :class:`Members` arrays."""

    person: np.ndarray
    partner: np.ndarray  # -1 where the data lost the partner's id
    wave: np.ndarray
    dec: np.ndarray
    match: np.ndarray

    def take(self, rows: np.ndarray) -> Dates:
        return Dates(**{field.name: getattr(self, field.name)[rows] for field in fields(self)})


def evaluate_speed_dating(path: Path, kind: ModelKind = "logistic") -> dict[str, Any]:
    """Train on waves 1–14, test on 15–21; AUCs of the trained model and the cold-start prior.

    ``validation`` holds the metrics of :func:`~qingyuan.matching.scoring.train`'s own time
    split inside the training waves. Rows whose partner id is missing (10, all in wave 5) count
    in their person's history but cannot be scored.
    """
    members, dates = load_speed_dating(path)
    dates = dates.take(np.flatnonzero(dates.partner >= 0))
    training = dates.wave <= LAST_TRAIN_WAVE
    prior = BehaviourPrior.fit(_behaviour(dates.take(training), len(members)))
    features = pair_features(members, dates.person, dates.partner, prior, held_out=dates.dec)
    model = train(features[training], dates.dec[training], dates.wave[training], prior, kind)
    test = dates.take(~training)
    test_features, reverse = features[~training], _reverse_rows(test)
    return {
        "model_kind": kind,
        **_aucs(model, test_features, reverse, test),
        **_aucs(ColdStartModel(prior), test_features, reverse, test, prefix="cold_start_"),
        "n_train": int(training.sum()),
        "n_test": len(test.dec),
        "validation": asdict(model.metrics),
    }


def _aucs(
    scorer: PairScorer, features: np.ndarray, reverse: np.ndarray, dates: Dates, prefix: str = ""
) -> dict[str, float]:
    """One-sided AUC of p(a→b) against ``dec``, mutual AUC of the reciprocal score against
    ``match``; p(b→a) is the scorer's p on the reverse row."""
    p_ab = scorer.predict(features)
    mutual = reciprocal_score(p_ab, p_ab[reverse])
    return {
        f"{prefix}one_sided_auc": float(roc_auc_score(dates.dec, p_ab)),
        f"{prefix}mutual_auc": float(roc_auc_score(dates.match, mutual)),
    }


def _reverse_rows(dates: Dates) -> np.ndarray:
    """Index of the (partner, person) row for every (person, partner) row."""
    size = max(dates.person.max(), dates.partner.max()) + 1
    keys, reverse_keys = dates.person * size + dates.partner, dates.partner * size + dates.person
    order = np.argsort(keys)
    position = np.searchsorted(keys, reverse_keys, sorter=order).clip(max=len(keys) - 1)
    found = order[position]
    if not np.array_equal(keys[found], reverse_keys):
        raise ValueError("every date must appear from both sides")
    return found


def load_speed_dating(path: Path) -> tuple[Members, Dates]:
    """Members (signup answers and full decision counts) and dates from the CSV."""
    columns = _read_columns(path, (*DATE_COLUMNS, *PERSON_COLUMNS))
    people, person = np.unique(columns["iid"], return_inverse=True)
    first_row = np.unique(person, return_index=True)[1]
    partner = np.searchsorted(people, columns["pid"])
    known = np.isin(columns["pid"], people)
    dates = Dates(
        person=person,
        partner=np.where(known, partner, -1),
        wave=columns["wave"].astype(np.int64),
        dec=columns["dec"],
        match=columns["match"],
    )
    signup = {name: columns[name][first_row] for name in PERSON_COLUMNS}
    return _members(signup, _behaviour(dates, len(people))), dates


def _read_columns(path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The named columns as float arrays; blanks become NaN, thousands separators go."""
    with path.open(encoding="latin-1", newline="") as handle:
        rows = [[row[name] for name in names] for row in csv.DictReader(handle)]
    values = np.array(
        [[float(cell.replace(",", "")) if cell.strip() else np.nan for cell in row] for row in rows]
    )
    return dict(zip(names, values.T, strict=True))


def _members(signup: dict[str, np.ndarray], behaviour: Behaviour) -> Members:
    n = len(signup["age"])
    return Members(
        age=signup["age"].astype(np.float32),
        gender=signup["gender"].astype(np.int8),
        degree=np.zeros(n, dtype=np.int8),  # not asked at signup
        region=np.nan_to_num(signup["zipcode"]).astype(np.int32),
        interests=np.nan_to_num(_matrix(signup, INTERESTS)),
        traits=_centred(_matrix(signup, SELF_RATING)),
        questionnaire=_background_question(signup["race"], signup["imprace"]),
        preferences=Preferences(
            age_min=np.full(n, np.nan, dtype=np.float32),
            age_max=np.full(n, np.nan, dtype=np.float32),
            min_degree=np.zeros(n, dtype=np.int8),
            cities=np.zeros((n, 0), dtype=np.int32),
            trait_weights=np.nan_to_num(_matrix(signup, LOOKS_FOR)),
        ),
        behaviour=behaviour,
    )


def _matrix(signup: dict[str, np.ndarray], names: tuple[str, ...]) -> np.ndarray:
    return np.column_stack([signup[name] for name in names]).astype(np.float32)


def _centred(ratings: np.ndarray) -> np.ndarray:
    """Self-ratings as z-scores: everyone rates themselves 7 or 8, so only the spread says
    anything, and 0 must mean "average" for :func:`pair_features`; a rating nobody varies
    on says nothing and becomes 0."""
    spread = np.nanstd(ratings, axis=0)
    centred = ratings - np.nanmean(ratings, axis=0)
    return np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 0)


def _background_question(race: np.ndarray, importance: np.ndarray) -> Questionnaire:
    """Race as a one-question questionnaire: the own background is the answer, and only it is
    acceptable to those for whom it matters (``imprace`` > 5). With a single question the
    importance level cancels out of OkCupid's ratio, so every answer gets "somewhat"."""
    known = ~np.isnan(race)
    answer = np.where(known, race - 1, -1).astype(np.int8)
    own_only = np.left_shift(1, np.clip(answer, 0, None).astype(np.int64))
    picky = known & (importance > _RACE_MATTERS)
    return Questionnaire(
        answers=answer[:, None],
        acceptable=np.where(picky, own_only, 0xFF).astype(np.uint8)[:, None],
        importance=np.full((len(race), 1), _SOMEWHAT, dtype=np.int8),
    )


def _behaviour(dates: Dates, n: int) -> Behaviour:
    """Decision counts per person; a date with an unknown partner counts only as given."""
    scored = dates.partner >= 0
    zeros = np.zeros(n)
    return Behaviour(
        likes_given=np.bincount(dates.person, dates.dec, n),
        proposals_seen=np.bincount(dates.person, minlength=n).astype(np.float64),
        likes_received=np.bincount(dates.partner[scored], dates.dec[scored], n),
        proposals_received=np.bincount(dates.partner[scored], minlength=n).astype(np.float64),
        replies=zeros,
        chats=zeros,
        days_inactive=zeros,
    )
