"""Fixtures for the browser tests (tests/web/test_browser*.py): one real app over a private copy
of the seed corpus and index, started once for the session, and one Chromium."""
from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from retrieval.config import Settings
from retrieval.web import AppSettings, ChatService
from tests.apprunner import free_port
from tests.web.browsing import CHROMIUM, CHROMIUM_ARGS, CORPUS_OF, HOSTILE


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory, seed_index: Settings, embedder) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The real app on a free localhost port, over a private corpus holding a hostile article."""
    base = tmp_path_factory.mktemp("browser-app")
    shutil.copytree(seed_index.corpus_dir, base / "corpus")
    shutil.copytree(seed_index.index_dir, base / "index", ignore=shutil.ignore_patterns(".lock"))
    (base / "corpus" / "quokka-manoeuvre.txt").write_text(HOSTILE, encoding="utf-8")
    settings = Settings(corpus_dir=base / "corpus", index_dir=base / "index")
    service = ChatService(settings, AppSettings(port=free_port()), embedder=embedder)
    assert service.start().ok
    from retrieval.web import build_app, launch

    demo = build_app(service)
    launch(demo, service, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{service.app_settings.port}/"
    CORPUS_OF[url] = base / "corpus"
    try:
        yield url
    finally:
        demo.close()
        service.stop_watching()


@pytest.fixture(scope="session")
def browser() -> Iterator:  # type: ignore[type-arg]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def screen(browser, app_url: str):  # type: ignore[no-untyped-def]
    """``screen(viewport, scheme="light")``: a new page on the app at that size and colour scheme
    (a phone's is a touch screen), closed after the test."""
    contexts = []

    def open_page(viewport: dict[str, int], scheme: str = "light", **options):  # type: ignore[no-untyped-def]
        phone = viewport["width"] < 600
        context = browser.new_context(viewport=viewport, color_scheme=scheme, is_mobile=phone, has_touch=phone, **options)
        contexts.append(context)
        page = context.new_page()
        page.goto(app_url)
        page.wait_for_selector("#question textarea")
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(browser, app_url: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith(app_url) and not request.url.startswith("data:") else None)
    page.goto(app_url)
    page.wait_for_selector("#question textarea")
    yield page
    context.close()
    assert outside == [], f"the page loaded something from elsewhere: {outside}"
