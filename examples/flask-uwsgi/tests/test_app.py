"""The route answers with the libpq version psycopg2 was linked against."""

from hello_uwsgi.app import app


def test_index_reports_libpq() -> None:
    response = app.test_client().get("/")
    assert response.status_code == 200
    assert response.get_json()["libpq"] > 100000
