#!/usr/bin/env python3
"""Write the extension's settings (package.json `contributes.configuration`) from the server's
pydantic Settings model, the one place settings are defined.

    python scripts/gen_settings.py           # rewrite package.json
    python scripts/gen_settings.py --check   # exit 1 if package.json differs (what CI and the tests do)

Needs papercite importable (the repository's venv). Every server setting `a.b` becomes the VS Code
setting `papercite.a.b` with the model's type, bounds, choices, default and description. The
extension's own settings (how to start the server, tracing) are listed in CLIENT below; they are
never sent to the server.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any

from papercite.server.documents.settings import SECTION, Settings

PACKAGE_JSON = Path(__file__).resolve().parents[1] / "package.json"
SERVER_ID = "papercite"  # the id the extension reads the server settings' names from
CLIENT_ID = "papercite-client"
CLIENT: dict[str, dict[str, Any]] = {
    f"{SECTION}.serverPath": {
        "type": "string",
        "default": "",
        "scope": "machine-overridable",
        "markdownDescription": (
            "The `papercite` executable to run as `papercite serve`. Empty: `papercite` on `PATH`, "
            "else `python -m papercite.server.cli serve` with the Python extension's interpreter."),
    },
    f"{SECTION}.trace.server": {
        "type": "string",
        "enum": ["off", "messages", "verbose"],
        "default": "off",
        "description": "Log the messages between VS Code and the papercite server in its output channel.",
    },
}
KEEP = ("type", "enum", "minimum", "maximum", "items", "description")


def _leaf(schema: dict[str, Any], default: Any) -> dict[str, Any]:
    if "anyOf" in schema:  # Optional[X]: X or null
        types = [option["type"] for option in schema["anyOf"]]
        schema = {**schema, "type": types}
    prop = {key: schema[key] for key in KEEP if key in schema}
    prop["default"] = default
    return prop


def server_properties() -> dict[str, dict[str, Any]]:
    """`papercite.<name>` for every leaf of the Settings model, in the model's order."""
    schema = Settings.model_json_schema(by_alias=True)
    defaults = Settings().model_dump(by_alias=True, mode="json")
    properties: dict[str, dict[str, Any]] = {}

    def walk(node: dict[str, Any], values: dict[str, Any], prefix: str) -> None:
        for name, sub in node["properties"].items():
            if "$ref" in sub:
                walk(schema["$defs"][sub["$ref"].rsplit("/", 1)[1]], values[name], f"{prefix}{name}.")
            else:
                properties[f"{SECTION}.{prefix}{name}"] = _leaf(sub, values[name])

    walk(schema, defaults, "")
    for order, prop in enumerate(properties.values()):
        prop["order"] = order
    return properties


def generate() -> list[dict[str, Any]]:
    """The `contributes.configuration` of package.json."""
    return [
        {"id": SERVER_ID, "title": "papercite", "properties": server_properties()},
        {"id": CLIENT_ID, "title": "papercite: starting the server", "properties": CLIENT},
    ]


def render(package: dict[str, Any]) -> str:
    return json.dumps(package, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when package.json differs")
    parser.add_argument("--package", type=Path, default=PACKAGE_JSON)
    args = parser.parse_args(argv)
    current = args.package.read_text(encoding="utf-8")
    package = json.loads(current)
    package.setdefault("contributes", {})["configuration"] = generate()
    wanted = render(package)
    if current == wanted:
        return 0
    if args.check:
        sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), wanted.splitlines(True),
                                                   str(args.package), "generated"))
        print(f"{args.package}: settings differ from the server's model; run {Path(__file__).name}",
              file=sys.stderr)
        return 1
    args.package.write_text(wanted, encoding="utf-8")
    print(f"wrote {args.package}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
