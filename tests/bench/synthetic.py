"""Generated libraries for the speed benchmarks: realistic-looking papers at any size.

Titles come from a word-bigram chain over real seed titles (the corpora's paper listing), with
words swapped in from the seed abstracts and, for 45%, an invented `Name:` prefix as ML papers
have; abstracts are 5-10 seed sentences; authors follow a Zipf-like surname skew ("Wang", "Li" and
"Zhang" are common, as in real libraries). Deterministic for a given seed.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SEED_LISTING = REPO.parent / "shared" / "corpora" / "papers" / "daily-papers-listing.txt"

SURNAMES = ("Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao Kim Lee Park "
            "Smith Johnson Brown Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson Anderson "
            "Thomas Taylor Moore Jackson Martin Thompson White Harris Clark Lewis Robinson Walker Young Allen King "
            "Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
            "Roberts Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Dubois Durand "
            "Lefebvre Moreau Laurent Simon Michel Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci "
            "Tanaka Suzuki Takahashi Watanabe Ito Yamamoto Nakamura Kobayashi Kato Sato Ivanov Smirnov Kuznetsov "
            "Popov Vasiliev Petrov Sokolov Mikhailov Novak Kowalski Nowak Wiśniewski Jensen Nielsen Hansen "
            "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsen Berg Haug Vaswani Hinton Bengio LeCun "
            "Goodfellow Sutskever Krizhevsky Devlin Radford Brown Kingma Welling Silver Mnih Schulman").split()
GIVEN = ("Wei Jing Yan Min Hao Lei Jun Tao Xin Ming Ana Maria John James David Sarah Emma Laura Marco Luca "
         "Hiroshi Yuki Olga Ivan Anna Peter Paul Lars Ingrid Pierre Sophie Ahmed Fatima Priya Ravi Noam").split()
VENUES = ("NeurIPS ICML ICLR CVPR ICCV ECCV ACL EMNLP NAACL AAAI IJCAI KDD SIGIR WWW SIGMOD VLDB "
          "OSDI SOSP NSDI Nature Science JMLR TPAMI TACL arXiv").split() + [
    "Journal of Machine Learning Research", "Transactions on Pattern Analysis and Machine Intelligence",
    "Physical Review Letters", "Bioinformatics"]
SYLLABLES = "ka lo mi ne ra ti so vu ze xa qu lu fe ga ho ji po be da co".split()
STOP = {"a", "an", "the", "of", "for", "and", "in", "on", "with", "to", "via", "by", "from", "at", "is", "are"}


@dataclass
class SyntheticPaper:
    key: str
    title: str
    authors: list[tuple[str, str]]  # (family, given)
    year: int
    venue: str
    abstract: str
    doi: str
    arxiv: str


def read_seeds(path: Path = SEED_LISTING) -> list[tuple[str, str]]:
    """(title, abstract) pairs of the seed listing: a title line, a blank line, an abstract line."""
    if not path.exists():
        sys.exit(f"seed listing not found at {path}: the benchmark needs ../shared/corpora")
    blocks = [b.strip() for b in re.split(r"\n\s*\n", path.read_text(encoding="utf-8"))]
    pairs = []
    for title, abstract in zip(blocks, blocks[1:]):
        if len(title) < 200 and "\n" not in title and len(abstract) > 300 and len(title.split()) >= 3:
            pairs.append((title, abstract))
    return pairs


def generate(n: int, seed: int = 7) -> list[SyntheticPaper]:
    rng = random.Random(seed)
    seeds = read_seeds()
    chain: dict[str, list[str]] = defaultdict(list)
    starts: list[str] = []
    for title, _ in seeds:
        body = title.split(":", 1)[-1].split()
        if body:
            starts.append(body[0])
        for a, b in zip(body, body[1:] + ["</s>"]):
            chain[a].append(b)
    sentences = [s.strip() for _, abstract in seeds for s in re.split(r"(?<=[.!?])\s+", abstract) if len(s) > 40]
    vocab = sorted({w for s in sentences for w in re.findall(r"[A-Za-z][a-z]{3,}", s)})
    surname_weights = [1.0 / (i + 1) ** 0.8 for i in range(len(SURNAMES))]
    papers: list[SyntheticPaper] = []
    taken: set[str] = set()
    for i in range(n):
        if i < len(seeds):  # the real seed papers come first, as they are
            title, abstract = seeds[i]
        else:
            title = _chain_title(rng, chain, starts, vocab)
            abstract = " ".join(rng.sample(sentences, rng.randint(5, 10)))
        authors = [(rng.choices(SURNAMES, surname_weights)[0], rng.choice(GIVEN)) for _ in range(rng.randint(1, 8))]
        year = min(2025, int(1990 + 35 * rng.random() ** 0.5))
        first_word = next((w.lower() for w in re.findall(r"[A-Za-z]+", title) if w.lower() not in STOP), "paper")
        key = _unique(f"{authors[0][0].lower()}{year}{first_word}", taken)
        arxiv = f"{year % 100:02d}{rng.randint(1, 12):02d}.{rng.randint(0, 99999):05d}" if rng.random() < 0.6 else ""
        papers.append(SyntheticPaper(key, title, authors, year, rng.choice(VENUES), abstract,
                                     f"10.{rng.randint(1000, 9999)}/{rng.randint(100000, 999999)}", arxiv))
    return papers


def _chain_title(rng: random.Random, chain, starts, vocab) -> str:
    words = [rng.choice(starts)]
    while len(words) < 14:
        nxt = rng.choice(chain.get(words[-1], ["</s>"]))
        if nxt == "</s>":
            break
        words.append(nxt)
    for _ in range(rng.randint(1, 2)):
        words[rng.randrange(len(words))] = rng.choice(vocab)
    title = " ".join(words)
    if rng.random() < 0.45:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
        if rng.random() < 0.3:
            name += rng.choice(["", "-2", "X", "GPT", "Net"])
        title = f"{name}: {title}"
    return title


def _unique(key: str, taken: set[str]) -> str:
    candidate, n = key, 0
    while candidate in taken:
        n += 1
        candidate = f"{key}{chr(ord('a') + (n - 1) % 26)}{(n - 1) // 26 or ''}"
    taken.add(candidate)
    return candidate


def _bib_escape(value: str) -> str:
    return value.replace("\\", "").replace("{", "").replace("}", "").replace("%", r"\%").replace("&", r"\&")


def to_bibtex(paper: SyntheticPaper) -> str:
    authors = " and ".join(f"{family}, {given}" for family, given in paper.authors)
    fields = [("title", paper.title), ("author", authors), ("year", str(paper.year)),
              ("journal", paper.venue), ("abstract", paper.abstract), ("doi", paper.doi)]
    if paper.arxiv:
        fields += [("eprint", paper.arxiv), ("archiveprefix", "arXiv")]
    body = ",\n".join(f"  {name} = {{{_bib_escape(value)}}}" for name, value in fields)
    return f"@article{{{paper.key},\n{body}\n}}\n"


def write_bib(papers: list[SyntheticPaper], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for paper in papers:
            out.write(to_bibtex(paper))
            out.write("\n")
    return path


def to_csl(paper: SyntheticPaper) -> dict:
    """The paper as a CSL-JSON item, as Better BibTeX's CSL-JSON export writes one."""
    item = {"id": paper.key, "type": "article-journal", "title": paper.title,
            "author": [{"family": family, "given": given} for family, given in paper.authors],
            "issued": {"date-parts": [[paper.year]]}, "container-title": paper.venue,
            "abstract": paper.abstract, "DOI": paper.doi}
    if paper.arxiv:
        item["URL"] = f"https://arxiv.org/abs/{paper.arxiv}"
    return item


def write_csl_json(papers: list[SyntheticPaper], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        json.dump([to_csl(paper) for paper in papers], out, ensure_ascii=False, indent=1)
    return path


if __name__ == "__main__":
    count, target = int(sys.argv[1]), Path(sys.argv[2])
    write_bib(generate(count), target)
    print(f"wrote {count} papers to {target}")
