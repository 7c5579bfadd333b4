"""A tiny HTTP server answering with the version of the package the harness image installed."""

import http.server
import sys

import six


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"six {six.__version__}\n".encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
