"""The demo workspace: a coffee brand's month of DMs, comments and mentions in three languages.

Loaded by ``bandeja demo`` (and ``make run``) through the core's own actions; see ``loader``.
"""

from bandeja.demo.loader import (
    DEMO_LOGINS,
    DEMO_SLUG,
    DemoLogin,
    DemoResult,
    demo_exists,
    load_demo,
    plan_demo,
)

__all__ = [
    "DEMO_LOGINS",
    "DEMO_SLUG",
    "DemoLogin",
    "DemoResult",
    "demo_exists",
    "load_demo",
    "plan_demo",
]
