from __future__ import annotations

from rich.table import Table

from bandeja.cli.common import console, database, run, settings
from bandeja.core.security import SecretBox


def demo() -> None:
    config = settings()
    if config.env == "production":
        from bandeja.cli.common import fail

        fail("the demo workspace is not loaded in production")
    from bandeja.demo.loader import DEMO_LOGINS, demo_exists, load_demo

    async def work() -> int | None:
        async with database(config) as session:
            if await demo_exists(session):
                return None
            result = await load_demo(
                session,
                box=SecretBox(config.resolved_secret_key()),
                sandbox_base_url=config.sandbox_url,
            )
            await session.commit()
            return result.conversations

    loaded = run(work)
    if loaded is None:
        console.print("The demo workspace is already loaded.")
    else:
        console.print(f"Demo workspace loaded: {loaded} conversations.")
    table = Table(title="Demo logins")
    for column in ("e-mail", "password", "role", "name"):
        table.add_column(column)
    for login in DEMO_LOGINS:
        table.add_row(login.email, login.password, login.role, login.name)
    console.print(table)
