"""The server's settings: one pydantic model, whichever way they arrive (initializationOptions,
workspace/configuration section `papercite`, workspace/didChangeConfiguration).

An invalid value is reported and dropped; the rest still applies.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SECTION = "papercite"


class CompletionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=1000, description="Most completion items offered for one citation.")
    label: Literal["key", "title"] = Field("key", description="What a completion row shows first: the key or the title.")


class HoverSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    abstract: int = Field(400, ge=0, description="Characters of abstract shown on hover; 0 hides it.")
    prose: bool = Field(True, description=(
        "Hovering a paper's title or short name (\"LightGen\") in running text shows its citation, when the match is unambiguous."))


class DiagnosticsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    unused_entries: bool = Field(False, alias="unusedEntries", description=(
        "Report bibliography entries no document of the workspace cites (off: shared libraries make it noisy)."))


class InlayHintSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="Show each cited paper's short title after its key.")


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    libraries: list[str] = Field(default_factory=list, description=(
        "Library files or globs (~ expanded) indexed for every document, besides the bibliographies documents declare."))
    index_dir: str | None = Field(None, alias="indexDir", description="Where the index lives (default: the user cache dir).")
    completion: CompletionSettings = Field(default_factory=CompletionSettings)
    hover: HoverSettings = Field(default_factory=HoverSettings)
    diagnostics: DiagnosticsSettings = Field(default_factory=DiagnosticsSettings)
    inlay_hints: InlayHintSettings = Field(default_factory=InlayHintSettings, alias="inlayHints")
    citation_commands: list[str] = Field(default_factory=list, alias="citationCommands", description=(
        "Extra LaTeX commands that take citation keys, e.g. \"mycite\"."))


def parse_settings(raw: Any, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Settings from what a client sent (a dict, possibly wrapped in {"papercite": {...}}), on top of
    ``base``. Returns the settings and one message per invalid value, each naming the setting."""
    base = base or Settings()
    if raw is None or raw == []:  # Neovim sends an empty Lua table as [], for all settings or one section
        return base, []
    if isinstance(raw, dict) and raw.get(SECTION) == []:
        raw = {**raw, SECTION: {}}
    if isinstance(raw, dict):
        raw = _nested(raw)
    if isinstance(raw, dict) and isinstance(raw.get(SECTION), dict):
        raw = raw[SECTION]
    if not isinstance(raw, dict):
        return base, [f"papercite settings must be an object, got {type(raw).__name__}"]
    merged = _merge(base.model_dump(by_alias=True), raw)
    try:
        return Settings.model_validate(merged), []
    except ValidationError as err:
        problems = []
        for error in err.errors():
            _drop(merged, error["loc"], base)
            where = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
            problems.append(f"papercite setting {where!r}: {error['msg']} (got {_short(error.get('input'))}); ignored")
        try:
            return Settings.model_validate(merged), problems
        except ValidationError:  # a value we could not isolate: keep what we had
            return base, problems


def _nested(raw: dict) -> dict:
    """Dotted names as nested objects: {"completion.limit": 3} (as the docs name settings, and as
    editors' flat settings files hold them) means {"completion": {"limit": 3}}."""
    nested: dict = {}
    for key, value in raw.items():
        value = _nested(value) if isinstance(value, dict) else value
        *parents, name = key.split(".") if isinstance(key, str) else [key]
        node = nested
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[name] = _merge(node[name], value) if isinstance(node.get(name), dict) and isinstance(value, dict) \
            else value
    return nested


def _merge(base: dict, raw: dict) -> dict:
    """``raw`` over ``base``, object by object: a change to `completion.label` keeps `completion.limit`."""
    merged = dict(base)
    for key, value in raw.items():
        merged[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) \
            else value
    return merged


def _drop(merged: dict, loc: tuple, base: Settings) -> None:
    """Put the base value back where validation failed (or remove an unknown key)."""
    head = loc[0]
    if not isinstance(head, str) or head not in merged:
        return
    if len(loc) > 1 and isinstance(merged[head], dict) and isinstance(loc[1], str):
        default = base.model_dump(by_alias=True).get(head, {})
        if loc[1] in default:
            merged[head][loc[1]] = default[loc[1]]
        else:
            merged[head].pop(loc[1], None)
        return
    default = base.model_dump(by_alias=True)
    if head in default:
        merged[head] = default[head]
    else:
        merged.pop(head)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
