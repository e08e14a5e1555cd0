"""The pace game in a real browser: notebook 02 in JupyterLab, and the classroom page of ``pacekit game``.

Both are driven by Debian's headless ``chromium`` through the ``playwright`` package (``executable_path``;
playwright's own browser download is never used), and both play a whole game: before every answer the
test reads the page's text and checks that no truth is on it; after the last round it checks the end
screen (scores, chance, the player's and the model's confusion matrices).

- The notebook: ``notebooks/02_guess_the_pace.ipynb`` (outputs cleared) is copied into a temporary
  folder and opened in JupyterLab there with a random token; the test runs all cells and answers with
  the mouse. It also fetches an animated clip from the page and checks its frame timing.
- The classroom page: ``pacekit game --no-browser`` on a free port over the same data;
  the test answers with the keyboard (number keys, Enter), and checks that the page asks nothing of
  any host but 127.0.0.1 (no CDN).

Screenshots go to the pytest temporary folder, and are copied to ``$PACEKIT_SCREENSHOTS`` when that
variable names a folder (``02_guess_the_pace.png``, the README's; ``pacekit_game_classroom.png``).
Nothing is written into the repository: the kernels work in the temporary folder, so the notebook's
``setup()`` puts its runs and data under it (:func:`pacekit.teaching.notebook.project_root` is ``.`` outside
``notebooks/``).

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


@pytest.fixture(scope="module")
def lab_folder(tmp_path_factory):
    """The folder the notebook runs in; the classroom test reuses its data and its trained model."""
    work = tmp_path_factory.mktemp("game") / "lab"
    work.mkdir()
    return work


@pytest.fixture
def jupyterlab(chromium, tmp_path, lab_folder):
    """A JupyterLab server on 127.0.0.1 over a temporary folder holding the game notebook."""
    work = lab_folder
    clean_copy(work)
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, PACEKIT_FAST="1", JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    news = tmp_path / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))  # no toast over the notebook
    # render every cell: with JupyterLab's default windowing a cell far from the view has no visible text,
    # and where run-all leaves the view depends on how long the cells below the game take
    tracker = tmp_path / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
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


SPOILERS = ("Right!", "Not quite", "was at natural pace", "The model said", "the pace was", "Game over")


def assert_nothing_revealed(text: str, round_number: int, rounds: int) -> None:
    """The page before an answer: this round's question, no reveal, no truth in the table."""
    for word in SPOILERS:
        assert word not in text, f"round {round_number}: {word!r} is on the page before the answer"
    assert f"Round {round_number} of {rounds}" in text


def answer_and_check(page, game, round_number: int, rounds: int, answer) -> str:
    """Check nothing is revealed, answer with ``answer()``, wait for the reveal; returns the reveal."""
    from playwright.sync_api import expect

    expect(game).to_contain_text(re.compile(rf"Round {round_number} of {rounds} \| score \d+/{round_number - 1} "),
                                 timeout=20_000)
    assert_nothing_revealed(game.inner_text(), round_number, rounds)
    answer()
    reveal = game.get_by_text(re.compile(r"^(Right!|Not quite)"))
    expect(reveal).to_be_visible(timeout=20_000)
    return reveal.inner_text()


def check_end_screen(game) -> None:
    from playwright.sync_api import expect

    expect(game).to_contain_text("Game over", timeout=20_000)
    text = game.inner_text()
    assert re.search(r"you: \d+/\d+ right \| the model: \d+/\d+ right \| guessing at random: [\d.]+/\d+", text), text
    captions = game.locator("table caption")
    expect(captions.filter(has_text="the model")).to_have_count(1)
    expect(captions.filter(has_text=re.compile(r"^you"))).to_have_count(1)


def served_clip_timing(page, image) -> list[int]:
    """The frame durations (ms) of the animated clip an <img> shows, read from the bytes the page holds."""
    from pacekit.teaching.widgets import animation_timeline

    data = page.evaluate("async (img) => Array.from(new Uint8Array(await (await fetch(img.src)).arrayBuffer()))",
                         image.element_handle())
    frames, durations = animation_timeline(bytes(data))
    assert len(frames) >= 2
    return durations


def keep(shot: Path) -> None:
    assert shot.stat().st_size > 10_000
    folder = os.environ.get(SCREENSHOTS_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(folder) / shot.name)


def test_the_game_notebook_plays_a_whole_game_in_a_real_browser(chromium, jupyterlab, tmp_path):
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
            page = browser.new_page(viewport={"width": 1280, "height": 1300})
            page.goto(url, timeout=60_000)
            page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')",
                                   timeout=60_000)
            page.wait_for_function(  # the kernel is connected before running anything
                "() => { const w = window.jupyterapp.shell.currentWidget;"
                " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
                " && w.sessionContext.session.kernel.connectionStatus === 'connected'; }", timeout=60_000)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

            game = page.locator(".pacekit-game")
            expect(game).to_be_visible(timeout=90_000)
            # the cells after the game have run: the model has answered every round, unseen
            expect(page.get_by_text("the model has answered all 10")).to_be_visible(timeout=90_000)
            # the synthetic videos' 25 fps: each frame of the game's 8-frame clip lasts 40 ms (a frame the
            # clip repeats, as a slow clip does, may be stored once for 80 or 120 ms)
            durations = served_clip_timing(page, game.locator("img").first)
            assert all(ms % 40 == 0 for ms in durations) and sum(durations) == 8 * 40, durations
            next_button = game.locator("button", has_text="Next round")
            # run-all leaves the view at the last cell; JupyterLab renders only cells near the view, and a
            # cell it does not render has no visible text
            game.scroll_into_view_if_needed()
            for r in range(1, 11):
                choice = game.locator("button", has_text=re.compile(r"^1: "))
                reveal = answer_and_check(page, game, r, 10, choice.click)
                assert "The model said" in reveal
                if r == 1:
                    game.scroll_into_view_if_needed()
                if r < 10:
                    expect(next_button).to_be_enabled()
                    next_button.click()
            check_end_screen(game)
            game.scroll_into_view_if_needed()
            game.screenshot(path=str(shot))
        finally:
            browser.close()
    keep(shot)


@pytest.fixture
def classroom(chromium, lab_folder, tmp_path):
    """``pacekit game --no-browser`` on a free port over the notebook test's data (reused when the notebook
    test ran first), in fast mode; yields the URL it printed."""
    port = free_port()
    log_path = tmp_path / "game.log"
    log = open(log_path, "w")
    env = dict(os.environ, PACEKIT_FAST="1", JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_DATA_DIR=str(tmp_path / "data"))
    server = subprocess.Popen(
        [sys.executable, "-m", "pacekit.cli", "game", "--no-browser", "--port", str(port), "--rounds", "4",
         "--data", str(lab_folder / "data" / "synthetic-small"), "--runs", str(lab_folder / "runs")],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None:
            found = re.search(r"on (http://127\.0\.0\.1:\d+/)", log_path.read_text())
            if found:
                try:  # the server listens (a GET of the page would already start a game's kernel)
                    socket.create_connection(("127.0.0.1", port), timeout=2).close()
                    url = found.group(1)
                except OSError:
                    pass
            if url is None:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"pacekit game did not start: {log_path.read_text()[-2000:]}")
                time.sleep(0.3)
        assert url == f"http://127.0.0.1:{port}/"
        yield url
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def test_the_classroom_page_plays_a_whole_game_with_the_keyboard(chromium, classroom, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    shot = tmp_path / "pacekit_game_classroom.png"
    elsewhere = []  # every request the page makes to another host: none may be made (no CDN)

    def only_local(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", only_local)
            page.goto(classroom, timeout=60_000)
            game = page.locator(".pacekit-game")
            expect(game).to_be_visible(timeout=150_000)
            assert "classroom_game" not in page.inner_text("body")  # the code is hidden
            assert page.locator(".pacekit-game img").first.bounding_box()["width"] >= 280  # big on a projector
            game.screenshot(path=str(shot))  # round 1, as the class sees it before answering
            for r in range(1, 5):
                key = str(r % 3 + 1)
                reveal = answer_and_check(page, game, r, 4, lambda: page.keyboard.press(key))
                assert "The model said" in reveal
                if r < 4:
                    page.keyboard.press("Enter")
            check_end_screen(game)
            game.screenshot(path=str(tmp_path / "classroom_end.png"))
        finally:
            browser.close()
    assert elsewhere == []
    keep(shot)
