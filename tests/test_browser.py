"""The game notebook in a real browser: JupyterLab on 127.0.0.1, driven by headless Chromium.

The test copies ``notebooks/02_guess_the_pace.ipynb`` (outputs cleared) into a temporary folder, starts
JupyterLab there with a random token, opens the notebook in Debian's ``chromium`` through the
``playwright`` package (``executable_path``; playwright's own browser download is never used), runs
all cells, picks a pace, presses *Guess* and checks that the score and the reveal change. A screenshot
goes to the pytest temporary folder, and is copied to ``$PACEKIT_SCREENSHOTS/02_guess_the_pace.png`` when
that variable names a folder. Nothing is written into the repository: the kernel's working directory is
the temporary folder, so the notebook's ``setup()`` puts its runs and data under it
(:func:`pacekit.notebook.project_root` is ``.`` outside ``notebooks/``).

It skips, saying so, only when no Chromium executable is found (``apt-get install chromium``;
``PACEKIT_CHROMIUM`` may name another path).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "02_guess_the_pace.ipynb"
SCREENSHOTS_ENV = "PACEKIT_SCREENSHOTS"  # a folder to keep the screenshot in; unset: the temporary folder only
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]


def find_chromium() -> str | None:
    explicit = os.environ.get("PACEKIT_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(port: int, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    return json.loads(body) if body else None


def clean_copy(folder: Path) -> Path:
    """The game notebook without outputs or saved widget state, so only live widgets appear."""
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    target = folder / NOTEBOOK.name
    nbformat.write(nb, str(target))
    return target


@pytest.fixture
def chromium():
    path = find_chromium()
    if path is None:
        pytest.skip("no Chromium browser found: install Debian's package (apt-get install -y chromium) or set "
                    "PACEKIT_CHROMIUM to its path; this test never downloads a browser")
    return path


@pytest.fixture
def jupyterlab(chromium, tmp_path):
    """A JupyterLab server on 127.0.0.1 over a temporary folder holding the game notebook."""
    work = tmp_path / "lab"
    work.mkdir()
    clean_copy(work)
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, PACEKIT_FAST="1", JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    news = tmp_path / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))  # no toast over the notebook
    log = open(tmp_path / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
         f"--ServerApp.root_dir={work}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.extension_manager=readonly", *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                api(port, token, "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(f"JupyterLab did not start: {(tmp_path / 'jupyterlab.log').read_text()[-2000:]}")
                time.sleep(0.3)
        yield port, token
    finally:
        try:  # stop the kernels first: the notebook goes on training after the game cell
            for kernel in api(port, token, "/api/kernels") or []:
                api(port, token, f"/api/kernels/{kernel['id']}", method="DELETE")
        except (urllib.error.URLError, OSError):
            pass
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def test_the_game_notebook_plays_in_a_real_browser(chromium, jupyterlab, tmp_path):
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install -e '.[dev]' (do not run `playwright install`)")
    port, token = jupyterlab
    url = f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK.name}?token={token}&reset"
    shot = tmp_path / "02_guess_the_pace.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(url, timeout=60_000)
            page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')",
                                   timeout=60_000)
            page.wait_for_function(  # the kernel is connected before running anything
                "() => { const w = window.jupyterapp.shell.currentWidget;"
                " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
                " && w.sessionContext.session.kernel.connectionStatus === 'connected'; }", timeout=60_000)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

            guess = page.locator(".jupyter-widgets button", has_text="Guess")
            expect(guess).to_be_visible(timeout=75_000)
            status = page.get_by_text(re.compile(r"Round 1 of 10 \| score \d+/\d+"))
            expect(status).to_contain_text("score 0/0")
            expect(guess).to_be_disabled()
            page.locator(".jupyter-widgets button", has_text="normal (p = 1)").click()
            expect(guess).to_be_enabled()
            guess.click()

            expect(status).to_contain_text(re.compile(r"score [01]/1 \| streak [01]"), timeout=15_000)
            reveal = page.get_by_text(re.compile(r"(Right! The pace was|Not quite: the pace was) .*\(p = [0-9/]+\)"))
            expect(reveal).to_be_visible(timeout=15_000)
            if "Not quite" in reveal.inner_text():
                expect(reveal).to_contain_text("you said normal (p = 1)")
            guess.scroll_into_view_if_needed()
            page.screenshot(path=str(shot), full_page=False)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    keep = os.environ.get(SCREENSHOTS_ENV)
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(keep) / shot.name)
