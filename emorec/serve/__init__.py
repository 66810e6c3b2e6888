"""Web service for emotion recognition: `create_app(recognizer)` (FastAPI) and `emorec serve`."""

from emorec.serve.app import create_app

__all__ = ["create_app"]
