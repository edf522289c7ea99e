"""The web layer's section of the settings: the HTTP server, metrics, chat sockets."""

from __future__ import annotations

from ipaddress import ip_network

from pydantic import SecretStr, field_validator

from qingyuan.platform.settings import CommaList, PlatformSettings, section, setting


class WebSettings(PlatformSettings):
    trusted_proxies: CommaList = setting(
        (),
        "comma-separated addresses or networks of reverse proxies whose `X-Forwarded-For`/"
        "`-Proto` are believed (e.g. `127.0.0.1` for nginx on the same machine); from anyone "
        "else they are ignored",
        shown="none",
    )
    http_header_timeout: float = setting(
        10.0,
        "seconds a client has to send a request's headers (at most 64 KiB) before its "
        "connection is closed",
        gt=0,
    )
    http_max_concurrency: int = setting(
        2000, "connections and requests one web worker serves at once (beyond: 503)", gt=0
    )
    metrics_token: SecretStr | None = setting(
        None,
        "bearer token `GET /metrics` requires; unset, only loopback clients may scrape",
    )
    chat_session_check_seconds: float = setting(
        15.0,
        "how often an open chat socket checks that its session still exists (logout, "
        "expiry) and its member is still verified and active",
        gt=0,
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        for item in items:
            if item == "*":  # uvicorn's "every address"
                continue
            try:
                ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an address or network") from None
        return items


def web_settings(settings: PlatformSettings) -> WebSettings:
    return section(settings, WebSettings)
