"""What each mock department says about a registered person (see ``protocol`` for the shape)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from qingyuan.verification.departments.registry import Person

Claims = dict[str, object]


def attested_claims(department: str, person: Person | None, name: str) -> Claims:
    """The department's own claims about the holder of a number, ``name`` as given to it."""
    if person is None:
        return {"person": "unknown"}
    return {"person": "known", **_SAYS[department](person, name)}


def _public_security(person: Person, name: str) -> Claims:
    if _comparable(person.name) != _comparable(name):
        return {"identity": "mismatch"}
    return {"identity": "match", "hukou_region": person.hukou_region}


def _comparable(name: str) -> str:
    # NFKC folds full-width letters and compatibility forms that input methods produce, so
    # "Ａｌｉｃｅ" typed on a phone still matches "Alice" on record.
    return unicodedata.normalize("NFKC", name).strip()


_SAYS: dict[str, Callable[[Person, str], Claims]] = {
    "public_security": _public_security,
    "civil_affairs": lambda person, _: {"marital_status": person.marital_status},
    "education": lambda person, _: {"degree": person.degree},
    "human_resources": lambda person, _: {"employment": person.employment},
    "justice": lambda person, _: {"disqualifying_record": person.criminal_record},
    "development_reform": lambda person, _: {"dishonest_debtor": person.dishonest_debtor},
}
