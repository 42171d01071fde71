"""The web pages in a real browser: headless Chromium (Debian's) through Selenium, against a
real portal served on 127.0.0.1, with visits recorded and synced by real laptops (FieldStore).

Every flow of issue 15 point 3: sign in (wrong password, then right), the queue's order,
a visit with its photo at full size and its written summary, approve, return with a
comment (seen on the API side), a forged POST from another page refused, compliance
with its chart and CSV, sign out, "not for your role", a phone's width, the keyboard;
axe-core finds no serious or critical violation on any page. Screenshots go to
tests/artifacts/web/.
"""

from __future__ import annotations

import csv
import http.server
import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.wait import WebDriverWait
from sync_support import admin_visits, open_signed_in, record_visit, sync
from web_browser_support import (
    axe_violations,
    chromium,
    click_and_load,
    focused_style,
    no_horizontal_scroll,
    shot,
    sign_in,
    sign_out,
    wait_for_file,
)

from portal.core.config import PortalSettings
from portal.seed import seed
from portal.server import BackgroundPortal, start_background

pytestmark = pytest.mark.timeout(240)


@dataclass
class Served:
    portal: BackgroundPortal
    accounts: Any
    #: The lead's queue as the laptops left it: visit ids by case reference.
    visits: dict[str, str]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A seeded portal on loopback, and three North-team visits submitted from laptops (with photos)."""
    root = tmp_path_factory.mktemp("web_browser")
    url = f"sqlite:///{root / 'portal.db'}"
    result = seed(url, 24)
    settings = PortalSettings.from_env(database_url=url, blob_dir=root / "blobs", login_max_failures=1000,
                                       login_address_max_failures=1000)
    portal = start_background(url, root / "blobs", settings=settings)
    visits: dict[str, str] = {}
    try:
        for index, name in enumerate(("aisha.khan", "tom.bennett", "priya.shah")):
            officer = next(a for a in result.accounts if a.username == name)
            store, client = open_signed_in(root / name, portal.url, officer)
            sync(store, client)
            case = store.cases(sort="reference")[0]
            visit = record_visit(store, case.id, root, photos=2, seed=index + 1, photo_size=(1200, 900))
            report = sync(store, client)
            assert report.ok, report
            visits[case.reference] = visit.id
        yield Served(portal, result, visits)
    finally:
        portal.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[tuple[WebDriver, Path]]:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = chromium(downloads)
    try:
        yield driver, downloads
    finally:
        driver.quit()


def account(served: Served, username: str) -> Any:
    return next(a for a in served.accounts.accounts if a.username == username)


def assert_accessible(driver: WebDriver, page: str) -> None:
    violations = axe_violations(driver)
    assert not violations, f"axe-core on {page}: {violations}"


def queue_order(served: Served) -> list[str]:
    """The lead's queue as the portal's records say it must be: nearest unmet clock first (API side)."""
    visits = {v["id"]: v for v in admin_visits(served.portal.url, account(served, "admin"))}
    assert set(served.visits.values()) <= set(visits)
    lead = account(served, "helen.okafor")
    session = requests.Session()
    token = session.post(f"{served.portal.url}/api/v1/auth/login", json={
        "username": lead.username, "password": lead.password, "device_id": "order-check"}, timeout=10).json()["token"]
    cursor, cases = 0, {}
    while True:
        page = session.get(f"{served.portal.url}/api/v1/sync/pull", params={"cursor": cursor},
                           headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
        cases.update({c["id"]: c["data"] for c in page["changes"] if c["entity"] == "case" and not c["deleted"]})
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break

    def due(visit_id: str) -> tuple[bool, str]:
        clocks = [c["due_at"] for c in cases[visits[visit_id]["case_id"]].get("clocks") or [] if not c.get("met_at")]
        return (not clocks, min(clocks) if clocks else "")

    return sorted(served.visits.values(), key=lambda v: (*due(v), visits[v]["seq"]))


def test_sign_in_queue_visit_photo_summary_approve_return_sign_out(served: Served, browser: tuple[WebDriver, Path]) -> None:
    driver, downloads = browser
    base, lead = served.portal.url, account(served, "helen.okafor")

    # Wrong password: the message is shown and tied to the field; nothing is lost but the password.
    sign_in(driver, base, lead.username, "not the password at all")
    error = driver.find_element(By.ID, "password-error")
    assert "username or password is wrong" in error.text
    assert driver.find_element(By.ID, "password").get_attribute("aria-describedby") == "password-error"
    assert driver.find_element(By.ID, "username").get_attribute("value") == lead.username
    shot(driver, "01-sign-in-wrong-password")
    assert_accessible(driver, "sign-in with an error")

    # The keyboard: the first Tab reaches the skip link, and its focus is visible.
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    focus = focused_style(driver)
    assert focus["text"] == "Skip to main content" and focus["background"] not in ("rgba(0, 0, 0, 0)", "")

    sign_in(driver, base, lead.username, lead.password)
    assert driver.current_url.endswith("/web/queue")
    cookie = driver.get_cookie("__Host-fieldapp-session")
    assert cookie and cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert driver.execute_script("return document.cookie") == ""  # HttpOnly: no script sees the session

    # The queue: every submitted visit of the team, nearest deadline first (as the API's clocks say).
    links = driver.find_elements(By.CSS_SELECTOR, ".queue-title a")
    shown = [link.get_attribute("href").rsplit("/", 1)[1] for link in links]
    assert shown == queue_order(served)
    shot(driver, "02-queue")
    assert_accessible(driver, "queue")

    # Open the first visit with the keyboard alone: Tab to its link (focus visible), Enter.
    body = driver.find_element(By.TAG_NAME, "html")
    for _ in range(12):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        if driver.switch_to.active_element == links[0]:
            break
    assert driver.switch_to.active_element == links[0], "Tab never reached the first visit"
    assert focused_style(driver)["background"] == "rgb(255, 221, 0)"
    shot(driver, "02b-queue-keyboard-focus")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(driver, 20).until(staleness_of(body))
    first = shown[0]
    assert driver.current_url.endswith(f"/web/visits/{first}")
    headings = [h.text for h in driver.find_elements(By.TAG_NAME, "h2")]
    for heading in ("Statutory deadlines", "Answers", "Hazards", "Assessment", "Photos", "Written summary to the tenant", "Decision"):
        assert heading in headings
    thumbs = driver.find_elements(By.CSS_SELECTOR, ".photos img")
    assert len(thumbs) == 2
    assert all(driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", t) == 320 for t in thumbs)
    shot(driver, "03-visit")
    assert_accessible(driver, "visit")

    # The written summary link gives the PDF (downloaded, not opened: its bytes are checked).
    driver.find_element(By.CSS_SELECTOR, "a.summary-link").click()
    pdf = wait_for_file(downloads, ".pdf")
    assert pdf.read_bytes().startswith(b"%PDF")

    # A photo at full size on click.
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, ".photos a"))
    assert "/photos/" in driver.current_url and driver.find_element(By.TAG_NAME, "h1").text == "Photo 1 of 2"
    full = driver.find_element(By.CSS_SELECTOR, ".full-photo img")
    assert driver.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight];", full) == [1200, 900]
    shot(driver, "04-photo-full-size")
    assert_accessible(driver, "photo")
    click_and_load(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "Back to the visit"))

    # Return without a comment: the push service's own rule, its message tied to the field.
    driver.find_element(By.ID, "decision-return").click()
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/decision'] button"))
    assert "needs a comment" in driver.find_element(By.ID, "comment-error").text
    assert driver.find_element(By.ID, "comment").get_attribute("aria-describedby") == "comment-error"
    shot(driver, "05-return-needs-comment")
    assert_accessible(driver, "visit with an error")
    driver.find_element(By.ID, "comment").send_keys("Please add the humidity reading for the bathroom.")
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/decision'] button"))
    assert driver.current_url.endswith("/web/queue?decided=return"), driver.find_element(By.TAG_NAME, "main").text
    assert "returned to its officer" in driver.find_element(By.CSS_SELECTOR, "[role=status]").text

    # Approve the next one.
    second = shown[1]
    driver.get(f"{base}/web/visits/{second}")
    driver.find_element(By.ID, "decision-approve").click()
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/decision'] button"))
    assert driver.current_url.endswith("/web/queue?decided=approve")
    remaining = [a.get_attribute("href").rsplit("/", 1)[1] for a in driver.find_elements(By.CSS_SELECTOR, ".queue-title a")]
    assert remaining == shown[2:]
    shot(driver, "06-queue-after-decisions")

    # The API side: returned with that comment, and approved (the laptop pulls the same).
    by_id = {v["id"]: v for v in admin_visits(base, account(served, "admin"))}
    assert by_id[first]["status"] == "returned"
    assert by_id[first]["review"]["comment"] == "Please add the humidity reading for the bathroom."
    assert by_id[second]["status"] == "approved"

    sign_out(driver)
    assert "/web/sign-in" in driver.current_url and "You are signed out" in driver.page_source
    driver.get(f"{base}/web/visits/{second}")
    assert driver.current_url.endswith(f"/web/sign-in?next=%2Fweb%2Fvisits%2F{second}")
    sign_in(driver, base, lead.username, lead.password, go=False)  # back on the page asked for
    assert driver.current_url.endswith(f"/web/visits/{second}")
    sign_out(driver)


class _Forger(http.server.BaseHTTPRequestHandler):
    """Another page on loopback (same site, another origin) with a form aimed at the portal."""

    target = ""

    def do_GET(self) -> None:
        body = (f'<!doctype html><title>Prize</title><form method="post" action="{self.target}">'
                '<input type="hidden" name="decision" value="approve"><input type="hidden" name="csrf" value="guess">'
                '<button id="claim">Claim your prize</button></form>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_forged_post_from_another_page_changes_nothing(served: Served, browser: tuple[WebDriver, Path]) -> None:
    driver, _ = browser
    base, lead = served.portal.url, account(served, "helen.okafor")
    pending = [v for v in admin_visits(base, account(served, "admin")) if v["status"] == "submitted" and v["id"] in served.visits.values()]
    assert pending
    target = pending[0]["id"]
    sign_in(driver, base, lead.username, lead.password)
    _Forger.target = f"{base}/web/visits/{target}/decision"
    forger = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Forger)
    thread = threading.Thread(target=forger.serve_forever, daemon=True)
    thread.start()
    try:
        driver.get(f"http://127.0.0.1:{forger.server_address[1]}/")
        assert "claim" in driver.page_source, driver.page_source
        click_and_load(driver, driver.find_element(By.ID, "claim"))
        assert "Form refused" in driver.find_element(By.TAG_NAME, "h1").text
        shot(driver, "07-forged-post-refused")
    finally:
        forger.shutdown()
    assert {v["id"]: v for v in admin_visits(base, account(served, "admin"))}[target]["status"] == "submitted"


def test_compliance_chart_and_csv(served: Served, browser: tuple[WebDriver, Path]) -> None:
    driver, downloads = browser
    lead = account(served, "helen.okafor")
    sign_in(driver, served.portal.url, lead.username, lead.password)
    click_and_load(driver, driver.find_element(By.LINK_TEXT, "Compliance"))
    assert driver.find_element(By.TAG_NAME, "h1").text == "Compliance"
    chart = driver.find_element(By.CSS_SELECTOR, "svg.chart")
    assert chart.get_attribute("role") == "img" and len(chart.find_elements(By.CSS_SELECTOR, "rect")) == 3
    totals = {key: int(driver.find_element(By.ID, f"total-{key}").text) for key in ("on_track", "amber", "breached")}
    assert sum(totals.values()) > 0
    described = driver.find_element(By.ID, "chart-desc").get_attribute("textContent")
    assert f"Breached: {totals['breached']}" in described
    shot(driver, "08-compliance")
    assert_accessible(driver, "compliance")
    driver.find_element(By.PARTIAL_LINK_TEXT, "Download these cases as CSV").click()
    rows = list(csv.DictReader(io.StringIO(wait_for_file(downloads, ".csv").read_text(encoding="utf-8"))))
    counted = {key: sum(1 for r in rows if r["standing"] == key) for key in totals}
    assert counted == totals
    assert all(r["team"] == "North Area Housing" for r in rows), rows[:3]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", r["due_at"]) for r in rows)


def test_officer_is_told_not_for_your_role(served: Served, browser: tuple[WebDriver, Path]) -> None:
    driver, _ = browser
    officer = account(served, "aisha.khan")
    sign_in(driver, served.portal.url, officer.username, officer.password)
    assert driver.find_element(By.TAG_NAME, "h1").text == "Not for your role"
    shot(driver, "09-not-for-your-role")
    assert_accessible(driver, "not for your role")
    sign_out(driver)


def test_phone_width_has_no_horizontal_scroll(served: Served, tmp_path: Path) -> None:
    driver = chromium(tmp_path, width=360, height=780)
    try:
        lead = account(served, "helen.okafor")
        sign_in(driver, served.portal.url, lead.username, lead.password)
        pages = {"10-phone-queue": "/web/queue", "11-phone-visit": f"/web/visits/{next(iter(served.visits.values()))}",
                 "12-phone-compliance": "/web/compliance"}
        for name, path in pages.items():
            driver.get(served.portal.url + path)
            scroll, viewport = no_horizontal_scroll(driver)
            assert viewport <= 360 and scroll <= viewport, f"{path}: {scroll}px wide in a {viewport}px viewport"
            shot(driver, name)
        sign_out(driver)
        scroll, viewport = no_horizontal_scroll(driver)
        assert scroll <= viewport
        shot(driver, "13-phone-sign-in")
    finally:
        driver.quit()
