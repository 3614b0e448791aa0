"""Suggests a category for a free-text complaint (12345 calls, residents' reports): jieba words
and character n-grams, TF-IDF, logistic regression. Trained on the shipped labelled set
(``cases/data/complaints.csv``) plus the city's own corrections: every case whose final category
differs from the one suggested teaches the next training.
"""

from __future__ import annotations

import csv
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.cases.models import Case

DATA = Path(__file__).resolve().parent / "data" / "complaints.csv"
# Hand-written complaints in phrasings the training set does not use, kept out of training:
# the honest measure of how the model does on words it has not seen in that form.
FREEFORM = Path(__file__).resolve().parent / "data" / "complaints_freeform.csv"
THRESHOLD = 0.4  # below it the case goes to a dispatcher's queue instead of being routed


@dataclass(frozen=True)
class Suggestion:
    category_code: str
    confidence: float


def _read(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return [(row["text"], row["category_code"]) for row in csv.DictReader(fh)]


def shipped_examples() -> list[tuple[str, str]]:
    return _read(DATA)


def feedback_examples(session: Session) -> list[tuple[str, str]]:
    """Cases whose category was corrected after a suggestion (a transfer between categories)."""
    rows = session.execute(select(Case.title, Case.description, Case.category_code, Case.routing)).all()
    out = []
    for title, description, code, routing in rows:
        suggested = (routing or {}).get("suggested_category")
        if suggested and suggested != code:
            out.append((f"{title} {description}".strip(), code))
    return out


def _tokens(text: str) -> list[str]:
    import jieba

    return [w for w in jieba.lcut(text) if w.strip()]


class Classifier:
    def __init__(self, examples: list[tuple[str, str]]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, Pipeline

        features = FeatureUnion(
            [
                ("words", TfidfVectorizer(tokenizer=_tokens, token_pattern=None, lowercase=False, ngram_range=(1, 2))),
                ("chars", TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True)),
            ]
        )
        self.model: Any = Pipeline([("features", features), ("clf", LogisticRegression(max_iter=2000, C=8.0))])
        texts, labels = zip(*examples, strict=True)
        self.model.fit(list(texts), list(labels))

    def suggest(self, text: str, top: int = 3) -> list[Suggestion]:
        probabilities = self.model.predict_proba([text])[0]
        ranked = sorted(zip(self.model.classes_, probabilities, strict=True), key=lambda p: -p[1])[:top]
        return [Suggestion(str(code), round(float(p), 3)) for code, p in ranked]


_model: Classifier | None = None
_lock = threading.Lock()


def current(session: Session | None = None) -> Classifier:
    """The trained classifier of this process (trained on first use, about a second)."""
    global _model
    with _lock:
        if _model is None:
            extra = feedback_examples(session) if session is not None else []
            _model = Classifier(shipped_examples() + extra)
        return _model


def retrain(session: Session) -> int:
    """Train again with the city's corrections; returns how many examples were used."""
    global _model
    examples = shipped_examples() + feedback_examples(session)
    model = Classifier(examples)
    with _lock:
        _model = model
    return len(examples)


@dataclass(frozen=True)
class Evaluation:
    held_out_accuracy: float  # a stratified split of the shipped set
    trained_on: int
    tested_on: int
    freeform_accuracy: float  # the hand-written phrasings, never trained on
    freeform_count: int
    categories: int


def evaluate(seed: int = 7, test_size: float = 0.2) -> Evaluation:
    """Accuracy on a held-out stratified split of the shipped set, and on the free-form set."""
    from sklearn.model_selection import train_test_split

    examples = shipped_examples()
    texts, labels = zip(*examples, strict=True)
    train_x, test_x, train_y, test_y = train_test_split(
        list(texts), list(labels), test_size=test_size, random_state=seed, stratify=list(labels)
    )
    model = Classifier(list(zip(train_x, train_y, strict=True)))
    predicted = model.model.predict(test_x)
    correct = sum(1 for p, y in zip(predicted, test_y, strict=True) if p == y)
    freeform = _read(FREEFORM)
    guessed = model.model.predict([t for t, _ in freeform])
    right = sum(1 for p, (_, y) in zip(guessed, freeform, strict=True) if p == y)
    return Evaluation(
        correct / len(test_y), len(train_x), len(test_y), right / len(freeform), len(freeform), len(set(labels))
    )
