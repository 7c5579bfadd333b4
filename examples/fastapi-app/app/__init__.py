"""The FastAPI service of couplet's fastapi-app example."""
