"""The segment index the matcher works on: projected polylines, a grid for candidate search, and
bounded, cached shortest paths on the directed segment graph.

Everything is in a local equirectangular projection (metres) around the network's centre: at
city scale (< 50 km) its distance error is far below GPS noise, and it keeps the kernel pure
NumPy (no pyproj in the hot path).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from cityos.core.errors import Invalid

EARTH_RADIUS_M = 6_371_008.8
# up to this many segments all bounded rows are computed at once (4,000² float32 = 64 MB);
# beyond, rows are computed per source segment on demand and cached
DENSE_SEGMENTS = 4000
# points per block of the candidate search (see ``candidates``)
CANDIDATE_BLOCK = 8192
REQUIRED_COLUMNS = ("segment_id", "from_node", "to_node", "lons", "lats")


@dataclass(frozen=True)
class Projection:
    """Local equirectangular projection: x east, y north, metres from (lon0, lat0)."""

    lon0: float
    lat0: float

    @property
    def kx(self) -> float:
        return float(np.radians(1.0) * EARTH_RADIUS_M * np.cos(np.radians(self.lat0)))

    @property
    def ky(self) -> float:
        return float(np.radians(1.0) * EARTH_RADIUS_M)

    def forward(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky

    def inverse(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x / self.kx + self.lon0, y / self.ky + self.lat0


@dataclass
class CandidateTable:
    """``k`` candidate slots per point, nearest first; an empty slot has segment -1 and distance inf."""

    seg: np.ndarray  # [n, k] int32 segment index
    offset: np.ndarray  # [n, k] metres along the segment
    dist: np.ndarray  # [n, k] metres from the point
    ux: np.ndarray  # [n, k] float32 unit direction of the nearest piece
    uy: np.ndarray

    def rows(self, which: np.ndarray) -> CandidateTable:
        return CandidateTable(self.seg[which], self.offset[which], self.dist[which], self.ux[which], self.uy[which])


@dataclass
class SegmentIndex:
    """Immutable arrays over the segment table plus a lazily filled node-distance cache."""

    projection: Projection
    segment_ids: np.ndarray  # object array of str, position = segment index
    seg_from: np.ndarray  # int32 node index
    seg_to: np.ndarray
    seg_len: np.ndarray  # polyline length in projected metres (offsets are measured on it)
    seg_len32: np.ndarray  # the same in float32, for the transition kernel
    # pieces = straight sub-lines between consecutive vertices
    piece_seg: np.ndarray
    piece_ax: np.ndarray
    piece_ay: np.ndarray
    piece_dx: np.ndarray
    piece_dy: np.ndarray
    piece_len: np.ndarray
    piece_inv_len2: np.ndarray  # 1 / length² (0 for a zero-length piece: its foot is its start)
    piece_start: np.ndarray  # offset of the piece's first vertex along its segment
    piece_bearing: np.ndarray  # compass degrees (0 = north, clockwise)
    piece_ux: np.ndarray  # unit direction (east, north): the direction penalty is a dot product
    piece_uy: np.ndarray
    cell_m: float
    radius_m: float
    piece_count: np.ndarray  # pieces per segment
    cell_keys: np.ndarray  # sorted unique cell keys
    cell_start: np.ndarray  # CSR into cell_pieces, len = len(cell_keys) + 1
    cell_pieces: np.ndarray
    n_nodes: int
    max_route_m: float
    uturn_penalty_m: float
    _graph: object = None
    _rows: dict[int, np.ndarray] = field(default_factory=dict)
    _dense: np.ndarray | None = None

    # ------------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        segments: pl.DataFrame,
        *,
        radius_m: float = 50.0,
        max_route_m: float = 3000.0,
        uturn_penalty_m: float = 30.0,
    ) -> SegmentIndex:
        missing = [c for c in REQUIRED_COLUMNS if c not in segments.columns]
        if missing:
            raise Invalid(f"segment table lacks columns: {', '.join(missing)}")
        if segments.height == 0:
            raise Invalid("segment table is empty")
        segs = segments.select(REQUIRED_COLUMNS).with_row_index("seg")
        nverts = segs.select(pl.col("lons").list.len()).to_series().to_numpy()
        same_len = segs.select(pl.col("lons").list.len() == pl.col("lats").list.len()).to_series().all()
        if (nverts < 2).any() or not same_len:
            raise Invalid("every segment needs a polyline of at least two points with as many lons as lats")
        verts = segs.select("seg", "lons", "lats").explode(["lons", "lats"])
        lon = verts["lons"].to_numpy().astype(np.float64)
        lat = verts["lats"].to_numpy().astype(np.float64)
        seg_of_vert = verts["seg"].to_numpy().astype(np.int64)
        if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
            raise Invalid("segment polylines contain non-finite coordinates")
        proj = Projection(float((lon.min() + lon.max()) / 2), float((lat.min() + lat.max()) / 2))
        x, y = proj.forward(lon, lat)

        # a piece joins vertex i and i+1 of the same segment
        same = seg_of_vert[:-1] == seg_of_vert[1:]
        a = np.nonzero(same)[0]
        piece_seg = seg_of_vert[a]
        ax, ay = x[a], y[a]
        dx, dy = x[a + 1] - ax, y[a + 1] - ay
        plen = np.hypot(dx, dy)
        nseg = segs.height
        seg_len = np.bincount(piece_seg, weights=plen, minlength=nseg)
        cum = np.cumsum(plen)
        first_piece = np.searchsorted(piece_seg, np.arange(nseg))
        seg_cum0 = np.where(first_piece > 0, cum[np.maximum(first_piece - 1, 0)], 0.0)
        piece_start = cum - plen - seg_cum0[piece_seg]
        bearing = np.degrees(np.arctan2(dx, dy)) % 360.0

        # grid: each piece goes into every cell its radius-grown bbox touches, so a point's own
        # cell lists a superset of the pieces within the radius
        # half-radius cells: a point's cell grown by the radius is 1.3x the search disc, not 2.9x
        cell = float(radius_m) / 2.0
        x0 = np.floor((np.minimum(ax, ax + dx) - radius_m) / cell).astype(np.int64)
        x1 = np.floor((np.maximum(ax, ax + dx) + radius_m) / cell).astype(np.int64)
        y0 = np.floor((np.minimum(ay, ay + dy) - radius_m) / cell).astype(np.int64)
        y1 = np.floor((np.maximum(ay, ay + dy) + radius_m) / cell).astype(np.int64)
        nx, ny = x1 - x0 + 1, y1 - y0 + 1
        count = nx * ny
        pid = np.repeat(np.arange(len(a)), count)
        k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        cx = x0[pid] + k // ny[pid]
        cy = y0[pid] + k % ny[pid]
        keys = _cell_key(cx, cy)
        order = np.argsort(keys, kind="stable")
        keys, pid = keys[order], pid[order]
        ukeys, starts = np.unique(keys, return_index=True)

        nodes = pl.concat([segs["from_node"].cast(pl.Utf8), segs["to_node"].cast(pl.Utf8)]).unique().sort()
        node_idx = {n: i for i, n in enumerate(nodes.to_list())}
        seg_from = np.array([node_idx[n] for n in segs["from_node"].cast(pl.Utf8).to_list()], dtype=np.int32)
        seg_to = np.array([node_idx[n] for n in segs["to_node"].cast(pl.Utf8).to_list()], dtype=np.int32)
        index = cls(
            projection=proj,
            segment_ids=np.array(segs["segment_id"].cast(pl.Utf8).to_list(), dtype=object),
            seg_from=seg_from,
            seg_to=seg_to,
            seg_len=seg_len,
            seg_len32=seg_len.astype(np.float32),
            piece_seg=piece_seg,
            piece_ax=ax,
            piece_ay=ay,
            piece_dx=dx,
            piece_dy=dy,
            piece_len=plen,
            piece_inv_len2=np.divide(1.0, plen * plen, out=np.zeros_like(plen), where=plen > 0),
            piece_start=piece_start,
            piece_bearing=bearing,
            piece_ux=np.divide(dx, plen, out=np.zeros_like(dx), where=plen > 0),
            piece_uy=np.divide(dy, plen, out=np.zeros_like(dy), where=plen > 0),
            cell_m=cell,
            radius_m=float(radius_m),
            piece_count=np.bincount(piece_seg, minlength=nseg),
            cell_keys=ukeys,
            cell_start=np.append(starts, len(keys)),
            cell_pieces=pid,
            n_nodes=len(node_idx),
            max_route_m=float(max_route_m),
            uturn_penalty_m=float(uturn_penalty_m),
        )
        index._graph = index._segment_graph()
        return index

    def _segment_graph(self) -> object:
        """The directed segment graph (its line graph): an arc a -> b where b leaves the node a
        enters, weighted len(b), plus ``uturn_penalty_m`` when b is a's opposite direction.

        Searching segments rather than junctions is what lets a U-turn cost something: with
        free U-turns a noisy point near a junction is cheaply explained by the wrong carriageway.
        """
        from scipy.sparse import csr_matrix

        n = len(self.seg_len)
        out = pl.DataFrame({"a": np.arange(n), "node": self.seg_to, "a_from": self.seg_from})
        inc = pl.DataFrame({"b": np.arange(n), "node": self.seg_from, "b_to": self.seg_to})
        arcs = out.join(inc, on="node")
        a, b = arcs["a"].to_numpy(), arcs["b"].to_numpy()
        uturn = arcs["a_from"].to_numpy() == arcs["b_to"].to_numpy()
        w = np.maximum(self.seg_len[b] + np.where(uturn, self.uturn_penalty_m, 0.0), 1e-6)
        return csr_matrix((w, (a, b)), shape=(n, n))

    # ------------------------------------------------------------------ queries
    def candidates(
        self, x: np.ndarray, y: np.ndarray, radius_m: float, k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Up to ``k`` nearest segments per point within ``radius_m``.

        Returns flat arrays (point, segment, offset_m, distance_m, ux, uy) sorted by point then
        distance, (ux, uy) being the unit direction of the nearest piece; a segment appears once
        per point (its nearest piece).
        """
        radius_m = min(radius_m, self.radius_m)  # the grid only guarantees the build radius
        parts = []
        for lo in range(0, max(len(x), 1), CANDIDATE_BLOCK):  # one empty block for no points
            pt, seg, offset, dist, ux, uy, _slot = self._candidates(
                x[lo : lo + CANDIDATE_BLOCK], y[lo : lo + CANDIDATE_BLOCK], radius_m, k
            )
            parts.append((pt + lo, seg, offset, dist, ux, uy))
        if len(parts) == 1:
            return parts[0]
        return tuple(np.concatenate(col) for col in zip(*parts, strict=True))  # type: ignore[return-value]

    def candidate_table(self, x: np.ndarray, y: np.ndarray, radius_m: float, k: int) -> CandidateTable:
        """The same candidates as a table of ``k`` slots per point, nearest first (the matcher's
        layout), filled block by block.

        Blocks, because the per-pair temporaries of a block are a few MB that the allocator hands
        to the next block again, where those of a whole batch (tens of MB each) would be fresh
        pages, faulted in one by one on every call: on the bench that was half the time of a
        first call.
        """
        radius_m = min(radius_m, self.radius_m)
        n = len(x)
        table = CandidateTable(
            seg=np.full((n, k), -1, dtype=np.int32),
            offset=np.zeros((n, k)),
            dist=np.full((n, k), np.inf),
            ux=np.zeros((n, k), dtype=np.float32),
            uy=np.zeros((n, k), dtype=np.float32),
        )
        flat_seg, flat_off, flat_dist = table.seg.reshape(-1), table.offset.reshape(-1), table.dist.reshape(-1)
        flat_ux, flat_uy = table.ux.reshape(-1), table.uy.reshape(-1)
        for lo in range(0, n, CANDIDATE_BLOCK):
            pt, seg, offset, dist, ux, uy, slot = self._candidates(
                x[lo : lo + CANDIDATE_BLOCK], y[lo : lo + CANDIDATE_BLOCK], radius_m, k
            )
            at = (pt + lo) * k + slot
            flat_seg[at], flat_off[at], flat_dist[at] = seg, offset, dist
            flat_ux[at], flat_uy[at] = ux, uy
        return table

    def _candidates(
        self, x: np.ndarray, y: np.ndarray, radius_m: float, k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The pairs of one block: ``candidates``' arrays plus each pair's slot (rank) at its point."""
        keys = _cell_key(np.floor(x / self.cell_m).astype(np.int64), np.floor(y / self.cell_m).astype(np.int64))
        pos = np.searchsorted(self.cell_keys, keys)
        pos_c = np.minimum(pos, len(self.cell_keys) - 1)
        hit = self.cell_keys[pos_c] == keys
        lo = np.where(hit, self.cell_start[pos_c], 0)
        n = np.where(hit, self.cell_start[pos_c + 1] - self.cell_start[pos_c], 0)
        pt = np.repeat(np.arange(len(x)), n)
        j = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        pc = self.cell_pieces[np.repeat(lo, n) + j]
        # perpendicular projection onto each piece (in place: few fresh temporaries per pair)
        px = x[pt]
        px -= self.piece_ax[pc]
        py = y[pt]
        py -= self.piece_ay[pc]
        dx, dy = self.piece_dx[pc], self.piece_dy[pc]
        t = px * dx
        t += py * dy
        t *= self.piece_inv_len2[pc]
        np.clip(t, 0.0, 1.0, out=t)
        dx *= t
        px -= dx
        dy *= t
        py -= dy
        px *= px
        py *= py
        px += py
        keep = px <= radius_m * radius_m  # squared: the root only for the pairs kept
        pt, pc, t = pt[keep], pc[keep], t[keep]
        dist = np.sqrt(px[keep])
        seg = self.piece_seg[pc]
        # pairs arrive grouped by point: one argsort on (point, distance) puts each point's
        # nearest first (distance < radius <= 1e4 m, so the float key keeps points apart)
        order = np.argsort(pt * 1e4 + dist, kind="stable")
        pt, pc, t, dist, seg = pt[order], pc[order], t[order], dist[order], seg[order]
        multi = self.piece_count[seg] > 1
        if multi.any():
            # a bent segment can be near through several pieces: keep its nearest one only
            rows = np.flatnonzero(multi)
            _, first = np.unique(pt[rows].astype(np.int64) * len(self.seg_len) + seg[rows], return_index=True)
            drop = np.ones(len(rows), dtype=bool)
            drop[first] = False
            keep = np.ones(len(pt), dtype=bool)
            keep[rows[drop]] = False
            pt, pc, t, dist, seg = pt[keep], pc[keep], t[keep], dist[keep], seg[keep]
        change = np.ones(len(pt), dtype=bool)
        change[1:] = pt[1:] != pt[:-1]
        starts = np.flatnonzero(change)
        rank = np.arange(len(pt)) - np.repeat(starts, np.diff(np.append(starts, len(pt))))
        keep = rank < k
        pt, pc, t, dist, seg, rank = pt[keep], pc[keep], t[keep], dist[keep], seg[keep], rank[keep]
        offset = self.piece_start[pc] + t * self.piece_len[pc]
        return pt, seg, offset, dist, self.piece_ux[pc], self.piece_uy[pc], rank

    def segment_via(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Metres (float32) from the end of segment ``src`` to the start of segment ``dst`` over
        the segment graph (U-turn penalties included), broadcast together; inf beyond
        ``max_route_m`` or when unreachable.

        Rows come from a Dijkstra bounded by ``max_route_m``; for up to DENSE_SEGMENTS segments
        all rows are computed once, beyond that per source segment on demand, cached either way,
        so a city network is searched once per segment, not once per point pair.
        """
        from scipy.sparse.csgraph import dijkstra

        if len(self.seg_len) <= DENSE_SEGMENTS:
            if self._dense is None:
                # row a holds len(path from a's end to b's end); the start of b is len(b) earlier
                full = dijkstra(self._graph, directed=True, limit=self.max_route_m + self.seg_len.max())
                self._dense = (full - self.seg_len[None, :]).astype(np.float32)
            # one flat gather (int32 positions: at most DENSE_SEGMENTS² < 2³¹)
            nseg = np.int32(len(self.seg_len))
            flat = np.asarray(src, dtype=np.int32) * nseg + np.asarray(dst, dtype=np.int32)
            return np.take(self._dense.reshape(-1), flat)
        src_b, dst_b = np.broadcast_arrays(src, dst)
        flat_src, flat_dst = src_b.ravel(), dst_b.ravel()
        if len(flat_src) == 0:
            return np.full(src_b.shape, np.inf, dtype=np.float32)
        usrc, inv = np.unique(flat_src, return_inverse=True)
        missing = [int(s) for s in usrc if int(s) not in self._rows]
        if missing:
            rows = dijkstra(self._graph, directed=True, indices=missing, limit=self.max_route_m + self.seg_len.max())
            for s, row in zip(missing, np.atleast_2d(rows), strict=True):
                self._rows[s] = (row - self.seg_len).astype(np.float32)
        table = np.stack([self._rows[int(s)] for s in usrc])
        return np.asarray(table[inv, flat_dst].reshape(src_b.shape), dtype=np.float32)


def _cell_key(cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    # cells are at most a few thousand per axis in a city; 2**31 keeps keys unique and sortable
    return np.asarray((cx + 2**30) * 2**31 + (cy + 2**30), dtype=np.int64)
