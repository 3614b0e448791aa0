// Bus pages: route shapes and stops on a blank-style map (offline: no tiles), the per-route
// on-time / headway-CV chart and a route's hourly chart. Reads #tr-data; sets data-ready on
// each drawn element for tests. Every part degrades to the tables.
(function () {
  "use strict";
  var holder = document.getElementById("tr-data");
  if (!holder) return;
  var data = JSON.parse(holder.textContent || "{}");

  function drawMap() {
    var el = document.getElementById("tr-map");
    if (!el || !data.lines || !window.cityosPlacesMap) return;
    var map = window.cityosPlacesMap(el);
    if (!map) return;
    el.dataset.lines = String(data.lines.features.length);
    map.whenReady(function () {
      map.addSource("lines", { type: "geojson", data: data.lines });
      map.addLayer({ id: "lines", type: "line", source: "lines", paint: { "line-color": ["get", "colour"], "line-width": 4, "line-opacity": 0.85 } });
      map.addSource("stops", { type: "geojson", data: data.stops });
      map.addLayer({ id: "stops", type: "circle", source: "stops",
        paint: { "circle-radius": 3.5, "circle-color": "#ffffff", "circle-stroke-color": "#333333", "circle-stroke-width": 1.2 } });
      var popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false });
      ["lines", "stops"].forEach(function (layer) {
        map.on("mousemove", layer, function (e) {
          map.getCanvas().style.cursor = "pointer";
          popup.setLngLat(e.lngLat).setText(e.features[0].properties.name || "").addTo(map);
        });
        map.on("mouseleave", layer, function () { map.getCanvas().style.cursor = ""; popup.remove(); });
      });
      map.on("click", "lines", function (e) { if (e.features[0].properties.id) window.location.href = "/tocc/transit/routes/" + e.features[0].properties.id; });
      var b = [180, 90, -180, -90];
      data.lines.features.forEach(function (f) { f.geometry.coordinates.forEach(function (c) {
        b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
      }); });
      if (b[0] <= b[2]) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 24, duration: 0, maxZoom: 16 });
      el.dataset.ready = "1";
    });
  }

  function routesChart() {
    var el = document.getElementById("tr-chart");
    if (!el || !window.echarts || !data.chart || !data.chart.names.length) return;
    var chart = echarts.init(el);
    chart.setOption({
      grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [el.dataset.onTime, el.dataset.cv] },
      xAxis: { type: "category", data: data.chart.names },
      yAxis: [{ type: "value", min: 0, max: 100, name: "%" }, { type: "value", min: 0, name: "CV" }],
      series: [
        { type: "bar", name: el.dataset.onTime, data: data.chart.on_time, itemStyle: { color: "#12805c" } },
        { type: "line", name: el.dataset.cv, yAxisIndex: 1, data: data.chart.cv, itemStyle: { color: "#d62728" } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.dataset.ready = "1";
  }

  function hoursChart() {
    var el = document.getElementById("tr-hours");
    if (!el || !window.echarts || !data.hours || !data.hours.labels.length) return;
    var chart = echarts.init(el);
    chart.setOption({
      grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [el.dataset.onTime, el.dataset.delay] },
      xAxis: { type: "category", data: data.hours.labels },
      yAxis: [{ type: "value", min: 0, max: 100, name: "%" }, { type: "value", name: el.dataset.minutes }],
      series: [
        { type: "bar", name: el.dataset.onTime, data: data.hours.on_time, itemStyle: { color: "#12805c" } },
        { type: "line", name: el.dataset.delay, yAxisIndex: 1, data: data.hours.delay, itemStyle: { color: "#b54708" } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.dataset.ready = "1";
  }

  drawMap();
  routesChart();
  hoursChart();
})();
