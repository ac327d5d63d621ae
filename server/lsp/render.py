"""What the editor shows for a paper: completion rows and hover Markdown.

Pure functions from papers and search hits to LSP JSON and Markdown strings; the server decides
what to show, this module only how.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from lsprotocol import types

from papercite.index.model import Paper
from papercite.server.documents.library import Hit

ELLIPSIS = "…"
FULL_AUTHORS = 3  # authors named in a hover before "et al."

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<])")
# Characters that would end or break a Markdown link destination.
_URL_UNSAFE = {" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E"}


def escape(text: str) -> str:
    """Backslash-escape what Markdown would read as emphasis, code, links or HTML; every other
    character stays as typed, so the source of the hover is still readable in plain-text clients."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def shorten(text: str, limit: int = 60) -> str:
    """``text`` with runs of whitespace as one space, cut to at most ``limit`` characters (the
    "…" included) at the last word boundary; a single word longer than that is cut inside."""
    head = " ".join(text[: 4 * limit + 64].split())  # a 3 KB abstract cut to 400: normalise only its head
    text = head if len(head) > limit else " ".join(text.split())
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    cut = text[: limit - 1]
    if not text[limit - 1].isspace() and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + ELLIPSIS


def author_year(item: Paper | Hit) -> str:
    """" Vaswani et al. 2017" for LSP ``labelDetails.detail``, which clients append right after
    the label: hence the leading space. Empty when there is neither an author nor a year."""
    if isinstance(item, Hit):
        names = [s for s in item.surnames if s]
    else:
        names = [a.surname for a in item.authors if a.surname]
    if len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al." if names else ""
    text = " ".join(part for part in (who, str(item.year) if item.year else "") if part)
    return f" {text}" if text else ""


def full_authors(paper: Paper) -> str:
    """'A', 'A and B', 'A, B and C', then 'A, B, C et al.' past three authors."""
    names = [name for a in paper.authors if (name := a.full_name)]
    if len(names) > FULL_AUTHORS:
        return ", ".join(names[:FULL_AUTHORS]) + " et al."
    if len(names) > 1:
        return ", ".join(names[:-1]) + f" and {names[-1]}"
    return names[0] if names else ""


def reference_markdown(paper: Paper, abstract_chars: int = 400, location: str | None = None) -> str:
    """The hover for a citation key, one Markdown paragraph per part: the key, the title, who/when/
    where, the links, the abstract (cut at ``abstract_chars``, 0 hides it) and where it is defined."""
    parts = [_code(paper.key)]
    if paper.title.strip():
        parts.append(f"**{escape(' '.join(paper.title.split()))}**")
    meta = [escape(full_authors(paper)), str(paper.year or ""), f"*{escape(paper.venue)}*" if paper.venue else ""]
    if any(meta):
        parts.append(" · ".join(m for m in meta if m))
    if links := _links(paper):
        parts.append(" · ".join(links))
    if abstract_chars > 0 and paper.abstract.strip():
        parts.append(escape(shorten(paper.abstract, abstract_chars)))
    if location:
        parts.append(f"Defined in {escape(location)}")
    return "\n\n".join(parts)


def completion_item(hit: Hit, paper: Paper, label: str = "key", abstract_chars: int = 400,
                    location: str | None = None) -> dict:
    """A paper's completion row as LSP JSON (a CompletionItem's members), less those that depend
    on the request: where it inserts, its rank, its filter text (completion.ItemCache adds them
    to rows it keeps encoded). JSON, not an lsprotocol object: building one and converting it
    back costs more than the rest of the row, and a library's rows are made by the thousand."""
    title = " ".join(hit.title.split())
    by_title = label == "title" and bool(title)
    return {
        "label": title if by_title else hit.key,
        "labelDetails": {"detail": author_year(hit), "description": hit.key if by_title else shorten(title)},
        "kind": types.CompletionItemKind.Reference.value,
        "detail": title,
        "documentation": {"kind": types.MarkupKind.Markdown.value,
                          "value": reference_markdown(paper, abstract_chars, location)},
        "insertTextFormat": types.InsertTextFormat.PlainText.value,
    }


def unknown_key_markdown(key: str, elsewhere: str | None, closest: list[str]) -> str:
    """The hover for a key none of the document's bibliographies define: where else it is, if
    papercite knows, and the nearest keys that are defined (most likely a typo)."""
    parts = [f"{_code(key)} is not in this document's bibliographies."]
    if elsewhere:
        parts.append(f"It is in {escape(elsewhere)} (a library papercite indexes).")
    if closest:
        parts.append("Closest keys: " + ", ".join(_code(k) for k in closest))
    return "\n\n".join(parts)


def _links(paper: Paper) -> list[str]:
    links = []
    if paper.doi:
        links.append(_link(f"doi:{paper.doi}", "https://doi.org/" + quote(paper.doi, safe="/:;")))
    if paper.arxiv:
        links.append(_link(f"arXiv:{paper.arxiv}", "https://arxiv.org/abs/" + quote(paper.arxiv, safe="/:;")))
    # A URL that only points at the DOI or arXiv page already linked adds nothing.
    if paper.url and not any(i and i in paper.url for i in (paper.doi, paper.arxiv)):
        links.append(_link(paper.url, "".join(_URL_UNSAFE.get(c, c) for c in paper.url)))
    return links


def _link(text: str, target: str) -> str:
    return f"[{escape(text)}]({target})"


def _code(text: str) -> str:
    """Inline code that survives backticks in ``text``: a longer backtick fence, padded."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"
