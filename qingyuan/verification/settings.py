"""Verification's section of the settings (the departments, registration, appeals).

Development derives the shared secrets for the mock departments from the secret key, so the
in-process and standalone mocks agree with the platform without any configuration.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from pydantic import SecretStr, field_validator

from qingyuan.platform.settings import (
    PlatformSettings,
    RateLimit,
    RateLimitSetting,
    section,
    setting,
)

DERIVED = "derived from the secret key in development"


class VerificationSettings(PlatformSettings):
    mock_registry: Path | None = setting(
        None,
        "JSON-lines registry of fictitious citizens for the mock departments",
        shown="bundled personas",
    )
    departments_client_id: str = setting(
        "qingyuan", "OAuth2 client id of the platform at the departments"
    )
    departments_client_secret: SecretStr | None = setting(
        None, "OAuth2 client secret of the platform at the departments", shown=DERIVED
    )
    departments_issuer: str = setting(
        "https://departments.gov.invalid",
        "issuer base URL of the departments' attestations (each department's `iss` is below it)",
    )
    department_timeout: float = setting(
        10.0,
        "seconds each call to a department (token, attestation, keys) may take before it "
        "counts as down (retried)",
        gt=0,
    )
    attestation_subject_key: SecretStr | None = setting(
        None, "HMAC key shared with the departments for the attestation `sub`", shown=DERIVED
    )
    attestation_audience: str = setting(
        "qingyuan", "the `aud` the departments' attestations must carry"
    )
    attestation_valid_days: int = setting(
        180, "verified members are re-checked by the departments after this", gt=0
    )
    max_member_age: int = setting(
        45, "upper age bound of registration (the lower is the legal marriage age)", gt=0
    )
    consent_policy_version: str = setting("2026-11", "recorded with every consent")
    rate_registration_ip: RateLimitSetting = setting(
        RateLimit(20, 3600), "registrations per client address per window"
    )
    rate_appeal: RateLimitSetting = setting(
        RateLimit(3, 2592000),
        "verification appeals (again after an upheld one) per member per window",
    )
    rate_unmask: RateLimitSetting = setting(
        RateLimit(30, 3600),
        "members one admin may unmask per window (each with a reason of 10–500 characters)",
    )

    @field_validator("mock_registry")
    @classmethod
    def _a_file(cls, path: Path | None) -> Path | None:
        """A misspelt path must not quietly fall back to the bundled personas."""
        if path is not None and not path.is_file():
            raise ValueError(f"no such file: {str(path)!r}")
        return path

    @property
    def in_process(self) -> bool:
        return self.departments_url == "inprocess"

    @property
    def client_secret(self) -> str:
        given = self.departments_client_secret
        return given.get_secret_value() if given else self._derived("departments-client-secret")

    @property
    def subject_key(self) -> bytes:
        given = self.attestation_subject_key
        return (given.get_secret_value() if given else self._derived("subject")).encode()

    @property
    def registry(self) -> Path | None:
        """The mock departments' registry: the configured file, else the demo's one in the
        data directory if there is one (None: the bundled personas)."""
        demo = self.data_dir / "mock-registry.jsonl"
        return self.mock_registry or (demo if demo.is_file() else None)

    def _derived(self, purpose: str) -> str:
        key = self.secret_key.get_secret_value()
        return hmac.new(key, purpose.encode(), hashlib.sha256).hexdigest()


def verification_settings(settings: PlatformSettings) -> VerificationSettings:
    return section(settings, VerificationSettings)
