"""Regression guard: top-3 retrieval on the held-out questions stays at or above 85 %."""

from __future__ import annotations

from cityos.services.consult import heldout, search, service


def test_heldout_top3_accuracy_stays_above_target() -> None:
    rows = heldout.load()
    assert len(rows) >= 200
    index = search.Index(heldout.shipped_documents())
    result = heldout.evaluate(heldout.bm25_ranker(index), rows)
    assert result.top3 >= 0.85, result
    assert result.top1 >= 0.75, result


def test_heldout_questions_are_not_copied_from_the_faq() -> None:
    questions = {a["question"].rstrip("？?") for a in service.shipped()["articles"]}
    assert not [r.question for r in heldout.load() if r.question.rstrip("？?") in questions]


def test_threshold_separates_service_questions_from_off_topic_ones() -> None:
    index = search.Index(heldout.shipped_documents())
    inside = [index.query(r.question).confidence for r in heldout.load()]
    outside = [index.query(q).confidence for q in heldout.offtopic()]
    assert sum(c >= service.THRESHOLD for c in inside) / len(inside) >= 0.95
    assert sum(c < service.THRESHOLD for c in outside) / len(outside) >= 0.5
