"""The road network as a graph for commute paths: shortest travel-time paths (scipy's
``csgraph.dijkstra``), the nearest node to a point, and a path's line, length and time.

Edge cost is the free-flow travel time ``length_m / free_speed`` of each directed segment; of two
segments joining the same nodes in the same direction the faster one is kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from cityos.mobility.network.schema import M_PER_DEG_LAT

_NO_PRED = -9999  # scipy's marker for "no predecessor"


class RoadGraph:
    """Directed graph of a segment table (``network.schema.SEGMENT_SCHEMA``)."""

    def __init__(self, segments: pl.DataFrame) -> None:
        self.segment_ids: list[str] = segments["segment_id"].to_list()
        self.lengths = segments["length_m"].to_numpy().astype(float)
        speeds = np.maximum(segments["free_speed_kmh"].to_numpy().astype(float), 1.0)
        self.times = self.lengths / (speeds / 3.6)
        self.lons: list[list[float]] = segments["lons"].to_list()
        self.lats: list[list[float]] = segments["lats"].to_list()
        self.by_id = {s: i for i, s in enumerate(self.segment_ids)}
        nodes: dict[str, int] = {}
        coords: list[tuple[float, float]] = []
        ends: list[tuple[int, int]] = []
        for i, (fn, tn) in enumerate(zip(segments["from_node"].to_list(), segments["to_node"].to_list(), strict=True)):
            for node, at in ((fn, 0), (tn, -1)):
                if node not in nodes:
                    nodes[node] = len(nodes)
                    coords.append((self.lons[i][at], self.lats[i][at]))
            ends.append((nodes[fn], nodes[tn]))
        self.node_index = nodes  # node id -> index
        self.node_count = len(nodes)
        self.node_lon = np.array([c[0] for c in coords], dtype=float)
        self.node_lat = np.array([c[1] for c in coords], dtype=float)
        best: dict[tuple[int, int], int] = {}
        for i, key in enumerate(ends):
            if key[0] != key[1] and (key not in best or self.times[i] < self.times[best[key]]):
                best[key] = i
        self.edge_segment = best
        rows = np.array([k[0] for k in best], dtype=np.int64)
        cols = np.array([k[1] for k in best], dtype=np.int64)
        cost = np.maximum(np.array([self.times[i] for i in best.values()], dtype=float), 1e-3)
        self.matrix = csr_matrix((cost, (rows, cols)), shape=(self.node_count, self.node_count))
        # The network's mean free-flow speed: total length over total time (a harmonic mean).
        total = float(self.lengths.sum())
        self.mean_speed_kmh = total / float(self.times.sum()) * 3.6 if total else 40.0

    @property
    def empty(self) -> bool:
        return self.node_count == 0

    def nearest(self, lon: float, lat: float) -> tuple[int, float]:
        """The nearest node and its distance in metres (equirectangular: fine within a city)."""
        dx = (self.node_lon - lon) * M_PER_DEG_LAT * math.cos(math.radians(lat))
        dy = (self.node_lat - lat) * M_PER_DEG_LAT
        d2 = dx * dx + dy * dy
        i = int(np.argmin(d2))
        return i, float(math.sqrt(d2[i]))

    def shortest(self, pairs: Sequence[tuple[int, int]]) -> list[list[int] | None]:
        """Segment indexes of the fastest path of each (from node, to node); None when unreachable."""
        out: list[list[int] | None] = [None] * len(pairs)
        if not pairs:
            return out
        sources = sorted({u for u, _ in pairs})
        row_of = {u: k for k, u in enumerate(sources)}
        _, pred = dijkstra(self.matrix, directed=True, indices=sources, return_predecessors=True)
        pred = np.atleast_2d(pred)
        for k, (u, v) in enumerate(pairs):
            out[k] = self._walk(pred[row_of[u]], u, v)
        return out

    def _walk(self, pred: npt.NDArray[np.int32], u: int, v: int) -> list[int] | None:
        if u == v:
            return []
        nodes = [v]
        while nodes[-1] != u:
            p = int(pred[nodes[-1]])
            if p == _NO_PRED or len(nodes) > self.node_count:
                return None
            nodes.append(p)
        nodes.reverse()
        return [self.edge_segment[(a, b)] for a, b in zip(nodes, nodes[1:], strict=False)]

    def indexes(self, segment_ids: Sequence[str]) -> list[int]:
        """Indexes of the known ids (ids of another network are left out)."""
        return [self.by_id[s] for s in segment_ids if s in self.by_id]

    def line(self, path: Sequence[int]) -> list[list[float]]:
        """The path's polyline, [lon, lat] pairs, shared end points once."""
        coords: list[list[float]] = []
        for i in path:
            pts = [[x, y] for x, y in zip(self.lons[i], self.lats[i], strict=True)]
            if coords and coords[-1] == pts[0]:
                pts = pts[1:]
            coords.extend(pts)
        return coords

    def length_m(self, path: Sequence[int]) -> float:
        return float(sum(self.lengths[i] for i in path))

    def time_s(self, path: Sequence[int]) -> float:
        return float(sum(self.times[i] for i in path))
