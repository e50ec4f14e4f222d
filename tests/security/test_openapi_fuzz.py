"""Schemathesis against the app's own /openapi.json: generated requests (valid and not) for
every operation, and stateful sequences that follow links (a submitted comment's id into
GET /comments/{id}, reports...). No response may be a 5xx, and none may break the schema the
app publishes for it. Run on PostgreSQL, the stricter database (NUL characters, lengths).

Requests carry an admin's bearer token, so the moderator and admin operations are fuzzed
past authentication too; the 401/403 surface has its own test with the moderator API.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from moderation.accounts.models import Role
from moderation.accounts.service import create_moderator, issue_token
from moderation.api.app import create_app
from workers.app import make_celery

pytestmark = [pytest.mark.postgres]
# ~27 operations x 80 examples, plus the stateful runs: some thousands of requests in total.
EXAMPLES_PER_OPERATION = 80
FUZZ = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,  # the same requests every run: a failure reproduces
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def admin_token(postgres_backend_module) -> str:
    with postgres_backend_module.session() as session, session.begin():
        admin = create_moderator(session=session, name="fuzz-admin", role=Role.ADMIN, password=None)
        return issue_token(session=session, moderator=admin)


@pytest.fixture(scope="module")
def postgres_backend_module(tmp_path_factory):
    """The PostgreSQL backend, truncated once for the whole module (fuzzing adds rows freely)."""
    import redis

    from tests.conftest import _backend
    from tests.helpers import truncate_all

    backend = _backend("postgres", tmp_path_factory.getbasetemp())
    truncate_all(backend.engine)
    redis.Redis.from_url(backend.broker_url).flushdb()
    return backend


@pytest.fixture(scope="module")
def api_schema(postgres_backend_module, admin_token) -> schemathesis.BaseSchema:
    published: list[object] = []
    app_settings = postgres_backend_module.settings(admin_token=admin_token)
    app = create_app(app_settings, celery=make_celery(app_settings), publish=published.append)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.headers = {"Authorization": f"Bearer {admin_token}"}
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")
# Not a 5xx, and the body matches the documented schema of its status code. Left out on
# purpose: status_code_conformance (a 400 for unparsable JSON is not listed on every
# operation; harmless) and negative_data_rejection (FastAPI ignores unknown query parameters).
CHECKS = [not_a_server_error, response_schema_conformance]
REQUESTS = {"stateless": 0, "stateful": 0}


@schema.parametrize()
@FUZZ
def test_no_server_error_and_responses_match_the_schema(case, admin_token):
    response = case.call(headers={"Authorization": f"Bearer {admin_token}"})
    REQUESTS["stateless"] += 1
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
    case.validate_response(response, checks=CHECKS)


def test_stateful_sequences(api_schema, admin_token):
    """Sequences along the links schemathesis infers from the schema (ids from responses,
    Location headers): submit, then read, report, claim and decide the same comment."""

    class Workflow(api_schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):  # noqa: ARG002 (the base class's signature)
            return {"headers": {"Authorization": f"Bearer {admin_token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):  # noqa: ARG002
            REQUESTS["stateful"] += 1
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
            case.validate_response(response, checks=CHECKS)

    started = time.monotonic()
    Workflow.run(
        settings=settings(
            max_examples=60,
            stateful_step_count=6,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    print(f"\nrequests: {REQUESTS}; stateful run {time.monotonic() - started:.1f}s")
    assert REQUESTS["stateful"] >= 100
