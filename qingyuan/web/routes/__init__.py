"""Routes per area; `web.app` assembles them."""

from qingyuan.web import convertors  # noqa: F401 (route modules use {name:id}: register it first)
