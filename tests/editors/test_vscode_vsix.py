"""The .vsix that `npx @vscode/vsce package` builds (CI builds it before the tests): its
package.json declares exactly the settings generated from the server's model, activates on the
document languages, and every module the extension loads is inside the package."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from .helpers import CLIENT_CONFIG, missing

VSCODE = CLIENT_CONFIG / "vscode"
STUB = """module.exports = new Proxy({}, {get: (t, p) => (p === '__esModule' ? false
  : new Proxy(function () {}, {get: () => ({})}))});"""
LOADER = """const Module = require('module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolve.call(this, request === 'vscode' ? require.resolve('./vscode-stub.js') : request, ...rest);
};
const extension = require("./extension/" + require("./extension/package.json").main);
console.log(JSON.stringify(Object.keys(extension)));"""


@pytest.fixture(scope="module")
def vsix() -> Path:
    built = sorted(VSCODE.glob("*.vsix"), key=lambda p: p.stat().st_mtime)
    if not built:
        missing("the VS Code extension package (.vsix)",
                "cd client-config/vscode && npm ci && npx @vscode/vsce package --allow-missing-repository")
    return built[-1]


def generated_configuration():
    spec = importlib.util.spec_from_file_location("gen_settings", VSCODE / "scripts" / "gen_settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate()


def test_vsix_settings_are_the_generated_schema(vsix: Path):
    with zipfile.ZipFile(vsix) as archive:
        package = json.loads(archive.read("extension/package.json"))
    assert package["contributes"]["configuration"] == generated_configuration()
    assert package["activationEvents"] == [f"onLanguage:{language}" for language in
                                           ("latex", "tex", "bibtex", "markdown", "quarto", "rmd")]
    commands = {c["command"]: c["title"] for c in package["contributes"]["commands"]}
    assert commands["papercite.reindex"] == "Reindex" and commands["papercite.searchPapers"] == "Search papers"


def test_vsix_loads_with_what_it_ships(vsix: Path, tmp_path: Path):
    node = shutil.which("node")
    if not node:
        missing("Node.js", "apt-get install nodejs")
    with zipfile.ZipFile(vsix) as archive:
        archive.extractall(tmp_path)
    (tmp_path / "vscode-stub.js").write_text(STUB, encoding="utf-8")
    (tmp_path / "load.js").write_text(LOADER, encoding="utf-8")
    run = subprocess.run([node, "load.js"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == ["activate", "deactivate"]
