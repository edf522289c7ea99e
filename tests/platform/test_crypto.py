"""PII encryption: AES-GCM with key ids and rotation, purpose binding, blind index, masks."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qingyuan.platform.crypto import (
    PIICipher,
    PIIDecryptionError,
    mask_id_number,
    mask_name,
    mask_phone,
)

OLD, NEW = ("k1", os.urandom(32)), ("k2", os.urandom(32))
INDEX_KEY = os.urandom(32)


@given(st.text(min_size=1, max_size=64))
def test_round_trip(text):
    cipher = PIICipher((NEW,), INDEX_KEY)
    stored = cipher.encrypt(text, purpose="name")
    assert text not in stored or len(text) < 3
    assert cipher.decrypt(stored, purpose="name") == text


def test_same_value_encrypts_differently_each_time():
    cipher = PIICipher((NEW,), INDEX_KEY)
    assert cipher.encrypt("13812345678", purpose="phone") != cipher.encrypt(
        "13812345678", purpose="phone"
    )


def test_rotation_reads_old_values_and_writes_with_the_newest_key():
    old_cipher = PIICipher((OLD,), INDEX_KEY)
    stored = old_cipher.encrypt("13812345678", purpose="phone")
    rotated = PIICipher((NEW, OLD), INDEX_KEY)
    assert rotated.decrypt(stored, purpose="phone") == "13812345678"
    assert rotated.needs_rotation(stored)
    assert rotated.encrypt("x", purpose="phone").startswith("k2:")


def test_a_retired_key_cannot_be_used():
    stored = PIICipher((OLD,), INDEX_KEY).encrypt("13812345678", purpose="phone")
    with pytest.raises(PIIDecryptionError):
        PIICipher((NEW,), INDEX_KEY).decrypt(stored, purpose="phone")


def test_tampering_and_swapped_purposes_are_detected():
    cipher = PIICipher((NEW,), INDEX_KEY)
    stored = cipher.encrypt("张三", purpose="name")
    with pytest.raises(PIIDecryptionError):
        cipher.decrypt(stored, purpose="phone")
    tampered = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
    with pytest.raises(PIIDecryptionError):
        cipher.decrypt(tampered, purpose="name")


def test_blind_index_is_stable_keyed_and_purpose_bound():
    cipher = PIICipher((NEW,), INDEX_KEY)
    index = cipher.blind_index("13812345678", purpose="phone")
    assert index == PIICipher((OLD,), INDEX_KEY).blind_index("13812345678", purpose="phone")
    assert index != PIICipher((NEW,), os.urandom(32)).blind_index("13812345678", purpose="phone")
    assert index != cipher.blind_index("13812345678", purpose="id_number")
    assert "13812345678" not in index


def test_masks():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_id_number("11010519491231002X") == "110105********002X"
