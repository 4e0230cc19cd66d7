"""The upload page in a real browser (issue 14): headless Chromium picks a file on the page, the page
sends it, and the verdicts are read from the report it shows in place, timeline included.

Skips only where no browser is installed (Debian: ``apt-get install chromium chromium-driver``).
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
webdriver = pytest.importorskip("selenium.webdriver")

from serving import ROOT, Server  # noqa: E402

BROWSER = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
DRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(BROWSER is None or DRIVER is None,
                                reason="no Chromium and chromedriver installed (apt-get install chromium chromium-driver)")

WAIT = 120  # seconds: a generous bound for each thing awaited, never a timing assertion


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="grader-chromium-")
    options = Options()
    options.binary_location = BROWSER
    # Headless as root in a container: no sandbox (root cannot have one), nothing fetched from
    # the network besides the server under test, a fresh profile.
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1200,1600", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Server(tmp_path_factory.mktemp("serve-browser"), "--workers", "1", "--rate", "0") as s:
        yield s


def _verdicts(driver) -> dict[str, str]:
    from selenium.webdriver.common.by import By
    return {li.get_attribute("data-check"): ("passed" if "pass" in li.get_attribute("class").split() else "failed")
            for li in driver.find_elements(By.CSS_SELECTOR, "li.check")}


def _upload(driver, server, path: Path, lang: str = "ja", exercise: str | None = None) -> dict[str, str]:
    """Open the page, pick ``path``, press the button, and read the report shown in place."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver.get(server.url + f"?lang={lang}")
    wait = WebDriverWait(driver, WAIT)
    driver.find_element(By.ID, "file").send_keys(str(path))
    if exercise:
        Select(driver.find_element(By.ID, "exercise")).select_by_value(exercise)
    else:  # the page shows which exercise the name tells, as the command line infers it
        wait.until(lambda d: d.find_element(By.ID, "inferred").text.strip())
    driver.find_element(By.ID, "grade").click()
    wait.until(lambda d: d.find_element(By.ID, "result").is_displayed()
               or "error" in (d.find_element(By.ID, "status").get_attribute("class") or ""))
    assert driver.find_element(By.ID, "result").is_displayed(), driver.find_element(By.ID, "status").text
    frame = driver.find_element(By.ID, "report")
    wait.until(lambda d: "/report/" in (frame.get_attribute("src") or ""))
    wait.until(EC.frame_to_be_available_and_switch_to_it((By.ID, "report")))
    try:
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "li.check"))
        found = _verdicts(driver)
        found["_lang"] = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
        found["_timelines"] = str(len(driver.find_elements(By.CSS_SELECTOR, "figure.timeline-figure svg")))
    finally:
        driver.switch_to.default_content()
    return found


def test_page_grades_a_racy_program_and_shows_its_timeline(browser, server, tmp_path):
    path = tmp_path / "counter_mt.py"
    shutil.copy(ROOT / "reference" / "counter_mt.py", path)
    found = _upload(browser, server, path, exercise="counter_lck")
    assert found["runs"] == "passed" and found["tally"] == "failed" and found["lock"] == "failed"
    assert found["_lang"] == "ja" and int(found["_timelines"]) >= 1


def test_page_in_english_infers_the_exercise_and_passes_a_right_answer(browser, server, tmp_path):
    from selenium.webdriver.common.by import By

    path = tmp_path / "s2212345_counter_lck.py"
    shutil.copy(ROOT / "reference" / "counter_lck.py", path)
    found = _upload(browser, server, path, lang="en")
    assert found["_lang"] == "en"
    assert {k: v for k, v in found.items() if not k.startswith("_")} == {
        "runs": "passed", "tally": "passed", "lock": "passed", "concurrent": "passed", "join": "passed",
        "integrity": "passed"}
    assert "counter_lck" in browser.find_element(By.ID, "inferred").text


def test_page_says_why_a_file_cannot_be_graded(browser, server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    path = tmp_path / "hello.py"
    path.write_text("print('hello')\n", encoding="utf-8")
    browser.get(server.url + "?lang=en")
    browser.find_element(By.ID, "file").send_keys(str(path))
    browser.find_element(By.ID, "grade").click()
    status = browser.find_element(By.ID, "status")
    WebDriverWait(browser, WAIT).until(lambda d: "error" in (status.get_attribute("class") or ""))
    assert "cannot tell which exercise hello.py is for" in status.text
    assert not browser.find_element(By.ID, "result").is_displayed()
