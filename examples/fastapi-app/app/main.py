"""HTTP routes: one that reports versions, validated through pydantic's compiled core."""

import sys

import pydantic_core
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI(title="fastapi-app")


class Hello(BaseModel):
    app: str
    python: str
    pydantic_core: str


@app.get("/")
def index() -> Hello:
    return Hello(app="fastapi-app", python=sys.version.split()[0], pydantic_core=pydantic_core.__version__)
