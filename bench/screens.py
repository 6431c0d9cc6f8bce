"""Screenshots of the main pages, for a reviewer to look at:

    python bench/screens.py [DIRECTORY]      # default: bench/screens/

Polls the loopback copies of the three sites (the tests' own, tests/sites.py) twice, so the
store holds history and news, serves it with `regmon serve`, and photographs each page in
Debian's headless chromium (through chromedriver), at a desktop and a phone width.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from tests.helpers import first_world, free_port, second_world, wait_until_serving
from tests.sites import World

REPO = Path(__file__).resolve().parent.parent
PAGES = {"home": "", "statements": "statements", "search": "statements?q=facial+recognition",
         "statement": "statements/5", "company": "companies/clearview-ai",
         "sources": "sources"}
WIDTHS = {"desktop": (1280, 1000), "phone": (390, 1400)}


def regmon(config: Path, state: Path, *args: str) -> subprocess.Popen[bytes]:
    """regmon with this configuration and state, as a child process."""
    return subprocess.Popen([sys.executable, "-m", "monitor", *args, "--config", str(config),
                             "--state-dir", str(state)], env={"PYTHONPATH": str(REPO),
                                                               "NO_PROXY": "127.0.0.1"})


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "bench" / "screens"
    out.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="regmon-screens-"))
    world = World()
    try:
        first_world(world)
        config = world.write_config(root / "etc")
        state = root / "state"
        regmon(config, state, "once").wait()
        second_world(world)
        world.publish()
        regmon(config, state, "once").wait()
        port = free_port()
        server = regmon(config, state, "serve", "--port", str(port))
        base = f"http://127.0.0.1:{port}/"
        wait_until_serving(base)
        options = Options()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                     "--disable-background-networking", "--no-first-run"):
            options.add_argument(flag)
        browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            for width_name, (width, height) in WIDTHS.items():
                browser.set_window_size(width, height)
                for name, path in PAGES.items():
                    browser.get(base + path)
                    target = out / f"{name}-{width_name}.png"
                    browser.save_screenshot(str(target))
                    print(target)
        finally:
            browser.quit()
            server.terminate()
            server.wait(10)
    finally:
        world.close()


if __name__ == "__main__":
    main()
