"""Import every module that defines tables, so ``Base.metadata`` is complete (Alembic, tests)."""

from moderation import models  # noqa: F401
from moderation.db import Base

metadata = Base.metadata
