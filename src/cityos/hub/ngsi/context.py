"""JSON-LD ``@context`` handling for NGSI-LD: term expansion and compaction.

A ``Context`` maps short terms (``temperature``, ``WasteContainer``, ``sdm:x``) to IRIs and back.
It is built from the caller's contexts (URLs, inline objects, arrays, nested remote contexts)
with the NGSI-LD core context always applied last, so no user context can redefine a core term.
Shipped contexts (the core context and the Smart Data Models contexts of the hub's five types)
are read from ``data/`` by URL, never over the network; other URLs are fetched over HTTP(S) by
``ContextLoader`` (bounded LRU cache in entries and bytes, per-entry TTL, size and time limits).
Expanded names are what the entity store keeps.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from cityos.core.errors import FieldError
from cityos.core.i18n import N_, translate
from cityos.hub.ngsi.problems import BAD_REQUEST_DATA, LD_CONTEXT_NOT_AVAILABLE, NgsiProblem

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
SDM_CONTEXT_URL = "https://smartdatamodels.org/context.jsonld"
JSONLD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
SDM_DOMAINS = ("Transportation", "Parking", "WasteManagement", "Device")
Hosted = Callable[[str], Any | None]  # url -> a context document the hub hosts, or None


def _shipped() -> dict[str, str]:
    files: dict[str, str] = {}
    for version in ("", "-v1.3", "-v1.4", "-v1.5", "-v1.6", "-v1.7", "-v1.8"):
        files[f"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context{version}.jsonld"] = (
            "ngsi-ld-core-context-v1.8.jsonld"
        )
    for domain in SDM_DOMAINS:
        name = f"sdm-{domain}.jsonld"
        files[f"https://raw.githubusercontent.com/smart-data-models/dataModel.{domain}/master/context.jsonld"] = name
        files[f"https://smart-data-models.github.io/dataModel.{domain}/context.jsonld"] = name
    files[SDM_CONTEXT_URL] = "sdm-context.jsonld"
    files["https://raw.githubusercontent.com/smart-data-models/data-models/master/context.jsonld"] = (
        "sdm-context.jsonld"
    )
    return files


SHIPPED: dict[str, str] = _shipped()


@lru_cache(maxsize=16)
def _shipped_document(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def unavailable(url: str, reason: str = N_("The context could not be retrieved."), **params: Any) -> NgsiProblem:
    return NgsiProblem(
        LD_CONTEXT_NOT_AVAILABLE,
        N_("The JSON-LD context {url} is not available: {reason}"),
        params={"url": url[:200], "reason": translate(reason, **params)},
    )


def invalid_context(message: str, **params: Any) -> NgsiProblem:
    return NgsiProblem(BAD_REQUEST_DATA, message, details=[FieldError("@context", message, params)], params=params)


@dataclass
class _Entry:
    expires: float
    size: int
    document: Any


class ContextLoader:
    """Fetches and caches remote JSON-LD context documents.

    The cache is an LRU bounded both in entries and in bytes; each entry lives ``ttl`` seconds.
    A document larger than ``max_document`` bytes, slower than ``timeout`` seconds, not JSON, or
    at a private/loopback address (unless ``allow_private``; None: the setting
    ``ngsi_context_allow_private``) is not available."""

    def __init__(
        self,
        *,
        max_entries: int = 128,
        max_bytes: int = 4 * 1024 * 1024,
        ttl: float = 3600.0,
        max_document: int = 512 * 1024,
        timeout: float = 3.0,
        allow_private: bool | None = None,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.ttl = ttl
        self.max_document = max_document
        self.timeout = timeout
        self.allow_private = allow_private
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.fetches = 0

    # -- cache ---------------------------------------------------------------------------------
    def cached(self, url: str) -> Any | None:
        with self._lock:
            entry = self._cache.get(url)
            if entry is None:
                return None
            if entry.expires < time.monotonic():
                self._drop(url)
                return None
            self._cache.move_to_end(url)
            return entry.document

    def _drop(self, url: str) -> None:
        entry = self._cache.pop(url, None)
        if entry is not None:
            self._bytes -= entry.size

    def store(self, url: str, document: Any, size: int) -> None:
        if size > self.max_bytes:
            return
        with self._lock:
            self._drop(url)
            self._cache[url] = _Entry(time.monotonic() + self.ttl, size, document)
            self._bytes += size
            while self._cache and (len(self._cache) > self.max_entries or self._bytes > self.max_bytes):
                oldest = next(iter(self._cache))
                self._drop(oldest)

    def forget(self, url: str | None = None) -> None:
        with self._lock:
            if url is None:
                self._cache.clear()
                self._bytes = 0
            else:
                self._drop(url)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"entries": len(self._cache), "bytes": self._bytes, "fetches": self.fetches}

    def entries(self) -> list[tuple[str, int, float]]:
        """(url, size, seconds left) of every cached remote context."""
        now = time.monotonic()
        with self._lock:
            return [(url, e.size, max(0.0, e.expires - now)) for url, e in self._cache.items()]

    # -- loading -------------------------------------------------------------------------------
    def document(self, url: str, hosted: Hosted | None = None) -> Any:
        """The context document at ``url`` (a dict with ``@context``); ``hosted`` looks up the
        contexts the hub itself serves (``/ngsi-ld/v1/jsonldContexts/{id}``)."""
        name = SHIPPED.get(url)
        if name is not None:
            return _shipped_document(name)
        if hosted is not None:
            found = hosted(url)
            if found is not None:
                return found
        doc = self.cached(url)
        if doc is not None:
            return doc
        doc, size = self._fetch(url)
        self.store(url, doc, size)
        return doc

    def _check_address(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise unavailable(url, N_("Only http and https context URLs can be fetched."))
        if self.allow_private or (self.allow_private is None and _private_allowed()):
            return
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        except OSError as exc:
            raise unavailable(url, N_("The host name could not be resolved.")) from exc
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved:
                raise unavailable(url, N_("Contexts on private addresses are not fetched."))

    def _fetch(self, url: str) -> tuple[Any, int]:
        self._check_address(url)
        self.fetches += 1
        headers = {"Accept": "application/ld+json, application/json;q=0.9"}
        try:
            with (
                httpx.Client(timeout=self.timeout, follow_redirects=False) as client,
                client.stream("GET", url, headers=headers) as response,
            ):
                if response.status_code != 200:
                    raise unavailable(url, N_("The server answered {status}."), status=response.status_code)
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_document:
                        raise unavailable(url, N_("The context document is too large."))
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise unavailable(url) from exc
        try:
            doc = json.loads(b"".join(chunks))
        except ValueError as exc:
            raise unavailable(url, N_("The context document is not JSON.")) from exc
        if not isinstance(doc, dict) or "@context" not in doc:
            raise unavailable(url, N_("The document has no @context member."))
        return doc, size


def _private_allowed() -> bool:
    from cityos.core.settings import get_settings

    return bool(getattr(get_settings(), "ngsi_context_allow_private", False))


LOADER = ContextLoader()


def _is_absolute(value: str) -> bool:
    scheme, sep, rest = value.partition(":")
    return bool(sep) and scheme.isascii() and scheme[:1].isalpha() and all(c.isalnum() or c in "+-." for c in scheme)


class _Builder:
    """A simplified JSON-LD 1.1 context processor: what NGSI-LD needs (term definitions as
    strings or ``{"@id"}`` objects, ``@vocab``, compact IRIs, arrays, remote and nested contexts,
    ``null`` to reset)."""

    MAX_DEPTH = 8

    def __init__(self, loader: ContextLoader, hosted: Hosted | None = None) -> None:
        self.loader = loader
        self.hosted = hosted
        self.terms: dict[str, str] = {}
        self.vocab: str | None = DEFAULT_VOCAB
        self.remote = False

    def process(self, local: Any, depth: int = 0, seen: tuple[str, ...] = ()) -> None:
        if depth > self.MAX_DEPTH:
            raise invalid_context(N_("The @context nests too deeply."))
        if local is None:
            self.terms = {}
            self.vocab = DEFAULT_VOCAB
        elif isinstance(local, list):
            for item in local:
                self.process(item, depth + 1, seen)
        elif isinstance(local, str):
            if local in seen:
                raise invalid_context(N_("The @context {url} includes itself."), url=local[:200])
            if not _is_absolute(local):
                raise invalid_context(N_("A context reference must be an absolute URL."))
            if local not in SHIPPED:
                self.remote = True
            doc = self.loader.document(local, self.hosted)
            self.process(doc.get("@context") if isinstance(doc, dict) else None, depth + 1, (*seen, local))
        elif isinstance(local, dict):
            self._define_all(local)
        else:
            raise invalid_context(N_("A @context must be a URL, an object or a list of them."))

    def _define_all(self, local: dict[str, Any]) -> None:
        if "@import" in local and isinstance(local["@import"], str):
            self.process(local["@import"], 1)
        if "@vocab" in local:
            vocab = local["@vocab"]
            if vocab is None:
                self.vocab = None
            elif isinstance(vocab, str):
                self.vocab = self._expand_value(vocab, local, set()) if vocab else self.vocab
            else:
                raise invalid_context(N_("@vocab must be an IRI."))
        done: set[str] = set()
        for term in local:
            if not term.startswith("@"):
                self._define(term, local, done, set())

    def _define(self, term: str, local: dict[str, Any], done: set[str], pending: set[str]) -> None:
        if term in done:
            return
        if term in pending:
            raise invalid_context(N_("The term {term} is defined in a cycle."), term=term[:100])
        pending.add(term)
        value = local[term]
        iri: str | None
        if value is None:
            iri = None
        elif isinstance(value, str):
            iri = self._expand_value(value, local, pending, done)
        elif isinstance(value, dict):
            ref = value.get("@id")
            if ref is None and "@reverse" in value:
                iri = None
            elif ref is None:
                iri = self._expand_value(term, local, pending, done) if ":" in term else (self.vocab or "") + term
            elif isinstance(ref, str):
                iri = self._expand_value(ref, local, pending, done)
            else:
                raise invalid_context(N_("The definition of {term} is not valid."), term=term[:100])
        else:
            raise invalid_context(N_("The definition of {term} is not valid."), term=term[:100])
        if iri is None:
            self.terms.pop(term, None)
        else:
            self.terms[term] = iri
        pending.discard(term)
        done.add(term)

    def _expand_value(self, value: str, local: dict[str, Any], pending: set[str], done: set[str] | None = None) -> str:
        if value.startswith("@"):
            return value
        done = done if done is not None else set()
        if ":" in value:
            prefix, _, suffix = value.partition(":")
            if suffix.startswith("//"):
                return value
            if prefix in local and prefix not in done and isinstance(local.get(prefix), str | dict):
                self._define(prefix, local, done, pending)
            base = self.terms.get(prefix)
            if base is not None and not base.startswith("@"):
                return base + suffix
            return value
        if value in local and value not in done and value not in pending:
            self._define(value, local, done, pending)
        if value in self.terms:
            return self.terms[value]
        return (self.vocab or "") + value


@dataclass(eq=False)
class Context:
    """An active context: ``expand(term) -> IRI`` and ``compact(IRI) -> term``.

    ``urls`` are the caller's context URLs (what a response's Link header names); ``local`` is
    what the caller gave (for ``@context`` in ``application/ld+json`` responses)."""

    terms: Mapping[str, str]
    vocab: str | None = DEFAULT_VOCAB
    urls: tuple[str, ...] = ()
    local: Any = None
    _reverse: dict[str, str] = field(default_factory=dict, repr=False)
    _prefixes: list[tuple[str, str]] = field(default_factory=list, repr=False)
    _expanded: dict[str, str] = field(default_factory=dict, repr=False)
    _compacted: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for term, iri in self.terms.items():
            if iri.startswith("@") or ":" in term:
                continue
            best = self._reverse.get(iri)
            if best is None or (len(term), term) < (len(best), best):
                self._reverse[iri] = term
            if iri.endswith(("/", "#")):
                self._prefixes.append((iri, term))
        self._prefixes.sort(key=lambda p: -len(p[0]))

    def expand(self, term: str) -> str:
        """The IRI of an attribute or type name (an IRI or an unknown-prefix ``a:b`` stays as is)."""
        hit = self._expanded.get(term)
        if hit is not None:
            return hit
        iri = self.terms.get(term)
        if iri is None or iri.startswith("@"):
            if ":" in term:
                prefix, _, suffix = term.partition(":")
                base = self.terms.get(prefix)
                iri = base + suffix if base is not None and not suffix.startswith("//") else term
            elif iri is None:
                iri = (self.vocab or "") + term if self.vocab else term
            else:
                iri = term
        if len(self._expanded) < 20_000:
            self._expanded[term] = iri
        return iri

    def compact(self, iri: str) -> str:
        """The shortest term that expands back to ``iri`` (the IRI itself when none does)."""
        hit = self._compacted.get(iri)
        if hit is not None:
            return hit
        term = self._reverse.get(iri)
        if term is None and self.vocab and iri.startswith(self.vocab):
            rest = iri[len(self.vocab) :]
            if rest and not any(c in rest for c in ":/#") and rest not in self.terms:
                term = rest
        if term is None:
            for base, prefix in self._prefixes:
                suffix = iri[len(base) :]
                if iri.startswith(base) and suffix and not any(c in suffix for c in "/#"):
                    candidate = f"{prefix}:{suffix}"
                    if self.expand(candidate) == iri:
                        term = candidate
                        break
        term = term or iri
        if len(self._compacted) < 20_000:
            self._compacted[iri] = term
        return term

    def expand_all(self, terms: Iterable[str]) -> list[str]:
        return [self.expand(t) for t in terms]

    @property
    def link(self) -> str:
        """The URL a response's Link header names: the caller's first context, else the core."""
        return self.urls[0] if self.urls else CORE_CONTEXT_URL

    @property
    def response_context(self) -> Any:
        """The ``@context`` member of an ``application/ld+json`` response."""
        if self.local is not None:
            return self.local
        if not self.urls:
            return CORE_CONTEXT_URL
        return list(self.urls) if len(self.urls) > 1 else self.urls[0]


def build(local: Any, *, loader: ContextLoader | None = None, hosted: Hosted | None = None) -> tuple[Context, bool]:
    """The active context of ``local`` with the core context applied last, and whether a
    remote (fetched or hosted) document took part."""
    builder = _Builder(loader or LOADER, hosted)
    if local is not None:
        builder.process(local)
    vocab = builder.vocab
    builder.process(CORE_CONTEXT_URL)
    builder.vocab = vocab  # the core context's @vocab is the default, not an override
    urls: tuple[str, ...] = ()
    inline: Any = None
    core_file = SHIPPED[CORE_CONTEXT_URL]
    if isinstance(local, str):
        urls = (local,)
    elif isinstance(local, list) and all(isinstance(x, str) for x in local):
        urls = tuple(x for x in local if SHIPPED.get(x) != core_file)
    elif local is not None:
        inline = local
    return Context(terms=dict(builder.terms), vocab=builder.vocab, urls=urls, local=inline), builder.remote


class _Resolved:
    """Recently built contexts by their JSON text (a Link header or an inline @context)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[float, Context]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Context | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            if hit[0] < time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: str, expires: float, ctx: Context) -> None:
        with self._lock:
            self._items[key] = (expires, ctx)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_RESOLVED = _Resolved()


def resolve(local: Any, *, loader: ContextLoader | None = None, hosted: Hosted | None = None) -> Context:
    """The active context for the caller's ``@context`` (None: the core context only)."""
    if local is None:
        return core_context()
    loader = loader or LOADER
    key = json.dumps(local, sort_keys=True, separators=(",", ":"))
    if len(key) <= 64 * 1024:
        hit = _RESOLVED.get(key) if loader is LOADER else None
        if hit is not None:
            return hit
    ctx, remote = build(local, loader=loader, hosted=hosted)
    if loader is LOADER and len(key) <= 64 * 1024:
        _RESOLVED.put(key, time.monotonic() + (loader.ttl if remote else 10 * 365 * 86400.0), ctx)
    return ctx


def cached_context(local: Any) -> Context | None:
    """A context resolved recently for the same ``local`` (no I/O), or None."""
    if local is None:
        return core_context()
    key = json.dumps(local, sort_keys=True, separators=(",", ":"))
    return _RESOLVED.get(key) if len(key) <= 64 * 1024 else None


def forget_resolved() -> None:
    _RESOLVED.clear()


@lru_cache(maxsize=1)
def core_context() -> Context:
    """The NGSI-LD core context alone (what a request without a Link header uses)."""
    ctx, _ = build(None)
    return ctx


@lru_cache(maxsize=1)
def default_context() -> Context:
    """The Smart Data Models contexts of the hub's five types, then the core context: what the
    store API (ingest, devices, demo) expands short names with."""
    ctx, _ = build(SDM_CONTEXT_URL)
    return ctx
