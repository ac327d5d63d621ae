"""The VS Code extension's settings are generated from the server's Settings model: package.json
must hold exactly what client-config/vscode/scripts/gen_settings.py makes of it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

VSCODE = Path(__file__).resolve().parents[2] / "client-config" / "vscode"


def generator():
    spec = importlib.util.spec_from_file_location("gen_settings", VSCODE / "scripts" / "gen_settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_package_json_settings_are_the_generated_ones():
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    assert package["contributes"]["configuration"] == generator().generate(), \
        "client-config/vscode/package.json is out of date: run client-config/vscode/scripts/gen_settings.py"


def test_the_check_mode_agrees(capsys):
    assert generator().main(["--check"]) == 0, capsys.readouterr().out


def test_every_server_setting_is_there_with_its_default():
    from papercite.server.documents.settings import Settings

    properties = generator().generate()[0]["properties"]
    defaults = Settings().model_dump(by_alias=True, mode="json")
    flat = {}
    for name, value in defaults.items():
        if isinstance(value, dict):
            flat.update({f"{name}.{sub}": v for sub, v in value.items()})
        else:
            flat[name] = value
    assert {f"papercite.{name}": value for name, value in flat.items()} == \
        {name: prop["default"] for name, prop in properties.items()}
    assert properties["papercite.completion.label"]["enum"] == ["key", "title"]
    assert properties["papercite.completion.limit"]["minimum"] == 1


def test_a_drift_is_caught(tmp_path, capsys):
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    del package["contributes"]["configuration"][0]["properties"]["papercite.hover.abstract"]
    stale = tmp_path / "package.json"
    stale.write_text(json.dumps(package, indent=2), encoding="utf-8")
    assert generator().main(["--check", "--package", str(stale)]) == 1
    assert "papercite.hover.abstract" in capsys.readouterr().out
