"""A list of help sessions embedded on another website: the coordinator allows the website
and copies the code, the website (a second local server, another origin) shows the list in
a frame, and a link in it opens the full site in a new tab; a website that is not listed gets
an empty frame."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from app import clock
from app.extensions import db
from app.models import Role
from app.services import embeds
from tests.browser.conftest import DESKTOP

pytestmark = pytest.mark.browser

EVERY_DAY = "0,1,2,3,4,5,6"


class OtherWebsite:
    """Another organisation's website on a port of its own (so another origin): it serves
    one page whose body the test sets, as a web editor would paste the code."""

    def __init__(self) -> None:
        self.body = ""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                page = (
                    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
                    "<title>Municipality</title></head><body><main>"
                    f"<h1>Help in the library</h1>{site.body}</main></body></html>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


@pytest.fixture
def other_website() -> Iterator[OtherWebsite]:
    site = OtherWebsite()
    yield site
    site.close()


@pytest.fixture
def unlisted_website() -> Iterator[OtherWebsite]:
    site = OtherWebsite()
    yield site
    site.close()


@pytest.fixture
def hours_in_maarssen(make_series, partner, library_location):
    series = make_series(
        title="Spreekuur geldzaken",
        provider=partner,
        location=library_location,
        weekdays=EVERY_DAY,
        start_date=clock.today() - timedelta(days=7),
        start_time=time(9, 0),
        end_time=time(17, 0),
    )
    db.session.commit()
    return series


@pytest.fixture
def coordinator(make_account, library):
    return make_account(Role.COORDINATOR, library, "Corrie Coordinator")


def test_the_coordinator_allows_a_website_and_copies_the_code_of_a_list(
    pages,
    js,
    log_in,
    check_accessible,
    coordinator,
    hours_in_maarssen,
    other_website,
    live_server,
):
    """The coordinator adds the website on the management page, sees a wrong address
    explained, and copies the <iframe> code of the list of Maarssen; on that website the
    frame shows the hours, and a link opens the session's page in a new tab."""
    page = pages.open(js=js)
    log_in(page, coordinator)
    page.goto("/admin/")
    page.get_by_role("link", name="Lists on other websites").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lists on other websites")
    check_accessible(page)

    page.get_by_label("Address of the website").fill("ftp://gemeente.example")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("must start with https://")
    check_accessible(page)

    page.get_by_label("Address of the website").fill(other_website.origin + "/")
    page.get_by_label("Whose website (optional)").fill("Gemeente Stichtse Vecht")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("cell", name=other_website.origin, exact=True)).to_be_visible()
    check_accessible(page)

    code = page.get_by_label("Help sessions in Maarssen", exact=True).input_value()
    assert code == (
        f'<iframe src="{live_server}/ingebed/spreekuren/plaats/maarssen" '
        'title="Help sessions in Maarssen" width="100%" height="600" loading="lazy"></iframe>'
    )
    other_website.body = code

    resident = pages.open(js=js)
    resident.goto(other_website.origin)
    frame = resident.frame_locator("iframe[title='Help sessions in Maarssen']")
    expect(frame.get_by_role("heading", level=1)).to_have_text("Help sessions in Maarssen")
    link = frame.get_by_role("link", name=re.compile("^Spreekuur geldzaken"))
    expect(link.first).to_have_accessible_name("Spreekuur geldzaken (opens in a new tab)")
    expect(link.first).to_have_attribute("target", "_blank")
    expect(link.first).to_have_attribute("rel", "noopener")
    with resident.context.expect_page() as opened:
        link.first.click()
    full_page = opened.value
    full_page.wait_for_load_state()
    assert full_page.url == f"{live_server}/spreekuren/{hours_in_maarssen.id}"
    expect(full_page.get_by_role("heading", level=1)).to_have_text("Spreekuur geldzaken")
    check_accessible(full_page)
    # The resident's page stays where it was, with the list in its frame.
    assert resident.url.startswith(other_website.origin)


@pytest.mark.parametrize(
    "viewport", [DESKTOP, {"width": 320, "height": 640}], ids=["desktop", "320px"]
)
def test_the_embedded_list_is_accessible_and_compact(pages, js, viewport, hours_in_maarssen):
    """The embedded list alone passes axe with and without JavaScript, at 320 px without
    sideways scrolling, with no header, footer or script."""
    page: Page = pages.open(js=js, viewport=viewport)
    page.goto("/ingebed/spreekuren/plaats/maarssen")
    expect(page.get_by_role("heading", level=1)).to_have_text("Help sessions in Maarssen")
    expect(page.locator("header, footer, script, form")).to_have_count(0)
    pages.check_accessible(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"]


def test_a_website_that_is_not_listed_gets_an_empty_frame(
    browser, live_server, hours_in_maarssen, other_website, unlisted_website
):
    """Only the listed origin may frame the list: on another website the browser refuses to
    show it (the frame stays empty), and the site's other pages refuse every frame."""
    embeds.add_origin(other_website.origin)
    embed_url = f"{live_server}/ingebed/spreekuren/plaats/maarssen"
    unlisted_website.body = f'<iframe src="{embed_url}" title="Help sessions"></iframe>'
    other_website.body = f'<iframe src="{live_server}/spreekuren" title="Help sessions"></iframe>'
    # A context of its own: the refusals it provokes are reports of the policy at work.
    context = browser.new_context()
    try:
        for site, policy in (
            (unlisted_website, f"frame-ancestors {other_website.origin}"),
            (other_website, "frame-ancestors 'none'"),
        ):
            page = context.new_page()
            # Chromium reports each refused frame on the framing page's console.
            with page.expect_console_message(
                lambda message: "frame-ancestors" in message.text
            ) as report:
                page.goto(site.origin)
            assert f"Framing '{live_server}/'" in report.value.text
            assert f'"{policy}"' in report.value.text and "blocked" in report.value.text
            expect(page.get_by_role("heading", level=1)).to_have_text("Help in the library")
            frame = page.frame_locator("iframe")
            expect(frame.get_by_role("heading", name="Help sessions")).to_have_count(0)
            expect(frame.get_by_text("Spreekuur geldzaken")).to_have_count(0)
    finally:
        context.close()


def test_the_readable_address_and_the_api_documentation_are_accessible(
    page, check_accessible, hours_in_maarssen
):
    """The list at its readable address and the API's documentation page pass axe, with
    and without JavaScript."""
    page.goto("/spreekuren/plaats/maarssen")
    expect(page.get_by_role("heading", level=1)).to_have_text("Help in Maarssen")
    expect(page.get_by_role("link", name="Spreekuur geldzaken").first).to_be_visible()
    check_accessible(page)
    page.goto("/api/v1/docs")
    expect(page.get_by_role("heading", level=1)).to_have_text("Spreekuur API 1.0.0")
    expect(page.get_by_role("heading", name="GET /api/v1/hours", exact=True)).to_be_visible()
    check_accessible(page)
