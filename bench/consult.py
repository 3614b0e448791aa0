"""Benchmark: 掌上咨询 retrieval on held-out questions, against a plain substring match.

Usage: .venv/bin/python bench/consult.py

The held-out set (src/cityos/services/consult/data/questions_heldout.csv, 200+ questions a
resident would type: colloquial, short forms, typos, other word order) is never used to write
the FAQ. Each question is labelled with the item (or general article) it should find; a hit
in the top 3 (at most one article per item, as the service answers) counts.

Figures printed, all measured in this run on the shipped FAQ:
- cityos: jieba words with the service dictionary + character bigrams + colloquial synonyms, BM25;
- the same without the colloquial synonyms (what the synonym table adds);
- baseline: substring match — score = how many of the query's character bigrams occur in the
  article (question, answer, item name), ties broken by the longest common substring;
and the ratio of top-3 accuracy and of queries per second. Then the confidence threshold:
the share of held-out questions answered and of off-topic questions passed on to staff.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from cityos.services.consult import heldout, search, service  # noqa: E402

TARGET_TOP3 = 0.85


def _longest_common(a: str, b: str) -> int:
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] in b:
                best = j - i
            else:
                break
    return best


class Substring:
    """The plain baseline: no tokeniser, no dictionary, no weighting."""

    def __init__(self, documents: Sequence[search.Document]) -> None:
        self.documents = list(documents)
        self.texts = [f"{d.question} {d.text}" for d in self.documents]

    def rank(self, question: str) -> list[search.Document]:
        q = search.normalise(question)
        grams = {q[i : i + 2] for i in range(len(q) - 1)}
        scored = []
        for doc, text in zip(self.documents, self.texts, strict=True):
            found = sum(1 for g in grams if g in text)
            if found:
                scored.append((found, _longest_common(q, text), doc))
        scored.sort(key=lambda s: (-s[0], -s[1]))
        out: list[search.Document] = []
        seen: set[str] = set()
        for _f, _l, doc in scored:
            group = doc.item_code or doc.key
            if group not in seen:
                seen.add(group)
                out.append(doc)
            if len(out) == 3:
                break
        return out


class Literal(search.Index):
    """The cityos index, queried without the colloquial synonyms."""

    def query(self, text: str, k: int = 3) -> search.Result:
        original = search.SYNONYMS
        search.SYNONYMS = ()
        try:
            return super().query(text, k)
        finally:
            search.SYNONYMS = original


def main() -> None:
    console = Console()
    rows = heldout.load()
    docs = heldout.shipped_documents()
    search.tokens("预热")  # load jieba's dictionary outside the timings
    started = time.perf_counter()
    index = search.Index(docs)
    build_ms = (time.perf_counter() - started) * 1000
    ours = heldout.evaluate(heldout.bm25_ranker(index), rows)
    literal = heldout.evaluate(heldout.bm25_ranker(Literal(docs)), rows)
    base = heldout.evaluate(Substring(docs).rank, rows)
    table = Table(title=f"掌上咨询 retrieval: {len(rows)} held-out questions, {len(docs)} FAQ articles")
    for col in ("ranker", "top-1", "top-3", "queries/s"):
        table.add_column(col)
    for name, r in (
        ("cityos (jieba + bigrams + synonyms, BM25)", ours),
        ("cityos without colloquial synonyms", literal),
        ("baseline: substring match", base),
    ):
        table.add_row(name, f"{r.top1:.1%}", f"{r.top3:.1%}", f"{r.per_second:,.0f}")
    console.print(table)
    console.print(
        f"index build {build_ms:.0f} ms; top-3 ratio to the baseline {ours.top3 / base.top3:.2f}×, "
        f"speed ratio {ours.per_second / base.per_second:.1f}×; target top-3 ≥ {TARGET_TOP3:.0%}: "
        + ("[green]met[/]" if ours.top3 >= TARGET_TOP3 else "[red]missed[/]")
    )
    inside = [index.query(r.question).confidence for r in rows]
    outside = [index.query(q).confidence for q in heldout.offtopic()]
    answered = sum(c >= service.THRESHOLD for c in inside) / len(inside)
    passed_on = sum(c < service.THRESHOLD for c in outside) / len(outside)
    console.print(
        f"threshold {service.THRESHOLD}: {answered:.1%} of held-out questions answered, "
        f"{passed_on:.1%} of {len(outside)} off-topic questions passed on to staff"
    )


if __name__ == "__main__":
    main()
