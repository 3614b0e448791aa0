// The data hub pages (/hub, /hub/entities/{id}): a bar chart of entity types, the entities on a
// map (no tiles: a blank style, as city intranets are often offline) and a 24-hour line chart of
// an entity's numeric attributes read from the temporal API. Every part degrades to the tables.
(function () {
  "use strict";
  var holder = document.getElementById("hub-data");
  if (!holder) return;
  var data = JSON.parse(holder.textContent || "{}");

  function typesChart() {
    var el = document.getElementById("hub-types-chart");
    if (!el || !window.echarts || !data.chart) return;
    var chart = echarts.init(el);
    chart.setOption({
      grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.chart.names.slice().reverse(), axisLabel: { width: 160, overflow: "truncate" } },
      series: [{ type: "bar", name: data.entities || "", data: data.chart.counts.slice().reverse(), itemStyle: { color: "#0b5cad" } }]
    });
    chart.on("click", function (p) {
      window.location.href = "/hub?tenant=" + encodeURIComponent(data.tenant) + "&type=" + encodeURIComponent(p.name);
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.dataset.ready = "1";
  }

  function entityMap() {
    var el = document.getElementById("hub-map");
    var fc = data.features;
    if (!el || !fc || !fc.features || !fc.features.length) return;
    if (!window.maplibregl) { el.dataset.ready = "error"; return; }
    var map;
    try {
      map = new maplibregl.Map({
        container: el,
        style: { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#eef2f6" } }] },
        center: fc.features[0].geometry.coordinates, zoom: 14, attributionControl: false
      });
    } catch (e) { el.dataset.ready = "error"; return; }
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
    map.on("load", function () {
      map.addSource("entities", { type: "geojson", data: fc });
      map.addLayer({ id: "entities", type: "circle", source: "entities",
        paint: { "circle-radius": 7, "circle-color": "#0b5cad", "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
      if (fc.features.length > 1) {
        var b = new maplibregl.LngLatBounds();
        fc.features.forEach(function (f) { b.extend(f.geometry.coordinates); });
        map.fitBounds(b, { padding: 40, maxZoom: 17, duration: 0 });
      }
      var popup = new maplibregl.Popup({ closeButton: false });
      map.on("click", "entities", function (e) {
        var p = e.features[0].properties;
        window.location.href = "/hub/entities/" + encodeURIComponent(p.id) + "?tenant=" + encodeURIComponent(data.tenant);
      });
      map.on("mouseenter", "entities", function (e) {
        map.getCanvas().style.cursor = "pointer";
        var p = e.features[0].properties;
        popup.setLngLat(e.features[0].geometry.coordinates).setText(p.id + " (" + p.type + ")").addTo(map);
      });
      map.on("mouseleave", "entities", function () { map.getCanvas().style.cursor = ""; popup.remove(); });
      el.dataset.ready = "1";
    });
  }

  // temporalValues: {"attr": {"type": "Property", "values": [[v, t], ...]}}; normalized: [{value, observedAt}, ...]
  function seriesOf(body, attr) {
    var raw = body[attr.name] !== undefined ? body[attr.name] : body[attr.iri];
    var points = [];
    if (!raw) return points;
    if (!Array.isArray(raw) && Array.isArray(raw.values)) {
      raw.values.forEach(function (pair) { if (typeof pair[0] === "number") points.push([pair[1], pair[0]]); });
    } else {
      (Array.isArray(raw) ? raw : [raw]).forEach(function (i) {
        if (i && typeof i.value === "number" && i.observedAt) points.push([i.observedAt, i.value]);
      });
    }
    points.sort(function (a, b) { return a[0] < b[0] ? -1 : 1; });
    return points;
  }

  function historyChart() {
    var el = document.getElementById("hub-history");
    if (!el || !data.temporal || !data.numeric || !data.numeric.length) return;
    var empty = document.getElementById("hub-history-empty");
    function none() { el.hidden = true; if (empty) empty.hidden = false; el.dataset.ready = "empty"; }
    if (!window.fetch || !window.echarts) { none(); return; }
    fetch(data.temporal, { credentials: "same-origin", headers: { "Accept": "application/json", "NGSILD-Tenant": data.tenant, "Link": data.link } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (body) {
        var series = data.numeric.map(function (a) {
          // a line needs two points: with few observations show each as a symbol, or one reading draws nothing
          var points = seriesOf(body, a);
          return { name: a.name, type: "line", showSymbol: points.length <= 30, symbolSize: 6, data: points };
        }).filter(function (s) { return s.data.length; });
        if (!series.length) { none(); return; }
        var chart = echarts.init(el);
        chart.setOption({
          tooltip: { trigger: "axis" }, legend: { type: "scroll", top: 0 },
          grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
          xAxis: { type: "time" }, yAxis: { type: "value", scale: true }, series: series
        });
        window.addEventListener("resize", function () { chart.resize(); });
        el.dataset.ready = "1";
      })
      .catch(none);
  }

  typesChart();
  entityMap();
  historyChart();
})();
