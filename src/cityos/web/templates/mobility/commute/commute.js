// The commute page: corridor lines (width by flow) on a blank MapLibre map, the AM/PM toggle,
// the OD heat map and the district bar chart (ECharts). Data from #cm-data; no network access.
// The area's outline comes from the places map (cityosPlacesMap) when the page names one.
// Sets data-corridors (corridors of the shown peak) and data-drawn (lines on the map) for tests.
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
      grid: { left: 150, right: 20, top: 10, bottom: 150 },
      xAxis: { type: "category", data: h.zones, name: L.dest, nameLocation: "middle", nameGap: 70, axisLabel: { rotate: 45, width: 130, overflow: "truncate" } },
      yAxis: { type: "category", data: h.zones, name: L.origin, axisLabel: { width: 140, overflow: "truncate" } },
      visualMap: { min: 0, max: Math.max(1, h.max), calculable: true, orient: "horizontal", left: "center", bottom: 0, itemHeight: 80 },
      series: [{ type: "heatmap", data: h.cells }]
    }, true);
  }

  function drawDistricts() {
    var box = document.getElementById("cm-dist");
    if (!window.echarts || !box) return;
    var d = data.districts, ref = data.reference;
    var top = function (key, r) { return Math.ceil(Math.max.apply(null, [r].concat(d.map(function (x) { return x[key]; }))) * 1.15); };
    echarts.init(box).setOption({
      tooltip: { trigger: "axis" },
      legend: { data: [L.minutes, L.km], top: 0 },
      grid: { left: 50, right: 50, top: 40, bottom: 60 },
      xAxis: { type: "category", data: d.map(function (x) { return x.name; }), axisLabel: { rotate: 30 } },
      yAxis: [{ type: "value", name: "min", max: top("mean_minutes", ref.minutes) }, { type: "value", name: "km", max: top("mean_km", ref.km) }],
      series: [
        { name: L.minutes, type: "bar", data: d.map(function (x) { return x.mean_minutes; }),
          markLine: { symbol: "none", data: [{ yAxis: ref.minutes, name: ref.label }], label: { position: "insideStartTop", formatter: ref.label + " {c} min" } } },
        { name: L.km, type: "bar", yAxisIndex: 1, data: d.map(function (x) { return x.mean_km; }),
          markLine: { symbol: "none", data: [{ yAxis: ref.km, name: ref.label }], label: { position: "insideEndTop", formatter: ref.label + " {c} km" } } }
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
      if (el.dataset.geojson && window.cityosPlacesMap) {
        map = window.cityosPlacesMap(el);
      } else {
        map = new maplibregl.Map({ container: el, attributionControl: false, center: [104.07, 30.66], zoom: 9,
          style: { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#eef2f6" } }] } });
        map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
        var ready = false, waiting = [];
        map.once("load", function () { ready = true; waiting.splice(0).forEach(function (fn) { fn(); }); });
        map.whenReady = function (fn) { if (ready) fn(); else waiting.push(fn); };
      }
      map.whenReady(function () { drawMap(peak); el.dataset.drawn = "1"; });
      // The outline fits the map to the area when it arrives; the corridors are what to see.
      var tries = 0;
      var timer = setInterval(function () {
        tries += 1;
        if (el.dataset.ready || tries > 50 || !el.dataset.geojson) {
          clearInterval(timer);
          map.whenReady(function () {
            if (map.getLayer("corridors")) map.moveLayer("corridors");  // above the area's fills
            fit(fc(peak).features);
          });
        }
      }, 100);
    } catch (e) { el.dataset.drawn = "error"; map = null; }
  }
  rows(peak); drawHeat(peak); drawDistricts();
  el.dataset.corridors = String(fc(peak).features.length);
})();
