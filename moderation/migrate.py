"""Apply Alembic migrations programmatically (``moderation migrate``), then seed defaults."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from moderation.models import Article

DEFAULT_ARTICLE_SLUG = "ketamine-infusion-therapy"
DEFAULT_ARTICLE_TITLE = "Ketamine infusion therapy for treatment-resistant depression"
DEFAULT_ARTICLE_SUMMARY = (
    "When two or more antidepressants have not helped, some clinics offer low-dose ketamine "
    "infusions under medical supervision. We look at what the trials show, what a course of "
    "treatment involves, the side effects to watch for, and the questions to ask a psychiatrist "
    "before starting."
)


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "moderation:migrations")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema at ``engine`` to ``revision`` and seed the demo article."""
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    seed(engine)


def seed(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        exists = session.scalar(select(Article.id).where(Article.slug == DEFAULT_ARTICLE_SLUG))
        if exists is None:
            session.add(
                Article(
                    slug=DEFAULT_ARTICLE_SLUG, title=DEFAULT_ARTICLE_TITLE, summary=DEFAULT_ARTICLE_SUMMARY
                )
            )
