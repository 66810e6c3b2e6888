"""The web page in a real headless Chromium: upload a RAVDESS clip, see the segment table and the timeline."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import threading
import time

import pytest

from support.paths import REPO

DATA = REPO.parent / "shared" / "data"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1400",
]


def _browser_paths():
    browser = next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None
    )
    driver = shutil.which("chromedriver")
    return browser, driver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chrome(tmp_path_factory):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    browser, driver_path = _browser_paths()
    if not browser or not driver_path:
        pytest.skip(
            "Chromium or ChromeDriver is not installed; as root run scripts/install_chromium.sh "
            "(apt-get install chromium chromium-driver)"
        )
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn

    from emorec.inference import Recognizer, build_untrained_bundle
    from emorec.serve import create_app

    clips = sorted((DATA / "ravdess_av").glob("*.mp4"))
    if not clips:
        pytest.skip(f"no RAVDESS clips under {DATA / 'ravdess_av'}")
    bundle = build_untrained_bundle(
        tmp_path_factory.mktemp("bundle") / "b",
        ["neutral", "happy", "sad", "angry"],
        {"frame_size": 48, "spec_size": [64, 96], "crop": "speaker"},
        frame="small_cnn",
        audio="audio_cnn",
        text="text",  # no subtitles: the words come from speech recognition
    )
    uploads = tmp_path_factory.mktemp("uploads")
    app = create_app(Recognizer.load(bundle), upload_dir=uploads)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield {"url": f"http://127.0.0.1:{port}/", "clip": clips[0], "uploads": uploads}
    srv.should_exit = True
    thread.join(timeout=10)


def test_upload_clip_shows_table_and_timeline(chrome, server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    chrome.get(server["url"])
    assert "emorec" in chrome.title
    WebDriverWait(chrome, 10).until(lambda d: "Limits:" in d.find_element(By.ID, "limits").text)
    chrome.find_element(By.ID, "video").send_keys(str(server["clip"]))
    chrome.find_element(By.ID, "submit").click()
    rows = WebDriverWait(chrome, 90).until(EC.presence_of_all_elements_located((By.CSS_SELECTOR, "#rows tr.segment")))
    assert len(rows) >= 1
    cells = rows[0].find_elements(By.TAG_NAME, "td")
    start, end, label = float(cells[0].text), float(cells[1].text), cells[2].text
    assert 0 <= start < end <= 3.3
    assert label in ("neutral", "happy", "sad", "angry")
    assert "frame" in cells[-2].text and "audio" in cells[-2].text  # modalities used
    if importlib.util.find_spec("faster_whisper") is not None:  # the RAVDESS sentence, heard by Whisper
        assert "text" in cells[-2].text and "by the door" in cells[-1].text.lower(), cells[-1].text
    headers = [th.text for th in chrome.find_elements(By.CSS_SELECTOR, "#head th")]
    assert headers[:3] == ["start", "end", "label"] and "happy" in headers
    width = chrome.execute_script(
        "const i = document.getElementById('timeline'); return i.complete ? i.naturalWidth : 0;"
    )
    assert width > 0
    assert chrome.find_element(By.ID, "timeline").is_displayed()
    assert "segment(s)" in chrome.find_element(By.ID, "status").text
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "web_predict.png"
    chrome.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000

    # a text file named .mp4 gives a readable error, not a crash
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video\n" * 20)
    chrome.find_element(By.ID, "video").clear()
    chrome.find_element(By.ID, "video").send_keys(str(bad))
    chrome.find_element(By.ID, "submit").click()
    WebDriverWait(chrome, 30).until(lambda d: d.find_element(By.ID, "status").get_attribute("class") == "error")
    msg = chrome.find_element(By.ID, "status").text
    assert "415" in msg and "notes.mp4" in msg
    assert chrome.find_element(By.ID, "segments").get_attribute("hidden") is not None
    chrome.save_screenshot(str(ARTIFACTS / "web_predict_error.png"))
    assert list(server["uploads"].iterdir()) == []  # uploads removed after each response
