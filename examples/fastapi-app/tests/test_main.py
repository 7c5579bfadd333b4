"""The index route answers with the interpreter and pydantic-core versions."""

from fastapi.testclient import TestClient

from app.main import app


def test_index() -> None:
    body = TestClient(app).get("/").json()
    assert body["app"] == "fastapi-app"
    assert body["pydantic_core"] == "2.27.2"
