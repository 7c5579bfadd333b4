"""WSGI entry point for uWSGI (`--module hello_uwsgi.wsgi:app`)."""

from hello_uwsgi.app import app

__all__ = ["app"]
