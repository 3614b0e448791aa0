"""The held-out question set (questions phrased differently from the FAQ, labelled with the item
or general article they should find) and how retrieval is measured on it: top-1 and top-3
accuracy over the shipped knowledge base. Used by bench/consult.py and a regression test."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cityos.services.consult import search
from cityos.services.consult.service import DATA, shipped

HELDOUT = DATA / "questions_heldout.csv"
OFFTOPIC = DATA / "questions_offtopic.csv"


@dataclass(frozen=True)
class Labelled:
    question: str
    expected: str  # an item code, or the key of a general article


def load() -> list[Labelled]:
    with HELDOUT.open(encoding="utf-8") as fh:
        return [Labelled(r["question"], r["expected"]) for r in csv.DictReader(fh)]


def offtopic() -> list[str]:
    with OFFTOPIC.open(encoding="utf-8") as fh:
        return [r["question"] for r in csv.DictReader(fh)]


def shipped_documents() -> list[search.Document]:
    """The shipped FAQ as the index sees it in a fresh installation (ids are positions)."""
    data = shipped()
    names: dict[str, str] = data["items"]
    out = []
    for n, a in enumerate(data["articles"]):
        name = names.get(a["item_code"] or "", "")
        out.append(search.Document(n, a["key"], a["item_code"], a["question"], f"{a['answer']} {name} {name}"))
    return out


@dataclass(frozen=True)
class Evaluation:
    top1: float
    top3: float
    count: int
    per_second: float


Ranker = Callable[[str], Sequence[search.Document]]


def evaluate(rank: Ranker, rows: Sequence[Labelled]) -> Evaluation:
    """Accuracy of a ranker (question → documents, best first): a hit is a document of the
    expected item, or the expected general article itself."""
    top1 = top3 = 0
    start = time.perf_counter()
    for row in rows:
        ranked = rank(row.question)[:3]
        found = [row.expected in (d.item_code, d.key) for d in ranked]
        top1 += bool(found and found[0])
        top3 += any(found)
    elapsed = time.perf_counter() - start
    n = len(rows)
    return Evaluation(top1 / n, top3 / n, n, n / elapsed if elapsed else float("inf"))


def bm25_ranker(index: search.Index) -> Ranker:
    return lambda q: [s.document for s in index.query(q, k=3).hits]
