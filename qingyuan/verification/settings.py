"""Verification's own settings, read from the same environment as the platform's.

The platform's `Settings.extra` carries every QINGYUAN_* variable; each part parses its own,
so the kernel needs no knowledge of the parts. Development derives the shared secrets for the
mock departments from the secret key, so the in-process and standalone mocks agree with the
platform without any configuration.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

from qingyuan.platform.settings import RateLimit, Settings


@dataclass(frozen=True)
class VerificationSettings:
    departments_url: str
    client_id: str
    client_secret: str
    subject_key: bytes
    audience: str
    issuer_base: str
    department_timeout: float
    max_member_age: int
    attestation_valid_days: int
    policy_version: str
    registration_limit_ip: RateLimit
    mock_registry: Path | None

    @property
    def in_process(self) -> bool:
        return self.departments_url == "inprocess"


def _derived(settings: Settings, purpose: str) -> str:
    return hmac.new(settings.secret_key, purpose.encode(), hashlib.sha256).hexdigest()


def verification_settings(settings: Settings) -> VerificationSettings:
    env = settings.extra
    registry = settings.mock_registry or settings.data_dir / "mock-registry.jsonl"
    return VerificationSettings(
        departments_url=settings.departments_url,
        client_id=env.get("QINGYUAN_DEPARTMENTS_CLIENT_ID", "qingyuan"),
        client_secret=env.get("QINGYUAN_DEPARTMENTS_CLIENT_SECRET")
        or _derived(settings, "departments-client-secret"),
        subject_key=(
            env.get("QINGYUAN_ATTESTATION_SUBJECT_KEY") or _derived(settings, "subject")
        ).encode(),
        audience=env.get("QINGYUAN_ATTESTATION_AUDIENCE", "qingyuan"),
        issuer_base=env.get("QINGYUAN_DEPARTMENTS_ISSUER", "https://departments.gov.invalid"),
        department_timeout=float(env.get("QINGYUAN_DEPARTMENT_TIMEOUT", "10")),
        max_member_age=int(env.get("QINGYUAN_MAX_MEMBER_AGE", "45")),
        attestation_valid_days=int(env.get("QINGYUAN_ATTESTATION_VALID_DAYS", "180")),
        policy_version=env.get("QINGYUAN_CONSENT_POLICY_VERSION", "2026-11"),
        registration_limit_ip=RateLimit.parse(env.get("QINGYUAN_RATE_REGISTRATION_IP", "20/3600")),
        mock_registry=registry if registry.is_file() else None,
    )
