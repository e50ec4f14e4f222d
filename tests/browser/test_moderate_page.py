"""The /moderate page in Debian's Chromium (Playwright): a moderator clears a queue.

A real uvicorn server on a free port serves the app on the SQLite backend. The test signs
in, finds the urgent crisis item first, approves with the keyboard, rejects with a reason,
watches the counts change without a reload, and proves XSS payloads render as text.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn

from moderation.accounts import service as accounts
from moderation.accounts.models import Role
from moderation.api.app import create_app
from moderation.models import Comment, CommentStatus
from moderation.review.policy import Priority
from tests.conftest import Backend
from tests.helpers import REPO
from tests.integration.review.conftest import PASSWORD, ago, crisis_reason, reason, seed_comment
from workers.app import make_celery

if TYPE_CHECKING:
    from playwright.sync_api import Dialog

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
XSS = (
    "<script>alert(1)</script> <img src=x onerror=alert(2)> <svg onload=alert(3)> "
    '"><iframe src="javascript:alert(4)"></iframe> <a href="javascript:alert(5)">x</a>'
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(sqlite_backend: Backend) -> Iterator[str]:
    settings = sqlite_backend.settings()
    app = create_app(settings, celery=make_celery(settings), publish=lambda _id: None)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def _seed(backend: Backend) -> dict[str, uuid.UUID]:
    with backend.session() as session, session.begin():
        accounts.create_moderator(session=session, name="maya", role=Role.MODERATOR, password=PASSWORD)
    medical = (
        "My psychiatrist is useless, just stop your antidepressants cold turkey and buy ketamine online."
    )
    crisis = "I can't do this anymore. I want to end my life tonight, the infusions didn't help."
    xss = f"Great article {XSS} thanks"
    profanity = "This damn treatment actually worked for me after two rounds."
    ids = {
        "profanity": seed_comment(
            backend,
            profanity,
            categories=("profanity",),
            reasons=[reason(profanity, "damn", "profanity.word", "profanity")],
            author="Jordan",
            created_at=ago(50),
        ),
        "xss": seed_comment(
            backend,
            xss,
            categories=("spam",),
            reasons=[reason(xss, "<script>alert(1)</script>", "spam.links", "spam")],
            author='<img src=x onerror=alert("author")>',
            created_at=ago(40),
        ),
        "medical": seed_comment(
            backend,
            medical,
            priority=Priority.HIGH,
            categories=("unsafe_medical",),
            reasons=[
                reason(
                    medical,
                    "stop your antidepressants cold turkey",
                    "medical.stop_treatment",
                    "unsafe_medical",
                ),
                reason(medical, "buy ketamine online", "medical.sourcing", "unsafe_medical"),
            ],
            author="Chris",
            created_at=ago(30),
        ),
        "crisis": seed_comment(
            backend,
            crisis,
            priority=Priority.URGENT,
            categories=("crisis",),
            reasons=[crisis_reason(crisis, "end my life")],
            author="Alex",
            created_at=ago(2),
        ),
    }
    return ids


def _launch(p: object) -> object:
    return p.chromium.launch(  # type: ignore[attr-defined]
        executable_path=str(CHROMIUM),
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium")
def test_moderator_clears_the_queue_with_the_keyboard(server: str, sqlite_backend: Backend) -> None:
    ids = _seed(sqlite_backend)
    ARTIFACTS.mkdir(exist_ok=True)
    dialogs: list[str] = []
    errors: list[str] = []
    with playwright.sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})  # type: ignore[attr-defined]

        def on_dialog(dialog: Dialog) -> None:
            # Any alert() means injected script ran: record it (the test fails below).
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "console",
            lambda m: (
                errors.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None
            ),
        )
        try:
            page.goto(f"{server}/moderate")
            assert page.url.endswith("/moderate/login")
            page.get_by_label("Name").fill("maya")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{server}/moderate")

            # The urgent crisis item comes first, with the support the reader was shown.
            first = page.locator("#queue-items .item").first
            assert first.get_attribute("data-id") == str(ids["crisis"])
            assert "is-crisis" in (first.get_attribute("class") or "")
            assert page.locator("#comment").get_attribute("data-id") == str(ids["crisis"])
            assert page.locator(".crisis-panel").is_visible()
            assert "988" in page.locator(".crisis-panel").inner_text()
            assert page.locator("mark.hl-crisis").inner_text() == "end my life"
            page.locator("#claim-indicator.claim-mine").wait_for()
            assert page.locator('[data-count-for="urgent"]').inner_text() == "1"
            page.screenshot(path=str(ARTIFACTS / "moderate-crisis.png"), full_page=True)
            page.screenshot(path=str(REPO / "docs" / "moderate.png"))

            # The help overlay opens with "?".
            page.keyboard.press("?")
            assert page.locator("#help").is_visible()
            page.keyboard.press("Escape")

            # Approve the crisis item with the keyboard: counts change, the next item opens.
            page.keyboard.press("a")
            page.wait_for_url("**notice=approved**")
            assert page.locator('[data-count-for="urgent"]').inner_text() == "0"
            assert page.locator('[data-count-for="approved"]').inner_text() == "1"
            assert page.locator('[data-count-for="flagged"]').inner_text() == "3"

            # Flagged tab: the high-severity medical claim first, its spans highlighted.
            assert page.locator("#comment").get_attribute("data-id") == str(ids["medical"])
            marks = page.locator("mark.hl-unsafe_medical").all_inner_texts()
            assert marks == ["stop your antidepressants cold turkey", "buy ketamine online"]

            # Reject with a reason, keyboard: r then 3 (unsafe medical).
            page.keyboard.press("r")
            assert page.locator("#reject-hint").is_visible()
            page.keyboard.press("3")
            page.wait_for_url("**notice=rejected**")
            assert page.locator('[data-count-for="rejected"]').inner_text() == "1"
            assert page.locator('[data-count-for="flagged"]').inner_text() == "2"

            # j/k move through the list; the XSS comment renders as text and runs nothing.
            page.keyboard.press("j")
            page.wait_for_url(f"**id={ids['xss']}**")
            body = page.locator("#comment-body")
            assert "<script>alert(1)</script>" in body.inner_text()
            assert "<img src=x onerror=alert(2)>" in body.inner_text()
            assert body.locator("script, img, svg, iframe, a").count() == 0
            assert page.locator("mark.hl-spam").inner_text() == "<script>alert(1)</script>"
            assert page.locator(".card-title").inner_text() == '<img src=x onerror=alert("author")>'
            assert page.locator("main img, main script:not([src]), main iframe, main svg").count() == 0
            page.screenshot(path=str(ARTIFACTS / "moderate-xss.png"), full_page=True)
            page.keyboard.press("k")
            page.wait_for_url(f"**id={ids['profanity']}**")

            # Reject the XSS one by mouse with a reason from the select, with a note.
            page.goto(f"{server}/moderate?tab=flagged&id={ids['xss']}")
            page.get_by_label("Note for the audit trail").fill("script injection attempt")
            page.locator("#reject-reason").select_option("spam")
            page.get_by_role("button", name="Reject r").click()
            page.wait_for_url("**notice=rejected**")
            assert page.locator('[data-count-for="rejected"]').inner_text() == "2"

            # Counts refresh without a reload when the queue changes elsewhere.
            marker = page.evaluate("() => (window.__marker = Math.random())")
            seed_comment(sqlite_backend, "A new comment held for review", categories=("profanity",))
            page.wait_for_function(
                "() => document.querySelector('[data-count-for=\"flagged\"]').textContent === '2'",
                timeout=15000,
            )
            assert page.evaluate("() => window.__marker") == marker  # same document: no reload
            page.screenshot(path=str(ARTIFACTS / "moderate-after.png"), full_page=True)
        finally:
            browser.close()  # type: ignore[attr-defined]

    assert dialogs == [], f"a script ran: {dialogs}"
    assert errors == [], errors
    with sqlite_backend.session() as session:
        statuses = {k: session.get_one(Comment, v).status for k, v in ids.items()}
    assert statuses == {
        "crisis": CommentStatus.APPROVED,
        "medical": CommentStatus.REJECTED,
        "xss": CommentStatus.REJECTED,
        "profanity": CommentStatus.FLAGGED,
    }
