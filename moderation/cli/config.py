"""``moderation config``: every setting, its environment variable, default and current value."""

from __future__ import annotations

from typing import Annotated

import typer

from moderation.settings import Settings, get_settings

_SECRET = ("secret", "password", "key")


def _shown(default: object) -> str:
    if default in ("", None, ()):
        return "(empty)"
    if isinstance(default, tuple):
        return f"{len(default)} entries (see moderation/settings.py)"
    if len(str(default)) > 40:
        return "(see moderation/settings.py)"
    return str(default)


def settings_rows() -> list[tuple[str, str, str]]:
    return [
        (f"MODERATION_{name.upper()}", _shown(field.default), field.description or "")
        for name, field in Settings.model_fields.items()
    ]


def config_command(
    markdown: Annotated[bool, typer.Option(help="Print the README's configuration table.")] = False,
) -> None:
    """Show every setting with its current value (secrets hidden)."""
    if markdown:
        typer.echo("| variable | default | meaning |\n|---|---|---|")
        for var, default, meaning in settings_rows():
            typer.echo(f"| `{var}` | `{default}` | {meaning} |")
        return
    current = get_settings()
    for name in Settings.model_fields:
        value = getattr(current, name)
        if any(s in name for s in _SECRET) and value:
            value = "********"
        typer.echo(f"MODERATION_{name.upper()}={value}")
