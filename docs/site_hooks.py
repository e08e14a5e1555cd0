"""MkDocs hooks for the course website (mkdocs.yml names this file; `mkdocs build` runs it).

- The six lessons live in notebooks/, outside docs_dir. They join the site as lessons/<name>.ipynb, read
  from copies in a temporary folder (removed after the build; nothing is written into the repository):
  the copies drop the notebook's saved widget state, whose static rendering needs the widget manager
  from a CDN; a widget output then shows its text (notebook 02: "run the notebook to play").
  notebooks/README.md becomes lessons/index.md, the Lessons overview.
- Links from docs/*.md to ../notebooks/... point to those pages; a link to another file of the repository
  outside docs/ (source code, which the site does not carry) keeps its text and loses its link.
- MathJax 2 for the notebooks' LaTeX is the copy that the jupyter-server-mathjax package installs, served
  from the site's own assets/mathjax/ with a config that uses its bundled STIX-Web fonts: no CDN.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
import shutil
import tempfile
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.hooks.pacekit")
REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
LESSONS = "lessons"
MATHJAX_DIR = "assets/mathjax"
# The MathJax config that mkdocs.yml's custom_mathjax_url loads last (config=...,local/pacekit).
# The STIX-Web web fonts are the ones the package carries; its placeholder font face points at
# url('about:blank'), which Chromium refuses with a console error, so it is a local() face instead.
MATHJAX_LOCAL_CONFIG = """MathJax.Hub.Config({
  "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null,
               styles: {"@font-face": {"font-family": "MathJax_Blank", src: "local('MathJax_Blank')"}}},
  menuSettings: {zoom: "None"}
});
// The NativeMML output (which styles the hidden MathML that AssistiveMML adds for screen readers) points
// its variant fonts at TeX .otf files that the package does not carry: local() faces instead, no request.
MathJax.Hub.Register.StartupHook("NativeMML Jax Startup", function () {
  var styles = MathJax.OutputJax.NativeMML.config.styles;
  for (var key in styles) {
    if (key.indexOf("@font-face") === 0) {styles[key].src = "local('" + styles[key]["font-family"] + "')"}
  }
});
MathJax.Ajax.loadComplete("[MathJax]/config/local/pacekit.js");
"""
_LINK = re.compile(r"(!?)\[([^\]]*)\]\((\.\./[^)\s]+)\)")
_tmp: Path | None = None


def mathjax_static() -> Path:
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).parent / "static"


def _without_widget_state(source: Path, target: Path) -> None:
    nb = json.loads(source.read_text(encoding="utf-8"))
    nb.get("metadata", {}).pop("widgets", None)
    target.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")


@event_priority(100)  # before mkdocs-jupyter's on_files, which must see the notebooks
def on_files(files, config):
    global _tmp
    _cleanup()
    _tmp = Path(tempfile.mkdtemp(prefix="pacekit-site-"))
    (_tmp / LESSONS).mkdir()
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        _without_widget_state(notebook, _tmp / LESSONS / notebook.name)
        # A File with a src_dir, not File.generated: mkdocs-jupyter's wrapper reads the path from src_dir.
        files.append(File(f"{LESSONS}/{notebook.name}", str(_tmp), config.site_dir, config.use_directory_urls))
    files.append(File.generated(config, f"{LESSONS}/index.md", abs_src_path=str(NOTEBOOKS / "README.md")))
    static = mathjax_static()
    for path in sorted(static.rglob("*")):
        if path.is_file():
            uri = f"{MATHJAX_DIR}/{path.relative_to(static).as_posix()}"
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    files.append(File.generated(config, f"{MATHJAX_DIR}/config/local/pacekit.js", content=MATHJAX_LOCAL_CONFIG))
    return files


def on_page_markdown(markdown, page, config, files):
    """Point ../notebooks/ links of a doc to the lessons; unlink other files outside docs/."""
    here = posixpath.dirname(page.file.src_uri)

    def relink(match):
        bang, text, target = match.groups()
        path, _, fragment = target.partition("#")
        outside = posixpath.normpath(posixpath.join("docs", here, path))  # repository-relative
        if outside.startswith("notebooks/"):
            name = outside.removeprefix("notebooks/")
            site_path = f"{LESSONS}/{'index.md' if name == 'README.md' else name}"
            new = posixpath.relpath(site_path, here or ".") + (f"#{fragment}" if fragment else "")
            return f"{bang}[{text}]({new})"
        if outside == "README.md":
            return f"{bang}[{text}]({posixpath.relpath('index.md', here or '.')})"
        if outside.startswith("../") or bang:
            return match.group(0)  # outside the repository, or an image: left for mkdocs to report
        log.info("%s: %s is not on the site; keeping the link's text only", page.file.src_uri, target)
        return text

    if page.file.src_uri.startswith(f"{LESSONS}/"):
        return markdown
    return _LINK.sub(relink, markdown)


_HEADING = re.compile(r'<h([1-6])\b[^>]*\bid="([^"]+)"')


def on_page_content(html, page, config, files):
    """Point a lesson's table of contents at its headings' ids.

    mkdocs-jupyter makes the table of contents from the Markdown without its code spans, so a heading such
    as "1. `sample_indices`, worked by hand" is listed as #1-worked-by-hand while the page's heading has
    id 1-sample_indices-worked-by-hand. Each entry takes the id of the next heading of its level whose
    words hold the entry's words in order.
    """
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    headings = [(int(level), anchor) for level, anchor in _HEADING.findall(html)]
    position = 0
    for item in _flatten(page.toc):
        words = item.id.split("-")
        for i in range(position, len(headings)):
            level, anchor = headings[i]
            if level == item.level and _in_order(words, anchor.split("-")):
                item.id, position = anchor, i + 1
                break
    return html


def _flatten(items):
    for item in items:
        yield item
        yield from _flatten(item.children)


def _in_order(words, within):
    rest = iter(within)
    return all(word in rest for word in words)


def _cleanup():
    global _tmp
    if _tmp is not None:
        shutil.rmtree(_tmp, ignore_errors=True)
        _tmp = None


def on_post_build(config):
    _cleanup()


def on_build_error(error):
    _cleanup()
