"""The moderator API on real SQLite and PostgreSQL: auth, queue, claims, decisions, audit."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from moderation.accounts import service as accounts
from moderation.db import utcnow
from moderation.models import Comment, CommentStatus, Decision, DecisionSource, LabeledExample
from moderation.review import queue_service as qs
from moderation.review.policy import Priority
from moderation.review.queue_models import AuditEntry, Claim
from tests.conftest import Backend
from tests.integration.review.conftest import Team, ago, crisis_reason, reason, seed_comment

API = "/api/v1/moderation"
_METHODS = ("get", "post", "put", "patch", "delete")


def _placeholder(path: str) -> str:
    return path.replace("{comment_id}", str(uuid.uuid4()))


def test_every_moderation_route_refuses_anonymous_callers(client: TestClient) -> None:
    """Walks the OpenAPI schema: each method under /api/v1/moderation is 401 without
    credentials, with a malformed token and with a well-formed but unknown one."""
    paths = {p: ops for p, ops in client.app.openapi()["paths"].items() if p.startswith(API)}  # type: ignore[attr-defined]
    assert len(paths) >= 9, sorted(paths)
    checked = 0
    for path, ops in paths.items():
        for method in ops:
            if method not in _METHODS:
                continue
            url = _placeholder(path)
            for headers in (
                {},
                {"Authorization": "Bearer nope"},
                {"Authorization": "Bearer mod_" + "x" * 43},
            ):
                response = client.request(method.upper(), url, headers=headers, json={})
                assert response.status_code == 401, (method, path, headers, response.text)
                assert response.json()["error"] == "unauthorized"
                assert response.headers["www-authenticate"].startswith("Bearer")
            checked += 1
    assert checked >= 10


def test_me_and_admin_only_routes(client: TestClient, team: Team) -> None:
    me = client.get(f"{API}/me", headers=team.auth("alice"))
    assert me.status_code == 200
    assert me.json()["name"] == "alice"
    assert me.json()["role"] == "moderator"
    for path in ("/audit", "/moderators"):
        denied = client.get(API + path, headers=team.auth("alice"))
        assert denied.status_code == 403, path
        assert denied.json()["error"] == "forbidden"
        assert client.get(API + path, headers=team.auth("root")).status_code == 200
    names = [m["name"] for m in client.get(f"{API}/moderators", headers=team.auth("root")).json()]
    assert names == ["alice", "bob", "root"]


def test_disabled_moderator_and_revoked_token_get_401(
    client: TestClient, team: Team, backend: Backend
) -> None:
    with backend.session() as session, session.begin():
        bob = accounts.get_moderator(session=session, name="bob")
        assert bob is not None
        accounts.set_disabled(session=session, moderator=bob, disabled=True)
        root = accounts.get_moderator(session=session, name="root")
        assert root is not None
        accounts.revoke_tokens(session=session, moderator=root)
    assert client.get(f"{API}/me", headers=team.auth("bob")).status_code == 401
    assert client.get(f"{API}/me", headers=team.auth("root")).status_code == 401
    assert client.get(f"{API}/me", headers=team.auth("alice")).status_code == 200


def test_secrets_are_stored_only_as_hashes(client: TestClient, team: Team, backend: Backend) -> None:
    from tests.integration.review.conftest import page_login

    assert page_login(client, "alice", "a wrong password").status_code == 401
    assert page_login(client, "alice").status_code == 303
    cookie = client.cookies["moderation_session"]
    with backend.engine.connect() as conn:
        dump = " ".join(
            str(row)
            for table in ("moderators", "api_tokens", "moderator_sessions", "login_attempts")
            for row in conn.execute(text(f"SELECT * FROM {table}"))  # noqa: S608 (fixed table names)
        )
        hashes = [r[0] for r in conn.execute(text("SELECT password_hash FROM moderators"))]
    for token in team.tokens.values():
        assert token not in dump
        assert token.removeprefix("mod_") not in dump
        assert accounts.digest(token) in dump
    assert "correct horse battery" not in dump
    assert "a wrong password" not in dump
    assert cookie not in dump
    assert accounts.digest(cookie) in dump
    assert all(h.startswith("$argon2id$") for h in hashes)


def _queue(client: TestClient, team: Team, **params: str) -> dict:
    response = client.get(f"{API}/queue", headers=team.auth("alice"), params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_queue_sorts_urgent_crisis_first_then_severity_then_oldest(
    client: TestClient, team: Team, backend: Backend
) -> None:
    old_normal = seed_comment(backend, "old profanity", categories=("profanity",), created_at=ago(120))
    new_normal = seed_comment(backend, "new profanity", categories=("profanity",), created_at=ago(5))
    medical = seed_comment(
        backend, "stop your meds", priority=Priority.HIGH, categories=("unsafe_medical",), created_at=ago(60)
    )
    body = "I want to end my life tonight"
    crisis = seed_comment(
        backend,
        body,
        priority=Priority.URGENT,
        categories=("crisis",),
        reasons=[crisis_reason(body, "end my life")],
        created_at=ago(1),
    )
    low = seed_comment(backend, "buy pills", priority=Priority.LOW, categories=("spam",), created_at=ago(300))
    seed_comment(backend, "published", status=CommentStatus.APPROVED)
    page = _queue(client, team)
    assert page["view"] == "flagged"
    assert [i["id"] for i in page["items"]] == [
        str(x) for x in (crisis, medical, old_normal, new_normal, low)
    ]
    assert page["items"][0]["crisis"] is True
    assert page["items"][0]["priority"] == "urgent"
    assert page["counts"]["views"] == {
        "urgent": 1,
        "flagged": 5,
        "reported": 0,
        "pending": 0,
        "approved": 1,
        "rejected": 0,
    }
    assert page["counts"]["categories"]["crisis"] == 1
    assert page["counts"]["categories"]["profanity"] == 2
    counts = client.get(f"{API}/counts", headers=team.auth("bob")).json()
    assert counts == page["counts"]


def test_queue_filters_and_cursor_pagination(client: TestClient, team: Team, backend: Backend) -> None:
    ids = [
        seed_comment(
            backend, f"comment {i}", categories=("spam",) if i % 2 else ("abuse",), created_at=ago(100 - i)
        )
        for i in range(7)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        page = _queue(client, team, **params)
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(i) for i in ids]
    spam = _queue(client, team, category="spam")
    assert [i["id"] for i in spam["items"]] == [str(ids[i]) for i in (1, 3, 5)]
    assert all(i["categories"] == ["spam"] for i in spam["items"])
    recent = _queue(client, team, since=(utcnow() - timedelta(minutes=95.5)).isoformat())
    assert [i["id"] for i in recent["items"]] == [str(i) for i in ids[5:]]
    older = _queue(client, team, until=(utcnow() - timedelta(minutes=98.5)).isoformat())
    assert [i["id"] for i in older["items"]] == [str(i) for i in ids[:2]]
    assert _queue(client, team, article="no-such-article")["items"] == []
    assert len(_queue(client, team, article="ketamine-infusion-therapy")["items"]) == 7
    assert _queue(client, team, priority="urgent")["items"] == []
    approved = _queue(client, team, status="approved")
    assert approved["items"] == []
    assert approved["view"] == "approved"
    for bad in ({"cursor": "garbage"}, {"status": "nope"}, {"limit": "0"}, {"since": "2026-01-01T00:00:00"}):
        response = client.get(f"{API}/queue", headers=team.auth("alice"), params=bad)
        assert response.status_code == 422, bad
        assert response.json()["error"] == "validation_error"


def test_comment_detail_has_reasons_spans_reports_audit_and_author_history(
    client: TestClient, team: Team, backend: Backend
) -> None:
    body = "Honestly I want to end my life. Just take 500mg and skip the clinic."
    first = seed_comment(backend, "an older one", author="Sam", email="sam@example.org", created_at=ago(30))
    cid = seed_comment(
        backend,
        body,
        priority=Priority.URGENT,
        categories=("crisis", "unsafe_medical"),
        reasons=[
            crisis_reason(body, "end my life"),
            reason(body, "take 500mg", "medical.dosing", "unsafe_medical"),
        ],
        author="Sam",
        email="sam@example.org",
    )
    response = client.get(f"{API}/comments/{cid}", headers=team.auth("alice"))
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["body"] == body
    assert detail["crisis"] is True
    assert detail["support"]["message"]
    assert detail["support"]["resources"]
    assert detail["author"]["email"] == "sam@example.org"
    reasons = detail["decisions"][0]["reasons"]
    assert [r["matched"] for r in reasons] == ["end my life", "take 500mg"]
    marked = [(s["text"], s["categories"]) for s in detail["highlights"] if s["categories"]]
    assert marked == [("end my life", ["crisis"]), ("take 500mg", ["unsafe_medical"])]
    assert "".join(s["text"] for s in detail["highlights"]) == body
    assert [r["id"] for r in detail["author_recent"]] == [str(first)]
    assert detail["claim"] is None
    assert detail["audit"] == []
    assert detail["reports"] == []
    missing = client.get(f"{API}/comments/{uuid.uuid4()}", headers=team.auth("alice"))
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert client.get(f"{API}/comments/not-a-uuid", headers=team.auth("alice")).status_code == 422


def test_claims_are_exclusive_visible_and_expire(client: TestClient, team: Team, backend: Backend) -> None:
    cid = seed_comment(backend, "to review")
    url = f"{API}/comments/{cid}/claim"
    mine = client.post(url, headers=team.auth("alice"))
    assert mine.status_code == 200
    assert mine.json()["mine"] is True
    assert mine.json()["moderator"] == "alice"
    assert client.post(url, headers=team.auth("alice")).status_code == 200  # extending is fine
    taken = client.post(url, headers=team.auth("bob"))
    assert taken.status_code == 409
    assert taken.json()["claim"]["moderator"] == "alice"
    assert taken.json()["comment"]["id"] == str(cid)
    listed = _queue(client, team)["items"][0]["claim"]
    assert listed["moderator"] == "alice"
    assert listed["mine"] is True
    seen_by_bob = client.get(f"{API}/comments/{cid}", headers=team.auth("bob")).json()["claim"]
    assert seen_by_bob["moderator"] == "alice"
    assert seen_by_bob["mine"] is False
    assert client.delete(url, headers=team.auth("bob")).status_code == 403
    assert client.delete(url, headers=team.auth("root")).status_code == 204
    assert client.post(url, headers=team.auth("bob")).status_code == 200
    assert client.delete(url, headers=team.auth("bob")).status_code == 204
    assert client.delete(url, headers=team.auth("bob")).status_code == 204  # nothing to release
    assert client.post(f"{API}/comments/{uuid.uuid4()}/claim", headers=team.auth("bob")).status_code == 404

    # An expired claim can be taken over, and the release job removes lapsed ones.
    assert client.post(url, headers=team.auth("alice")).status_code == 200
    with backend.session() as session, session.begin():
        claim = session.get(Claim, cid)
        assert claim is not None
        claim.expires_at = utcnow() - timedelta(seconds=1)
    assert client.post(url, headers=team.auth("bob")).json()["moderator"] == "bob"
    with backend.session() as session, session.begin():
        assert qs.release_expired_claims(session=session, now=utcnow()) == 0
        assert qs.release_expired_claims(session=session, now=utcnow() + timedelta(hours=1)) == 1
        assert qs.release_expired_claims(session=session, now=utcnow() + timedelta(hours=1)) == 0
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.comment_id == cid)).all()
    assert actions.count("claim") == 4
    assert actions.count("release") == 2
    assert "claim_expired" in actions


def test_approve_writes_decision_audit_and_label(client: TestClient, team: Team, backend: Backend) -> None:
    cid = seed_comment(backend, "Ketamine helped me a lot", categories=("profanity",))
    loaded = client.get(f"{API}/comments/{cid}", headers=team.auth("alice")).json()
    response = client.post(
        f"{API}/comments/{cid}/decision",
        headers=team.auth("alice"),
        json={"action": "approve", "version": loaded["version"], "note": "fine in context"},
    )
    assert response.status_code == 200, response.text
    state = response.json()
    assert state["status"] == "approved"
    assert state["version"] == loaded["version"] + 1
    with backend.session() as session:
        decision = session.scalars(
            select(Decision).where(Decision.comment_id == cid).order_by(Decision.id)
        ).all()[-1]
        assert decision.source is DecisionSource.MODERATOR
        assert decision.actor == "alice"
        assert decision.note == "fine in context"
        assert decision.decision is CommentStatus.APPROVED
        audit = session.scalars(select(AuditEntry).where(AuditEntry.comment_id == cid)).one()
        assert (audit.actor, audit.action, audit.from_status, audit.to_status) == (
            "alice",
            "approve",
            "flagged",
            "approved",
        )
        labels = session.scalars(select(LabeledExample).where(LabeledExample.comment_id == cid)).all()
        assert [(x.label, x.text) for x in labels] == [("ham", "Ketamine helped me a lot")]
    assert _queue(client, team)["items"] == []
    assert _queue(client, team, status="approved")["items"][0]["id"] == str(cid)


def test_stale_version_gets_409_with_fresh_state(client: TestClient, team: Team, backend: Backend) -> None:
    cid = seed_comment(backend, "Buy cheap ketamine at example dot com", categories=("spam",))
    version = client.get(f"{API}/comments/{cid}", headers=team.auth("alice")).json()["version"]
    first = client.post(
        f"{API}/comments/{cid}/decision",
        headers=team.auth("bob"),
        json={"action": "reject", "reason": "spam", "version": version},
    )
    assert first.status_code == 200
    late = client.post(
        f"{API}/comments/{cid}/decision",
        headers=team.auth("alice"),
        json={"action": "approve", "version": version},
    )
    assert late.status_code == 409
    body = late.json()
    assert body["error"] == "conflict"
    assert body["comment"]["status"] == "rejected"
    assert body["comment"]["version"] == version + 1
    with backend.session() as session:
        moderator_decisions = session.scalars(
            select(Decision).where(Decision.comment_id == cid, Decision.source == DecisionSource.MODERATOR)
        ).all()
        assert [d.actor for d in moderator_decisions] == ["bob"]
        assert session.scalars(
            select(LabeledExample.label).where(LabeledExample.comment_id == cid)
        ).all() == ["spam"]


def test_decision_errors(client: TestClient, team: Team, backend: Backend) -> None:
    cid = seed_comment(backend, "x")
    url = f"{API}/comments/{cid}/decision"
    for bad in (
        {"action": "reject", "version": 2},
        {"action": "reject", "reason": "because", "version": 2},
        {"action": "delete", "version": 2},
        {"action": "approve"},
        {"action": "approve", "version": 0},
        {"action": "approve", "version": 2, "extra": 1},
        {"action": "approve", "version": 2, "note": "n" * 2001},
    ):
        response = client.post(url, headers=team.auth("alice"), json=bad)
        assert response.status_code == 422, (bad, response.text)
    gone = client.post(
        f"{API}/comments/{uuid.uuid4()}/decision",
        headers=team.auth("alice"),
        json={"action": "approve", "version": 1},
    )
    assert gone.status_code == 404
    # Someone else's live claim blocks a moderator (409) but not an admin.
    assert client.post(f"{API}/comments/{cid}/claim", headers=team.auth("bob")).status_code == 200
    blocked = client.post(url, headers=team.auth("alice"), json={"action": "approve", "version": 2})
    assert blocked.status_code == 409
    assert blocked.json()["claim"]["moderator"] == "bob"
    admin = client.post(
        url, headers=team.auth("root"), json={"action": "reject", "reason": "other", "version": 2}
    )
    assert admin.status_code == 200
    assert admin.json()["status"] == "rejected"
    with backend.session() as session:
        assert session.get(Claim, cid) is None  # deciding drops the claim


def test_bulk_and_author_decisions(client: TestClient, team: Team, backend: Backend) -> None:
    a = seed_comment(backend, "spam one", author="Spammer", email="s@spam.example", categories=("spam",))
    b = seed_comment(backend, "spam two", author="Spammer", email="s@spam.example", categories=("spam",))
    c = seed_comment(
        backend, "spam three", author="Spammer", email="s@spam.example", status=CommentStatus.PENDING
    )
    d = seed_comment(backend, "ok one", author="Kim")
    e = seed_comment(backend, "ok two", author="Kim")
    kept = seed_comment(
        backend, "old published", author="Spammer", email="s@spam.example", status=CommentStatus.APPROVED
    )
    assert client.post(f"{API}/comments/{e}/claim", headers=team.auth("bob")).status_code == 200
    bulk = client.post(
        f"{API}/decisions/bulk",
        headers=team.auth("alice"),
        json={
            "action": "approve",
            "items": [
                {"comment_id": str(d), "version": 2},
                {"comment_id": str(e), "version": 2},
                {"comment_id": str(a), "version": 1},
                {"comment_id": str(uuid.uuid4()), "version": 1},
            ],
        },
    )
    assert bulk.status_code == 200, bulk.text
    outcomes = [r["outcome"] for r in bulk.json()["results"]]
    assert outcomes == ["decided", "claimed", "conflict", "not_found"]
    assert bulk.json()["decided"] == 1
    assert (
        client.post(
            f"{API}/decisions/bulk", headers=team.auth("alice"), json={"action": "approve", "items": []}
        ).status_code
        == 422
    )
    author = client.post(
        f"{API}/comments/{a}/author-decision",
        headers=team.auth("alice"),
        json={"action": "reject", "reason": "spam", "note": "link farm"},
    )
    assert author.status_code == 200, author.text
    assert {r["comment_id"] for r in author.json()["results"]} == {str(a), str(b), str(c)}
    assert author.json()["decided"] == 3
    with backend.session() as session:
        statuses = {str(x): session.get_one(Comment, x).status.value for x in (a, b, c, kept)}
        labels = session.scalars(select(LabeledExample.label).where(LabeledExample.label == "spam")).all()
    assert statuses == {str(a): "rejected", str(b): "rejected", str(c): "rejected", str(kept): "approved"}
    assert len(labels) == 3
    missing = client.post(
        f"{API}/comments/{uuid.uuid4()}/author-decision",
        headers=team.auth("alice"),
        json={"action": "approve"},
    )
    assert missing.status_code == 404
    bad = client.post(
        f"{API}/comments/{a}/author-decision", headers=team.auth("alice"), json={"action": "reject"}
    )
    assert bad.status_code == 422


def test_audit_log_lists_every_action_newest_first(client: TestClient, team: Team, backend: Backend) -> None:
    ids = [seed_comment(backend, f"c{i}") for i in range(3)]
    for cid in ids:
        client.post(f"{API}/comments/{cid}/claim", headers=team.auth("alice"))
        client.post(
            f"{API}/comments/{cid}/decision",
            headers=team.auth("alice"),
            json={"action": "reject", "reason": "off_topic", "version": 2, "note": "not about ketamine"},
        )
    page = client.get(f"{API}/audit", headers=team.auth("root"), params={"limit": 4}).json()
    assert len(page["items"]) == 4
    assert page["next_cursor"]
    rest = client.get(
        f"{API}/audit", headers=team.auth("root"), params={"cursor": page["next_cursor"]}
    ).json()
    entries = page["items"] + rest["items"]
    assert [e["action"] for e in entries] == ["reject", "claim"] * 3
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)
    rejects = client.get(f"{API}/audit", headers=team.auth("root"), params={"action": "reject"}).json()[
        "items"
    ]
    assert {(e["actor"], e["from_status"], e["to_status"], e["reason"], e["note"]) for e in rejects} == {
        ("alice", "flagged", "rejected", "off_topic", "not about ketamine")
    }
    one = client.get(f"{API}/audit", headers=team.auth("root"), params={"comment_id": str(ids[0])}).json()
    assert [e["action"] for e in one["items"]] == ["reject", "claim"]
    assert client.get(f"{API}/audit", headers=team.auth("root"), params={"cursor": "zz"}).status_code == 422


@pytest.mark.parametrize("via_header", [True, False])
@pytest.mark.usefixtures("team")
def test_cookie_sessions_need_csrf_on_unsafe_methods(
    client: TestClient, backend: Backend, via_header: bool
) -> None:
    from tests.integration.review.conftest import page_csrf, page_login

    cid = seed_comment(backend, "needs a look")
    assert page_login(client, "alice").status_code == 303
    assert client.get(f"{API}/counts").status_code == 200  # GET needs no CSRF token
    refused = client.post(
        f"{API}/comments/{cid}/claim", headers={"X-CSRF-Token": "forged"} if via_header else {}
    )
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["message"]
    ok = client.post(f"{API}/comments/{cid}/claim", headers={"X-CSRF-Token": page_csrf(client)})
    assert ok.status_code == 200
    assert ok.json()["moderator"] == "alice"
