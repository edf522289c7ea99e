from joserfc.jwk import OKPKey

from qingyuan.verification.departments.keys import SigningKeys


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _kids(keys: SigningKeys) -> list[str]:
    return [key["kid"] for key in keys.jwks()["keys"]]


def test_jwks_publishes_the_public_ed25519_key_only() -> None:
    keys = SigningKeys(grace=60)
    (published,) = keys.jwks()["keys"]

    assert published["kty"] == "OKP" and published["crv"] == "Ed25519"
    assert published["alg"] == "Ed25519" and published["use"] == "sig"
    assert "d" not in published
    assert published["kid"] == keys.current.kid == OKPKey.import_key(published).thumbprint()


def test_rotation_keeps_the_old_key_published_for_the_grace_period() -> None:
    clock = Clock()
    keys = SigningKeys(grace=60, clock=clock)
    old = keys.current.kid

    new = keys.rotate()

    assert new == keys.current.kid != old
    assert _kids(keys) == [new, old]
    clock.now += 59
    assert _kids(keys) == [new, old]
    clock.now += 2
    assert _kids(keys) == [new]
