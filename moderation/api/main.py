"""The ASGI application object for uvicorn: ``moderation.api.main:app``."""

from moderation.api.app import create_app

app = create_app()
