"""The course website (mkdocs.yml): built with ``mkdocs build --strict`` into a temporary folder, then read
in a real browser, served from 127.0.0.1.

In Debian's headless Chromium through ``playwright`` (``executable_path``, as tests/test_browser.py; no
browser is ever downloaded), the test opens the home page, every lesson and every doc of the nav, and checks:

- nothing is asked of any host but 127.0.0.1 (every other request is aborted and recorded: no web font,
  no CDN script), and the console shows no error;
- every image on a page has loaded (``naturalWidth > 0``), and each lesson shows at least as many images
  as its committed outputs hold (figures, and the clips that play as animated images);
- each lesson's formulas are typeset by the MathJax the site serves itself;
- every link to the site itself answers 200, and a ``#fragment`` names an id on its page;
- the built-in search answers a query offline.

It skips, saying why, when the site tools (``pip install -e ".[dev]"``) or Chromium are missing.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from test_browser import BROWSER_ARGS, find_chromium

yaml = pytest.importorskip("yaml", reason="PyYAML (installed with mkdocs) reads mkdocs.yml")
REPO = Path(__file__).resolve().parents[1]
LESSONS = ["01_pace_sampling", "02_guess_the_pace", "03_pretrain_on_gpu", "04_contrastive_variants",
           "05_finetune_and_retrieval", "06_attention_maps"]
DOCS = ["results.md", "claims.md", "claims_v4.md", "claims_v6.md", "paper-vs-code.md", "teaching.md", "data.md",
        "cli.md", "performance.md", "architecture.md", "lab-notebook.md"]
SITE_TOOLS = {"mkdocs": "mkdocs", "material": "mkdocs-material", "mkdocs_jupyter": "mkdocs-jupyter",
              "jupyter_server_mathjax": "jupyter-server-mathjax"}


def nav_pages(nav) -> list[str]:
    """The source paths of mkdocs.yml's nav, in order."""
    pages = []
    for entry in nav:
        for value in (entry.values() if isinstance(entry, dict) else [entry]):
            pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def page_url(source: str) -> str:
    """The site path of a nav page (use_directory_urls): results.md -> results/, index.md -> ''."""
    stem = source.rsplit(".", 1)[0]
    if stem == "index" or stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


def committed_images(name: str) -> int:
    """Images in a lesson's committed outputs: PNG figures, and <img> in HTML outputs (animated clips)."""
    nb = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text())
    count = 0
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            count += "image/png" in data
            count += len(re.findall(r"<img\b", "".join(data.get("text/html", ""))))
    return count


def test_the_nav_holds_home_the_six_lessons_and_the_docs():
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    pages = nav_pages(config["nav"])
    assert pages[0] == "index.md"
    assert [p for p in pages if p.endswith(".ipynb")] == [f"lessons/{n}.ipynb" for n in LESSONS]
    assert set(DOCS) <= set(pages)
    assert all((REPO / "docs" / p).is_file() for p in pages if not p.startswith("lessons/"))
    assert config["theme"]["font"] is False  # Material would fetch Google Fonts
    jupyter = next(p["mkdocs-jupyter"] for p in config["plugins"] if isinstance(p, dict) and "mkdocs-jupyter" in p)
    assert jupyter["execute"] is False and jupyter["include_requirejs"] is False and jupyter["cache"] is False
    assert not urllib.parse.urlparse(jupyter["custom_mathjax_url"]).netloc


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    missing = [pip for module, pip in SITE_TOOLS.items() if importlib.util.find_spec(module) is None]
    if missing:
        pytest.skip(f"the site tools are not installed ({', '.join(missing)}): pip install -e '.[dev]'")
    out = tmp_path_factory.mktemp("site") / "site"
    before = {p for p in (".cache", "site") if (REPO / p).exists()}
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(REPO / "mkdocs.yml"),
                           "-d", str(out)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    # the build writes nothing into the repository (mkdocs-jupyter's cache is off; the copies are temporary)
    assert {p for p in (".cache", "site") if (REPO / p).exists()} == before
    return out


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_the_site_works_offline_in_a_browser(server, site):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium browser found: install Debian's package (apt-get install -y chromium) or set "
                    "PACEKIT_CHROMIUM to its path; this test never downloads a browser")
    from playwright.sync_api import sync_playwright

    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    pages = [page_url(p) for p in nav_pages(config["nav"])]
    local = ("http://127.0.0.1", "data:", "blob:")
    outside, errors, links = [], [], set()

    def only_local(route):
        if route.request.url.startswith(local):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", only_local)
            page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
            page.on("requestfailed", lambda r: errors.append(f"{page.url}: request failed {r.url}"))
            for path in pages:
                url = server + path
                response = page.goto(url, wait_until="load")
                assert response is not None and response.status == 200, url
                lesson = path.removeprefix("lessons/").rstrip("/")
                if lesson in LESSONS:
                    # MathJax typesets after load; its fonts and extensions come from the site too
                    page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 "
                                           "&& MathJax.Hub.getAllJax().length > 0", timeout=30_000)
                    assert page.locator(".noError, .merror, .MathJax_Error").count() == 0, f"{lesson}: a TeX error"
                    shown = page.eval_on_selector_all(".jupyter-wrapper img", "els => els.length")
                    assert shown >= committed_images(lesson), (lesson, shown, committed_images(lesson))
                    assert page.locator(".jupyter-wrapper .jp-OutputArea-output").count() > 0, lesson
                    if lesson == "02_guess_the_pace":  # the game widget, without a kernel: its text
                        assert page.get_by_text("run the notebook to play").count() > 0
                page.wait_for_load_state("networkidle")
                broken = page.eval_on_selector_all(
                    "img", "els => els.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80))")
                assert not broken, (path, broken)
                links |= set(page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)"))

            page.goto(server, wait_until="load")  # the built-in search, with no server behind it
            page.locator("input.md-search__input").click()
            page.keyboard.type("pace")
            page.locator(".md-search-result__item").first.wait_for(timeout=15_000)
        finally:
            browser.close()

    assert not outside, f"requests to other hosts: {sorted(set(outside))[:10]}"
    assert not errors, "\n".join(errors[:20])

    checked, bodies = [], {}
    for link in sorted(links):
        target, _, fragment = link.partition("#")
        if not target.startswith(server):
            continue
        if target not in bodies:
            try:
                with urllib.request.urlopen(target, timeout=10) as response:
                    bodies[target] = (response.status, response.read())
            except urllib.error.HTTPError as error:
                bodies[target] = (error.code, b"")
        status, body = bodies[target]
        assert status == 200, f"{link} answers {status}"
        if fragment and target.endswith("/"):
            anchor = urllib.parse.unquote(fragment)
            assert f'id="{anchor}"'.encode() in body, f"{link}: no element with id {anchor!r}"
        checked.append(link)
    assert len(checked) > len(pages), checked  # the nav's links at least, on every page
