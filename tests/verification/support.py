"""Constants and types shared by the verification tests and their fixtures."""

from collections.abc import Callable

from qingyuan.verification.client import DepartmentEndpoint

CLIENT_ID = "qingyuan-platform"
CLIENT_SECRET = "correct horse battery staple"
IN_PROCESS_URL = "http://departments.internal"

#: The ``endpoints_at`` fixture: (base URL[, client secret]) → the six endpoints.
EndpointsAt = Callable[..., list[DepartmentEndpoint]]
