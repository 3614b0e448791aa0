"""SUMO scenario builder: a grid-plus-arterial city at the demo coordinates, two peaks of demand,
E1 loops on arterials, FCD probes with GPS noise and per-edge ground truth, all as Parquet.

Steps (each reported to ``progress``):
1. ``netgenerate --grid`` makes the grid; its plain dump (``netconvert --plain-output-prefix``)
   is edited so every fourth line and the border are arterials (3 lanes, 60 km/h), the other
   even lines secondary (2, 40 km/h), the rest branch streets (1, 30 km/h), and ``netconvert``
   rebuilds it (connections recomputed for the new lane counts).
2. The ``<location>`` element gets a UTM projection and a netOffset that puts the grid's centre
   at the anchor lon/lat (netgenerate writes none; ``--fcd-output.geo`` and our importer need it).
3. Trips: origins and destinations drawn over edges, departures following the same two-peak
   demand curve as the built-in generator; ``sumo`` routes trips itself (fastest path).
4. ``sumo`` runs with FCD output every ``probe_interval_s``, E1 loops on every arterial lane
   (period ``loop_interval_s``) and edgeData (period ``edge_interval_s``).
5. The XML outputs are read back into the tables of ``tables.py``.

SUMO is optional (the ``scenario`` extra): nothing here imports it at module load.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

from cityos.core.errors import Invalid
from cityos.mobility.network.proj import NetProjection, net_projection, utm_forward, utm_proj_string, utm_zone
from cityos.mobility.network.schema import DEMO_CENTRE
from cityos.mobility.network.sumo_net import read_sumo_net

from .generator import GeneratorConfig, peak_factor
from .tables import ScenarioTables

Progress = Callable[[str, float], None]  # (step description, fraction done 0..1)

# line kind -> (lanes, speed m/s, type, priority)
_LINE_KINDS: dict[str, tuple[int, float, str, int]] = {
    "arterial": (3, 16.67, "highway.primary", 10),
    "secondary": (2, 11.11, "highway.secondary", 7),
    "branch": (1, 8.33, "highway.residential", 4),
}


@dataclass
class SumoConfig:
    rows: int = 10
    cols: int = 10
    spacing_m: float = 250.0
    centre_lon: float = DEMO_CENTRE[0]
    centre_lat: float = DEMO_CENTRE[1]
    demand: GeneratorConfig = field(default_factory=GeneratorConfig)  # start, duration, vehicles, peaks, noise
    threads: int = 1


def sumo_binaries() -> dict[str, str]:
    """Paths of netgenerate, netconvert and sumo (the PyPI wheel's, else the PATH's)."""
    found: dict[str, str] = {}
    bin_dir: Path | None = None
    try:
        import sumo  # the eclipse-sumo wheel

        bin_dir = Path(sumo.__file__).parent / "bin"
    except ImportError:
        pass
    for name in ("netgenerate", "netconvert", "sumo"):
        cand = bin_dir / name if bin_dir else None
        path = str(cand) if cand is not None and cand.exists() else shutil.which(name)
        if path is None:
            raise Invalid(f"SUMO's {name} not found: install the scenario extra (eclipse-sumo)")
        found[name] = path
    return found


def _run(cmd: list[str], cwd: Path) -> None:
    env = dict(os.environ)
    env.setdefault("SUMO_HOME", str(Path(cmd[0]).parent.parent))
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, check=False)
    if res.returncode != 0:
        raise Invalid(f"{Path(cmd[0]).name} failed: {res.stderr.strip()[-800:]}")


def _line_kind(index: int, count: int) -> str:
    if index in (0, count - 1) or index % 4 == 0:
        return "arterial"
    return "secondary" if index % 2 == 0 else "branch"


def build_network(cfg: SumoConfig, work: Path) -> tuple[Path, NetProjection]:
    bins = sumo_binaries()
    _run(
        [
            bins["netgenerate"],
            "--grid",
            "--grid.x-number", str(cfg.cols),
            "--grid.y-number", str(cfg.rows),
            "--grid.length", str(cfg.spacing_m),
            "--no-turnarounds", "true",
            "--tls.guess", "true",
            "-o", "grid.net.xml",
        ],
        work,
    )  # fmt: skip
    _run([bins["netconvert"], "-s", "grid.net.xml", "--plain-output-prefix", "plain"], work)
    nodes = {
        n.get("id", ""): (float(n.get("x", "0")), float(n.get("y", "0")))
        for n in ET.parse(work / "plain.nod.xml").getroot().iter("node")
    }
    tree = ET.parse(work / "plain.edg.xml")
    for e in tree.getroot().iter("edge"):
        (x1, y1), (x2, _y2) = nodes[e.get("from", "")], nodes[e.get("to", "")]
        if abs(x1 - x2) < 1e-6:  # north-south: on column line x / spacing
            kind = _line_kind(round(x1 / cfg.spacing_m), cfg.cols)
        else:
            kind = _line_kind(round(y1 / cfg.spacing_m), cfg.rows)
        lanes, speed, etype, prio = _LINE_KINDS[kind]
        e.set("numLanes", str(lanes))
        e.set("speed", f"{speed:.2f}")
        e.set("type", etype)
        e.set("priority", str(prio))
    tree.write(work / "plain.edg.xml")
    _run(
        [bins["netconvert"], "-n", "plain.nod.xml", "-e", "plain.edg.xml", "--no-turnarounds", "true",
         "--tls.guess", "true", "-o", "city.net.xml"],
        work,
    )  # fmt: skip
    # Anchor: the grid's centre (x, y in net coordinates) sits at the centre lon/lat.
    proj_str = utm_proj_string(cfg.centre_lon, cfg.centre_lat)
    e0, n0 = utm_forward(np.array([cfg.centre_lon]), np.array([cfg.centre_lat]), utm_zone(cfg.centre_lon))
    net_path = work / "city.net.xml"
    text = net_path.read_text(encoding="utf-8")
    start = text.index("<location ")
    end = text.index("/>", start) + 2
    loc = ET.fromstring(text[start:end])
    # netconvert may already have shifted the plain coordinates by its own netOffset.
    ox, oy = (float(v) for v in loc.get("netOffset", "0,0").split(","))
    cx, cy = (cfg.cols - 1) * cfg.spacing_m / 2 + ox, (cfg.rows - 1) * cfg.spacing_m / 2 + oy
    offset = f"{cx - float(e0[0]):.2f},{cy - float(n0[0]):.2f}"
    loc.set("netOffset", offset)
    loc.set("projParameter", proj_str)
    net_path.write_text(text[:start] + ET.tostring(loc, encoding="unicode") + text[end:], encoding="utf-8")
    return net_path, net_projection(offset, proj_str)


def write_trips(edges: list[str], cfg: GeneratorConfig, path: Path) -> int:
    rng = np.random.default_rng(cfg.seed)
    grid = np.arange(0, cfg.duration_s, 60, dtype=np.float64)
    weight = cfg.base_demand + peak_factor(grid, cfg)
    cdf = np.cumsum(weight) / weight.sum()
    departs = np.sort(np.interp(rng.random(cfg.vehicles), cdf, grid) + rng.random(cfg.vehicles) * 60)
    lines = ["<routes>"]
    for i, dep in enumerate(departs):
        a, b = rng.choice(len(edges), 2, replace=False)
        lines.append(f'  <trip id="veh{i}" depart="{dep:.1f}" from="{edges[a]}" to="{edges[b]}" departLane="best"/>')
    lines.append("</routes>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return len(departs)


def _additional(
    segments: pl.DataFrame, net_path: Path, cfg: GeneratorConfig, path: Path
) -> list[tuple[str, str, float]]:
    """E1 loops mid-way along every lane of the loop classes' edges; edgeData for ground truth."""
    wanted = set(segments.filter(pl.col("road_class").is_in(cfg.loop_classes))["segment_id"])
    out = ["<additional>", f'  <edgeData id="truth" file="edges.xml" period="{cfg.edge_interval_s}"/>']
    loops: list[tuple[str, str, float]] = []
    for _ev, el in ET.iterparse(str(net_path)):
        if el.tag == "edge" and el.get("id") in wanted:
            for ln in el.findall("lane"):
                pos = float(ln.get("length", "0")) / 2
                lid = ln.get("id", "")
                out.append(
                    f'  <inductionLoop id="e1_{lid}" lane="{lid}" pos="{pos:.2f}"'
                    f' period="{cfg.loop_interval_s}" file="e1.xml"/>'
                )
                loops.append((f"e1_{lid}", el.get("id", ""), pos))
            el.clear()
    out.append("</additional>")
    path.write_text("\n".join(out), encoding="utf-8")
    return loops


def build_scenario(cfg: SumoConfig, out_dir: Path, progress: Progress | None = None) -> ScenarioTables:
    say: Progress = progress or (lambda _msg, _f: None)
    d = cfg.demand
    work = out_dir / "sumo"
    work.mkdir(parents=True, exist_ok=True)
    say("network (netgenerate + netconvert)", 0.0)
    net_path, proj = build_network(cfg, work)
    segments, _rejected = read_sumo_net(net_path)
    say("demand (two peaks)", 0.15)
    write_trips(segments["segment_id"].to_list(), d, work / "trips.xml")
    loops = _additional(segments, net_path, d, work / "detectors.add.xml")
    say("simulation (sumo)", 0.2)
    bins = sumo_binaries()
    _run(
        [
            bins["sumo"], "-n", "city.net.xml", "-r", "trips.xml", "-a", "detectors.add.xml",
            "--begin", "0", "--end", str(d.duration_s),
            "--fcd-output", "fcd.xml", "--device.fcd.period", str(d.probe_interval_s),
            "--device.fcd.probability", str(d.probe_share),
            "--ignore-route-errors", "true", "--no-step-log", "true", "--no-warnings", "true",
            "--threads", str(cfg.threads), "--seed", str(d.seed), "--time-to-teleport", "300",
        ],
        work,
    )  # fmt: skip
    say("reading outputs", 0.8)
    tables = ScenarioTables(
        segments=segments,
        probes=read_fcd(work / "fcd.xml", proj, d, np.random.default_rng(d.seed + 1)),
        loops=_loop_table(loops, segments),
        loop_counts=read_e1(work / "e1.xml", d),
        edge_truth=read_edge_data(work / "edges.xml", d),
    ).conformed()
    say("writing Parquet", 0.95)
    tables.write(out_dir)
    say("done", 1.0)
    return tables


def _edge_of(lane: str) -> str:
    return lane.rsplit("_", 1)[0]


def _loop_table(loops: list[tuple[str, str, float]], segments: pl.DataFrame) -> pl.DataFrame:
    # One detector per edge (its lanes summed), placed on the segment's drawn polyline.
    from cityos.mobility.network.index import SegmentIndex

    ix = SegmentIndex(segments)
    per_edge = {seg: pos for _lid, seg, pos in loops}
    lengths = dict(zip(segments["segment_id"], segments["length_m"], strict=True))
    rows = []
    for seg, pos in sorted(per_edge.items()):
        lon, lat = ix.point_on(seg, min(1.0, pos / lengths[seg]))
        rows.append({"detector_id": f"e1_{seg}", "segment_id": seg, "lon": lon, "lat": lat, "offset_m": pos})
    return pl.DataFrame(rows)


def read_fcd(path: Path, proj: NetProjection, cfg: GeneratorConfig, rng: np.random.Generator) -> pl.DataFrame:
    """FCD x/y + Gaussian noise (metres) -> lon/lat. A vehicle inside a junction (internal lane)
    keeps the last real edge it drove as its true segment; before any, the sample is skipped."""
    vid, t, xs, ys, sp, ang, seg = [], [], [], [], [], [], []
    last: dict[str, str] = {}
    for _ev, el in ET.iterparse(str(path)):
        if el.tag != "timestep":
            continue
        time_s = float(el.get("time", "0"))
        for v in el.iter("vehicle"):
            lane = v.get("lane", "")
            vehicle = v.get("id", "")
            if lane and not lane.startswith(":"):
                last[vehicle] = _edge_of(lane)
            if vehicle not in last:
                continue
            vid.append(vehicle)
            t.append(time_s)
            xs.append(float(v.get("x", "0")))
            ys.append(float(v.get("y", "0")))
            sp.append(float(v.get("speed", "0")) * 3.6)
            ang.append(float(v.get("angle", "0")))
            seg.append(last[vehicle])
        el.clear()
    x = np.asarray(xs) + rng.normal(0, cfg.gps_noise_m, len(xs))
    y = np.asarray(ys) + rng.normal(0, cfg.gps_noise_m, len(ys))
    lon, lat = proj.lonlat(x, y) if len(xs) else (np.array([]), np.array([]))
    start = cfg.start
    return pl.DataFrame(
        {
            "vehicle_id": vid,
            "ts": [start + timedelta(seconds=s) for s in t],
            "lon": lon,
            "lat": lat,
            "speed_kmh": sp,
            "heading_deg": ang,  # SUMO: degrees clockwise from north, as ours
            "true_segment_id": seg,
        },
        schema={"vehicle_id": pl.String, "ts": pl.Datetime("us", "UTC"), "lon": pl.Float64, "lat": pl.Float64,
                "speed_kmh": pl.Float64, "heading_deg": pl.Float64, "true_segment_id": pl.String},
    ).sort("vehicle_id", "ts")  # fmt: skip


def read_e1(path: Path, cfg: GeneratorConfig) -> pl.DataFrame:
    """E1 intervals per lane, summed per edge: count = Σ nVehContrib, speed = count-weighted mean
    of the lanes' speeds (SUMO writes -1 when nobody passed), occupancy = mean over lanes."""
    rows = []
    for _ev, el in ET.iterparse(str(path)):
        if el.tag == "interval":
            rows.append(
                (
                    _edge_of(el.get("id", "").removeprefix("e1_")),
                    float(el.get("begin", "0")),
                    int(float(el.get("nVehContrib", "0"))),
                    float(el.get("speed", "-1")),
                    float(el.get("occupancy", "0")),
                )
            )
    df = pl.DataFrame(rows, schema=["seg", "begin", "n", "v", "occ"], orient="row")
    return (
        df.group_by("seg", "begin", maintain_order=True)
        .agg(
            pl.col("n").sum().alias("count"),
            ((pl.col("v") * pl.col("n")).filter(pl.col("v") >= 0).sum() / pl.col("n").sum()).alias("v"),
            pl.col("occ").mean().alias("occupancy_pct"),
        )
        .select(
            ("e1_" + pl.col("seg")).alias("detector_id"),
            (pl.lit(cfg.start) + pl.duration(seconds=pl.col("begin"))).alias("ts"),
            pl.lit(cfg.loop_interval_s).alias("interval_s"),
            pl.col("count"),
            pl.when(pl.col("count") > 0).then(pl.col("v") * 3.6).alias("speed_kmh"),
            pl.col("occupancy_pct"),
        )
        .sort("detector_id", "ts")
    )


def read_edge_data(path: Path, cfg: GeneratorConfig) -> pl.DataFrame:
    rows = []
    for _ev, el in ET.iterparse(str(path)):
        if el.tag != "interval":
            continue
        begin = float(el.get("begin", "0"))
        for e in el.iter("edge"):
            if e.get("id", "").startswith(":"):
                continue
            speed = e.get("speed")
            rows.append(
                (
                    e.get("id", ""),
                    begin,
                    int(float(e.get("entered", "0"))),
                    float(speed) * 3.6 if speed is not None else None,
                    float(e.get("traveltime")) if e.get("traveltime") is not None else None,  # type: ignore[arg-type]
                )
            )
        el.clear()
    df = pl.DataFrame(
        rows,
        schema={"segment_id": pl.String, "begin": pl.Float64, "entered": pl.Int32, "speed_kmh": pl.Float64,
                "travel_time_s": pl.Float64},
        orient="row",
    )  # fmt: skip
    return df.select(
        "segment_id",
        (pl.lit(cfg.start) + pl.duration(seconds=pl.col("begin"))).alias("ts"),
        pl.lit(cfg.edge_interval_s).alias("interval_s"),
        "entered",
        "speed_kmh",
        "travel_time_s",
    ).sort("segment_id", "ts")
