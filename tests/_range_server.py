"""A loopback HTTP server for download tests: serves in-memory files, honours Range requests, and
can misbehave on purpose (cut a response short once, ignore Range, fail with a status).

The standard library's SimpleHTTPRequestHandler ignores Range headers, hence this handler.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Served:
    data: bytes
    drop_after: int | None = None  # first GET: send the full Content-Length, then only this many bytes
    ignore_range: bool = False  # answer 200 with the whole body even to a Range request
    fail_status: int | None = None  # answer every GET with this status


@dataclass
class RangeServer:
    files: dict[str, Served] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)

    def __post_init__(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Range")))
                served = server.files.get(self.path)
                if served is None:
                    self.send_error(404)
                    return
                if served.fail_status is not None:
                    self.send_error(served.fail_status)
                    return
                data, start = served.data, 0
                match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
                if match and not served.ignore_range:
                    start = int(match.group(1))
                    end = int(match.group(2)) if match.group(2) else len(data) - 1
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    body = data[start : end + 1]
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{start + len(body) - 1}/{len(data)}")
                else:
                    body = data
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if served.drop_after is not None:
                    cut, served.drop_after = served.drop_after, None
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, path: str, data: bytes, **behaviour) -> str:
        """Serve `data` at `path` (e.g. "/ucf/UCF101.rar"); returns its full URL."""
        self.files[path] = Served(data, **behaviour)
        return self.url + path

    def requests_for(self, path: str) -> list[str | None]:
        return [rng for p, rng in self.requests if p == path]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
