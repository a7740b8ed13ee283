"""The JSON Schema of an import file, generated from the pydantic models it describes.

The committed copy (bot/schemas/import.schema.json) is for merchants and their
tools; a test keeps it equal to what the models accept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.services.imports.records import ImportFile

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "import.schema.json"
SCHEMA_ID = "https://cancelbot.example.com/schemas/import.schema.json"


def import_json_schema() -> dict[str, Any]:
    """The schema of `ImportFile` as a merchant validates against it (input, not output)."""
    schema = ImportFile.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def render_import_schema() -> str:
    """The schema as the text committed to the repository (stable order, trailing newline)."""
    return json.dumps(import_json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_import_schema(path: Path = SCHEMA_PATH) -> Path:
    """Regenerate the committed file; `cancelbot import --schema` calls this."""
    path.write_text(render_import_schema(), encoding="utf-8")
    return path
