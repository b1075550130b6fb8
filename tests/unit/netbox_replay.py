"""A recorded NetBox: serves the pages under tests/data/import/netbox/v4.1 on 127.0.0.1.

Requests are matched on path and query (query keys sorted, as NetBox's own `next` links have
them); the demo host in the pages is rewritten to this server's address, so every link a client
follows comes back here. It checks the API token as NetBox does, and keeps every request it
saw, so a test can say which pages were asked for and how.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

RECORDED = Path(__file__).resolve().parents[1] / "data" / "import" / "netbox" / "v4.1"
RECORDED_HOST = "https://demo.netbox.dev"
# The example token of NetBox's REST API documentation.
TOKEN = "0123456789abcdef0123456789abcdef01234567"


def normalized(path: str) -> str:
    parts = urlsplit(path)
    pairs = sorted(parse_qsl(parts.query, keep_blank_values=True), key=lambda kv: kv[0])
    return parts.path + (f"?{urlencode(pairs)}" if pairs else "")


class RecordedNetBox:
    def __init__(self, directory: Path = RECORDED, token: str = TOKEN):
        self.directory = directory
        self.token = token
        self.index: dict[str, str] = json.loads((directory / "index.json").read_text())
        self.requests: list[str] = []  # raw paths, as sent
        self.unknown: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                if self.headers.get("Authorization") != f"Token {server.token}":
                    self._answer(403, {"detail": "Invalid token"})
                    return
                name = server.index.get(normalized(self.path))
                if name is None:
                    server.unknown.append(self.path)
                    self._answer(404, {"detail": "Not found."})
                    return
                text = (server.directory / name).read_text().replace(RECORDED_HOST, server.url)
                self._answer(200, text)

            def _answer(self, status: int, body: object) -> None:
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("API-Version", "4.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> RecordedNetBox:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def page(self, name: str) -> dict[str, object]:
        text = (self.directory / name).read_text().replace(RECORDED_HOST, self.url)
        return dict(json.loads(text))
