"""Platform: the services every part shares. Accounts and roles (`models.User`), sessions and
login, the audit log, notifications, encryption of personal data and of columns, rate limits
and locks on Redis, background jobs, translations, settings, the database and its migrations,
and the kernel that holds one process's shared services.

The parts sit above it (see pyproject's import-linter layers); it names none of them: what it
needs of them (models, migrations, job modules) it is given by the composition root,
`qingyuan.parts`.
"""

__all__ = [
    "accounts",
    "audit",
    "crypto",
    "database",
    "encrypted_columns",
    "encryption",
    "errors",
    "files",
    "housekeeping",
    "i18n",
    "jobs",
    "kernel",
    "locks",
    "login",
    "migration_state",
    "models",
    "notifications",
    "passwords",
    "ratelimit",
    "redis",
    "sessions",
    "settings",
]
