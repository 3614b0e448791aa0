// The commute page: corridor lines (width by flow) on a blank MapLibre map, the AM/PM toggle,
// the OD heat map and the district bar chart (ECharts). Data from #cm-data; no network access.
// Sets data-corridors (lines drawn) and data-ready on the map element for tests.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("cm-data").textContent);
  var el = document.getElementById("cm-map");
  var L = data.labels;
  var peak = el.dataset.peak || "am";
  var map = null, heat = null;

  function fc(p) { return data.corridors[p] || { type: "FeatureCollection", features: [] }; }

  function rows(p) {
    var body = document.getElementById("cm-rows");
    var features = fc(p).features;
    body.innerHTML = "";
    features.forEach(function (f) {
      var q = f.properties, tr = document.createElement("tr");
      [q.rank, q.origin_name, q.dest_name, q.trips, q.mean_minutes, q.mean_km].forEach(function (v) {
        var td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    document.getElementById("cm-empty").hidden = features.length > 0;
  }

  function fit(features) {
    var b = [180, 90, -180, -90];
    features.forEach(function (f) { f.geometry.coordinates.forEach(function (c) {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    }); });
    if (b[0] <= b[2]) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 40, duration: 0, maxZoom: 15 });
  }

  function drawMap(p) {
    el.dataset.corridors = String(fc(p).features.length);
    if (!map) return;
    var src = map.getSource("corridors");
    var maxTrips = Math.max.apply(null, [1].concat(fc(p).features.map(function (f) { return f.properties.trips; })));
    if (src) { src.setData(fc(p)); } else {
      map.addSource("corridors", { type: "geojson", data: fc(p) });
      map.addLayer({ id: "corridors", type: "line", source: "corridors", layout: { "line-cap": "round", "line-join": "round" },
        paint: { "line-color": ["match", ["get", "path"], "straight", "#b07aa1", "#e15759"], "line-opacity": 0.8,
          "line-width": ["interpolate", ["linear"], ["get", "trips"], 0, 2, maxTrips, 14] } });
      var popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false });
      map.on("mousemove", "corridors", function (e) {
        var q = e.features[0].properties;
        popup.setLngLat(e.lngLat).setText(q.origin_name + " → " + q.dest_name + " · " + L.trips + " " + q.trips +
          " · " + q.mean_minutes + " min · " + q.mean_km + " km").addTo(map);
      });
      map.on("mouseleave", "corridors", function () { popup.remove(); });
    }
    map.setPaintProperty("corridors", "line-width", ["interpolate", ["linear"], ["get", "trips"], 0, 2, maxTrips, 14]);
    fit(fc(p).features);
  }

  function drawHeat(p) {
    var box = document.getElementById("cm-od");
    if (!window.echarts || !box) return;
    var h = data.heat[p];
    heat = heat || echarts.init(box);
    heat.setOption({
      tooltip: { formatter: function (x) { var v = x.data; return h.zones[v[1]] + " → " + h.zones[v[0]] + "<br>" +
        L.trips + ": " + v[2] + "<br>" + L.minutes + ": " + v[3] + "<br>" + L.km + ": " + v[4]; } },
      grid: { left: 90, right: 20, top: 10, bottom: 90 },
      xAxis: { type: "category", data: h.zones, name: L.dest, nameLocation: "middle", nameGap: 70, axisLabel: { rotate: 45 } },
      yAxis: { type: "category", data: h.zones, name: L.origin },
      visualMap: { min: 0, max: Math.max(1, h.max), calculable: true, orient: "horizontal", left: "center", bottom: 0, itemHeight: 80 },
      series: [{ type: "heatmap", data: h.cells }]
    }, true);
  }

  function drawDistricts() {
    var box = document.getElementById("cm-dist");
    if (!window.echarts || !box) return;
    var d = data.districts, ref = data.reference;
    echarts.init(box).setOption({
      tooltip: { trigger: "axis" },
      legend: { data: [L.minutes, L.km], top: 0 },
      grid: { left: 50, right: 50, top: 40, bottom: 60 },
      xAxis: { type: "category", data: d.map(function (x) { return x.name; }), axisLabel: { rotate: 30 } },
      yAxis: [{ type: "value", name: "min" }, { type: "value", name: "km" }],
      series: [
        { name: L.minutes, type: "bar", data: d.map(function (x) { return x.mean_minutes; }),
          markLine: { symbol: "none", data: [{ yAxis: ref.minutes, name: ref.label }], label: { formatter: ref.label + " {c} min" } } },
        { name: L.km, type: "bar", yAxisIndex: 1, data: d.map(function (x) { return x.mean_km; }),
          markLine: { symbol: "none", data: [{ yAxis: ref.km, name: ref.label }], label: { formatter: ref.label + " {c} km" } } }
      ]
    });
  }

  function show(p) {
    peak = p; el.dataset.peak = p;
    document.querySelectorAll(".cm-toggle button").forEach(function (b) { b.setAttribute("aria-pressed", b.dataset.peak === p ? "true" : "false"); });
    var hidden = document.querySelector('form.cm-form input[name="peak"]');
    if (hidden) hidden.value = p;
    rows(p); drawMap(p); drawHeat(p);
  }

  document.querySelectorAll(".cm-toggle button").forEach(function (b) {
    b.addEventListener("click", function () { show(b.dataset.peak); });
  });
  if (window.maplibregl) {
    try {
      map = new maplibregl.Map({ container: el, attributionControl: false, center: [104.07, 30.66], zoom: 9,
        style: { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#eef2f6" } }] } });
      map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
      map.on("load", function () { drawMap(peak); el.dataset.ready = "1"; });
    } catch (e) { el.dataset.ready = "error"; map = null; }
  }
  rows(peak); drawHeat(peak); drawDistricts();
  el.dataset.corridors = String(fc(peak).features.length);
})();
