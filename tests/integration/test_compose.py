"""docker-compose.yml stays correct: services, health checks, required settings, real commands."""

from __future__ import annotations

import re
from typing import Any

import click
import pytest
import typer.main
import yaml

from moderation.cli import app
from tests.helpers import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_expected_services_exist():
    assert {"api", "worker", "beat", "redis", "postgres"} <= set(SERVICES)


@pytest.mark.parametrize("name", ["api", "worker", "redis", "postgres"])
def test_services_have_health_checks(name):
    assert "healthcheck" in SERVICES[name]


def test_required_settings_fail_fast():
    text = (REPO / "docker-compose.yml").read_text()
    for var in ("MODERATION_SECRET_KEY", "POSTGRES_PASSWORD"):
        assert re.search(r"\$\{" + var + r":\?[^}]+\}", text), var


def test_beat_is_not_scaled():
    assert SERVICES["beat"].get("deploy", {}).get("replicas", 1) == 1


@pytest.mark.parametrize(
    "name", [n for n, s in SERVICES.items() if s.get("command") and s["command"][0] == "moderation"]
)
def test_service_command_is_a_real_moderation_subcommand(name):
    command = SERVICES[name]["command"]
    group: Any = typer.main.get_command(app)
    sub = group.get_command(click.Context(group), command[1])
    assert sub is not None, f"{name}: `moderation {command[1]}` does not exist"
    # Parsing the options proves every flag exists and has a valid value.
    sub.make_context(command[1], list(command[2:]))


def test_moderation_services_share_settings():
    for name in ("api", "worker", "beat"):
        env = SERVICES[name]["environment"]
        assert env["MODERATION_BROKER_URL"].startswith("redis://")
        assert env["MODERATION_DATABASE_URL"].startswith("postgresql")
