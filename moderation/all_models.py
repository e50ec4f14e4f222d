"""Import every module that defines tables, so ``Base.metadata`` is complete (Alembic, tests)."""

from moderation import models  # noqa: F401
from moderation.accounts import models as accounts_models  # noqa: F401
from moderation.akismet import models as akismet_models  # noqa: F401
from moderation.db import Base
from moderation.jobs import models as jobs_models  # noqa: F401
from moderation.review import queue_models  # noqa: F401
from moderation.webhooks import models as webhook_models  # noqa: F401

metadata = Base.metadata
