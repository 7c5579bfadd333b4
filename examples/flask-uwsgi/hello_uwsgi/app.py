"""The Flask application: one route that proves psycopg2's C extension and libpq load."""

import sys

import psycopg2
from flask import Flask

app = Flask(__name__)


def libpq_version() -> int:
    # Importing psycopg2 already loads libpq.so; asking its version makes a missing library fail the request.
    return psycopg2.__libpq_version__


@app.get("/")
def index() -> dict[str, object]:
    return {
        "app": "hello-uwsgi",
        "python": sys.version.split()[0],
        "psycopg2": psycopg2.__version__.split()[0],
        "libpq": libpq_version(),
    }
