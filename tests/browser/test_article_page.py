"""The article page in Debian's Chromium (Playwright), against a real uvicorn server and a real
``moderation worker`` on Redis: a normal comment is published, spam is held, a reader in crisis
sees the support message and crisis lines at once. Screenshots go to test-artifacts/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from moderation.api.app import create_app
from moderation.models import Article
from tests.helpers import REPO, running_worker
from tests.serving import live_server
from workers.app import make_celery

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NORMAL = "My clinic checked my blood pressure before and after each infusion. It helped me a lot."
SPAM = "CHEAP replica watches, earn $5000 a week from home, click here http://x.example"
CRISIS = "I can't go on anymore, I want to end my life tonight"


@pytest.fixture
def site(sqlite_backend, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    backend = sqlite_backend
    # Likely spam is held for a moderator on this article rather than rejected outright.
    with backend.session() as session, session.begin():
        article = session.scalar(select(Article).where(Article.slug == "ketamine-infusion-therapy"))
        article.policy = {"auto_reject_spam": False}
        article.policy_version += 1
    settings = backend.settings()
    app = create_app(settings, celery=make_celery(settings))
    with (
        running_worker(backend.env(), tmp_path / "worker.log", "--concurrency=1"),
        live_server(app) as base,
    ):
        yield base


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def post(page, name: str, body: str) -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Comment", exact=True).fill(body)
    page.get_by_role("button", name="Post comment").click()


def test_reader_posts_and_follows_moderation_live(site, browser):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1000, "height": 1300})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(site + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ketamine infusion therapy")
    expect(page.get_by_text("No comments yet")).to_be_visible()
    status = page.locator("#comment-status")

    # 1. A normal comment: "awaiting moderation", then published in the thread, no reload.
    post(page, "Sam", NORMAL)
    expect(status).to_contain_text("awaiting moderation")
    expect(status).to_contain_text("has been published", timeout=30_000)
    expect(page.locator("#comments li.comment").filter(has_text=NORMAL)).to_be_visible()
    expect(page.locator("#comments-title")).to_contain_text("Comments (1)")
    expect(page.locator("#support")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "article-published.png"), full_page=True)

    # 2. Spam: held for a moderator, not shown.
    post(page, "Deals", SPAM)
    expect(status).to_contain_text("awaiting moderation")
    expect(status).to_contain_text("held for review", timeout=30_000)
    expect(page.locator("#comments li.comment").filter(has_text="replica watches")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "article-spam-held.png"), full_page=True)

    # 3. Crisis: the support message and crisis lines at once, before any decision.
    post(page, "Alex", CRISIS)
    support = page.locator("#support")
    expect(support).to_be_visible(timeout=3_000)
    expect(support).to_contain_text("You are not alone")
    expect(support.locator("li")).to_contain_text(["988", "116 123", "findahelpline.com", "emergency"])
    expect(support.get_by_role("link", name="https://findahelpline.com")).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "support"  # focus moves to the help
    page.screenshot(path=str(ARTIFACTS / "article-crisis.png"), full_page=True)
    shutil.copyfile(ARTIFACTS / "article-crisis.png", REPO / "docs" / "article.png")
    expect(status).to_contain_text("held for review", timeout=30_000)

    # 4. After a reload the published comment is server-rendered; a reader can report it.
    page.reload()
    comment = page.locator("#comments li.comment").filter(has_text=NORMAL)
    expect(comment).to_be_visible()
    comment.get_by_role("button", name="Report").click()
    comment.get_by_label("Why are you reporting this comment?").select_option("off_topic")
    comment.get_by_role("button", name="Send report").click()
    expect(comment.locator(".report-status")).to_contain_text("Thank you")
    page.screenshot(path=str(ARTIFACTS / "article-reported.png"), full_page=True)
    assert problems == []


def test_reading_works_without_javascript_and_the_form_is_keyboard_usable(site, browser):
    from playwright.sync_api import expect

    # Post through the page first (JavaScript on), then read with JavaScript off.
    page = browser.new_page()
    page.goto(site + "/")
    post(page, "Sam", NORMAL)
    expect(page.locator("#comment-status")).to_contain_text("has been published", timeout=30_000)

    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    plain.goto(site + "/articles/ketamine-infusion-therapy")
    expect(plain.locator("#comments li.comment").filter(has_text=NORMAL)).to_be_visible()
    expect(plain.get_by_role("button", name="Report")).to_be_hidden()  # needs JavaScript
    context.close()

    # Keyboard only: the skip link comes first, then the form fields in order, each labelled.
    page.goto(site + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to comments"
    page.get_by_label("Name", exact=True).focus()
    page.keyboard.type("Kim")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "body"
    page.keyboard.type("Thank you for the clear explanation of the side effects.")
    page.get_by_role("button", name="Post comment").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#comment-status")).to_contain_text("has been published", timeout=30_000)
