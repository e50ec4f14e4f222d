"""The ``moderation`` command line (Typer)."""

from __future__ import annotations

import typer

from moderation.cli import articles, jobs, webhooks
from moderation.cli import metrics as metrics_cli
from moderation.cli import moderators as moderators_cli
from moderation.cli.bench import bench_command
from moderation.cli.check import check_command
from moderation.cli.config import config_command
from moderation.cli.run import api_command, beat_command, migrate_command, serve_command, worker_command
from moderation.cli_eval import eval_command
from moderation.cli_train import train_command

app = typer.Typer(
    name="moderation",
    help="Comment moderation for health publishers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve_command)
# Every argument, --help included, goes to bench's own command line.
_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}
app.command("bench", context_settings=_PASS_THROUGH)(bench_command)
app.command("api")(api_command)
app.command("worker")(worker_command)
app.command("beat")(beat_command)
app.command("migrate")(migrate_command)
app.command("check")(check_command)
app.command("config")(config_command)
app.command("eval")(eval_command)
app.command("train")(train_command)
app.add_typer(articles.app, name="articles")
app.add_typer(jobs.app, name="jobs")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(metrics_cli.app, name="metrics")
app.add_typer(moderators_cli.app, name="moderators")
