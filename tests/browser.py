"""Open a written HTML page in headless Chromium (Debian's chromium + chromium-driver, through selenium) and
report what a reader would meet: images that did not load, sounds that cannot play, console errors."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def browser_available() -> bool:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).is_file() and (Path(DRIVER).is_file() or shutil.which("chromedriver") is not None)


def open_page(page: Path, timeout: float = 30.0) -> dict:
    """{"images": [(src, alt, loaded)], "audio": [(src, playable)], "console": [messages], "viewport": bool}."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER if Path(DRIVER).is_file() else shutil.which("chromedriver")),
                              options=options)
    try:
        driver.get(page.resolve().as_uri())
        # scroll through the page so that lazily loaded images load, then wait for every image and sound
        driver.execute_script("document.querySelectorAll('img').forEach(i => i.loading = 'eager');")
        deadline = time.time() + timeout
        state = {}
        while time.time() < deadline:
            state = driver.execute_script("""
                const imgs = [...document.images].map(i => [i.getAttribute('src'), i.getAttribute('alt') || '',
                                                            i.complete && i.naturalWidth > 0, i.complete]);
                const audio = [...document.querySelectorAll('audio')].map(a => [a.getAttribute('src'),
                                                            a.readyState >= 1 && !a.error, !!a.error]);
                const viewport = !!document.querySelector('meta[name=viewport]');
                return {images: imgs, audio: audio, viewport: viewport};""")
            settled = all(i[3] for i in state["images"]) and all(a[1] or a[2] for a in state["audio"])
            if settled:
                break
            time.sleep(0.25)
        console = [entry["message"] for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    finally:
        driver.quit()
    return {"images": [(s, alt, ok) for s, alt, ok, _ in state["images"]],
            "audio": [(s, ok) for s, ok, _ in state["audio"]], "console": console, "viewport": state["viewport"]}
