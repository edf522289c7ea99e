"""The six mocked government departments (docs/brief.md §5): real HTTP services over a registry of
fictitious citizens, for the embedded mode, tests and demos.  ``PERSONAS.md`` lists the bundled
citizens and what verifying each of them gives.
"""

from qingyuan.verification.departments.app import (
    Department,
    DepartmentSettings,
    create_departments_app,
    departments_of,
)
from qingyuan.verification.departments.knobs import Knobs
from qingyuan.verification.departments.personas import generate_personas
from qingyuan.verification.departments.registry import (
    BUNDLED_REGISTRY,
    Person,
    Registry,
    RegistryError,
    load_registry,
    parse_registry,
    write_registry,
)

__all__ = [
    "BUNDLED_REGISTRY",
    "Department",
    "DepartmentSettings",
    "Knobs",
    "Person",
    "Registry",
    "RegistryError",
    "create_departments_app",
    "departments_of",
    "generate_personas",
    "load_registry",
    "parse_registry",
    "write_registry",
]
