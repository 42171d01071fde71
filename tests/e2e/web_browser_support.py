"""Helpers of the browser tests: headless Chromium through Selenium, screenshots, axe-core, downloads.

No helper skips: a missing browser, driver or axe-core fails with the command that
installs it. axe-core is the copy the PyPI package ``selenium-axe-python`` bundles
(only its ``axe.min.js`` is used, injected through WebDriver).
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "web"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
_INSTALL = "run `make browser` (it installs chromium and chromium-driver)"


def axe_script() -> Path:
    """axe-core's axe.min.js (MPL-2.0), as the dev extra's ``selenium-axe-python`` ships it."""
    spec = importlib.util.find_spec("selenium_axe_python")
    assert spec is not None and spec.origin, "selenium-axe-python is missing: pip install -e '.[dev]' (make test does)"
    script = Path(spec.origin).parent / "axe-core" / "axe.min.js"
    assert script.exists(), f"{script} missing: reinstall selenium-axe-python"
    return script


def chromium(download_dir: Path, width: int = 1280, height: int = 900) -> WebDriver:
    """A headless Chromium that saves downloads (CSV, PDF) to ``download_dir``."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    assert not missing, f"{', '.join(missing)} missing: {_INSTALL}"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                     "--disable-extensions", "--lang=en-GB", f"--window-size={width},{height}"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(download_dir), "download.prompt_for_download": False,
        "plugins.always_open_pdf_externally": True,  # the summary link downloads the PDF: its bytes are checked
    })
    if width < 500:  # headless windows are at least 500 px wide: a phone is emulated (its viewport and touch)
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2}})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(120)  # axe-core on a long page of a busy machine
    return driver


def shot(driver: WebDriver, name: str) -> Path:
    """Save a screenshot of the whole page under tests/artifacts/web/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    width = int(driver.execute_script("return window.innerWidth"))
    size = driver.get_window_size()
    driver.set_window_size(size["width"], max(size["height"], min(height + 140, 6000)))
    try:
        driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(size["width"], size["height"])
    assert width > 0
    return path


def axe_violations(driver: WebDriver) -> list[dict[str, Any]]:
    """The page's serious and critical axe-core violations (WCAG 2.0–2.2 A and AA rules)."""
    # WebDriver runs scripts outside the page's CSP (which allows no script at all).
    driver.execute_script(axe_script().read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))})))).catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));")
    return [v for v in result if v.get("impact") in ("serious", "critical")]


def no_horizontal_scroll(driver: WebDriver) -> tuple[int, int]:
    """The page's scroll width and the viewport's width (the first must not exceed the second)."""
    return (int(driver.execute_script("return document.documentElement.scrollWidth")),
            int(driver.execute_script("return document.documentElement.clientWidth")))


def wait_for_file(folder: Path, suffix: str, timeout: float = 20.0) -> Path:
    """The first completed download in ``folder`` ending in ``suffix``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"*{suffix}") if p.stat().st_size > 0]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} download in {folder}: {sorted(p.name for p in folder.iterdir())}")


def click_and_load(driver: WebDriver, element: Any) -> None:
    """Activate a link or a form's button from the keyboard (Enter) and wait until the new page is there.

    Enter rather than a click: every such control must work from the keyboard, and under
    phone emulation a synthetic tap can land on the page that is already going away.
    """
    old = driver.find_element(By.TAG_NAME, "html")
    element.send_keys(Keys.ENTER)
    WebDriverWait(driver, 20).until(lambda _: _is_gone(old))


def _is_gone(element: Any) -> bool:
    """True once the element's page has been replaced.

    Chromium sometimes answers for a node of a page that is going away with an inspector
    error ("does not belong to the document") instead of a stale reference: both mean gone.
    """
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False


def sign_in(driver: WebDriver, base: str, username: str, password: str, *, go: bool = True) -> None:
    """Fill and send the sign-in form as a person would (keyboard into labelled fields); ``go``: open it first."""
    if go:
        driver.get(f"{base}/web/sign-in")
    driver.find_element(By.ID, "username").clear()
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))


def sign_out(driver: WebDriver) -> None:
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/web/sign-out'] button"))


def focused_style(driver: WebDriver) -> dict[str, str]:
    """The focused element's tag, text and focus indicator (outline and box-shadow)."""
    return dict(driver.execute_script(
        "const e = document.activeElement, s = getComputedStyle(e);"
        "return {tag: e.tagName, text: e.textContent.trim(), outline: s.outlineStyle + ' ' + s.outlineWidth,"
        " shadow: s.boxShadow, background: s.backgroundColor};"))


