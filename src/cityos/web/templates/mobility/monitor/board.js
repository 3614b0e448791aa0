// The TOCC board: the segment map coloured by state (from /api/v1/mobility/states) and the
// vital signs' 24-hour lines. MapLibre with a blank style (no tile server: city intranets are
// often offline). When htmx swaps in fresh tiles, the charts are redrawn and, if the latest bin
// moved, the map's states are fetched again. Sets data-segments and data-bin on #tocc-map.
(function () {
  "use strict";
  var el = document.getElementById("tocc-map");
  var map = null;

  function charts() {
    if (!window.echarts) return;
    document.querySelectorAll("#tocc-vitals .tocc-chart").forEach(function (c) {
      var data = JSON.parse(c.dataset.series || "[]");
      var chart = echarts.getInstanceByDom(c) || echarts.init(c);
      chart.setOption({
        animation: false, grid: { left: 4, right: 4, top: 6, bottom: 4 },
        xAxis: { type: "category", show: false, data: data.map(function (d) { return d[0]; }) },
        yAxis: { type: "value", show: false, scale: true },
        tooltip: { trigger: "axis" },
        series: [{ type: "line", data: data.map(function (d) { return d[1]; }), showSymbol: data.length < 3,
                   connectNulls: false, lineStyle: { width: 1.5 }, areaStyle: { opacity: 0.08 } }]
      });
    });
  }

  function colour() {
    var colours = JSON.parse(el.dataset.colours);
    var expr = ["match", ["coalesce", ["get", "state"], 0]];
    colours.forEach(function (c, i) { expr.push(i + 1, c); });
    expr.push(el.dataset.noData);
    return expr;
  }

  function load() {
    return fetch(el.dataset.states, { credentials: "same-origin", headers: { "Accept": "application/geo+json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); });
  }

  function fit(fc) {
    var b = [180, 90, -180, -90];
    fc.features.forEach(function (f) {
      f.geometry.coordinates.forEach(function (p) {
        b[0] = Math.min(b[0], p[0]); b[1] = Math.min(b[1], p[1]); b[2] = Math.max(b[2], p[0]); b[3] = Math.max(b[3], p[1]);
      });
    });
    if (b[0] <= b[2]) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 24, duration: 0 });
  }

  function draw(fc) {
    el.dataset.segments = String(fc.features.length);
    el.dataset.bin = fc.bin_start || "";
    var source = map.getSource("states");
    if (source) { source.setData(fc); return; }
    map.addSource("states", { type: "geojson", data: fc });
    map.addLayer({ id: "states", type: "line", source: "states", layout: { "line-cap": "round" },
                   paint: { "line-color": colour(), "line-width": ["match", ["get", "class"], "expressway", 5, "arterial", 4, 3],
                            "line-offset": 2 } });
    fit(fc);
    var popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false });
    map.on("mousemove", "states", function (e) {
      map.getCanvas().style.cursor = "pointer";
      var p = e.features[0].properties;
      popup.setLngLat(e.lngLat).setText(p.name + " · " + (p.speed === null || p.speed === undefined || p.speed === "null" ? "—" : p.speed + " km/h")).addTo(map);
    });
    map.on("mouseleave", "states", function () { map.getCanvas().style.cursor = ""; popup.remove(); });
    map.on("click", "states", function (e) { window.location.href = "/tocc/segments/" + encodeURIComponent(e.features[0].properties.id); });
  }

  function refresh() {
    if (!map) return;
    load().then(draw).catch(function () { el.dataset.ready = "error"; });
  }

  if (el && window.maplibregl) {
    map = new maplibregl.Map({
      container: el,
      style: { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#eef2f6" } }] },
      center: [104.07, 30.66], zoom: 12, attributionControl: false
    });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
    map.once("load", function () {
      load().then(function (fc) { draw(fc); el.dataset.ready = "1"; }).catch(function () { el.dataset.ready = "error"; });
    });
  }
  charts();
  window.addEventListener("resize", function () {
    document.querySelectorAll("#tocc-vitals .tocc-chart").forEach(function (c) {
      var chart = window.echarts && echarts.getInstanceByDom(c);
      if (chart) chart.resize();
    });
  });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (!e.detail.target || e.detail.target.id !== "tocc-live") return;
    charts();
    var bin = document.getElementById("tocc-latest-bin");
    if (bin && el && bin.dataset.bin !== el.dataset.bin) refresh();
  });
})();
