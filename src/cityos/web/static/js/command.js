// The command dashboard: stacked bars by part of the region (ECharts) and open cases on the map.
(function () {
  "use strict";
  var chartEl = document.getElementById("parts-chart");
  if (chartEl && window.echarts) {
    var chart = echarts.init(chartEl);
    chart.setOption({
      grid: { left: 48, right: 16, top: 28, bottom: 56 },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      xAxis: { type: "category", data: JSON.parse(chartEl.dataset.names), axisLabel: { rotate: 30 } },
      yAxis: { type: "value" },
      series: [
        { name: chartEl.dataset.labelOpen, type: "bar", stack: "c", data: JSON.parse(chartEl.dataset.open), itemStyle: { color: "#b54708" } },
        { name: chartEl.dataset.labelClosed, type: "bar", stack: "c", data: JSON.parse(chartEl.dataset.closed), itemStyle: { color: "#067647" } },
      ],
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  var mapEl = document.getElementById("command-map");
  if (mapEl && window.cityosPlacesMap) {
    var map = window.cityosPlacesMap(mapEl);
    fetch(mapEl.dataset.cases, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (fc) {
        var add = function () {
          map.addSource("cases", { type: "geojson", data: fc });
          map.addLayer({ id: "cases-heat", type: "heatmap", source: "cases", maxzoom: 15,
            paint: { "heatmap-radius": 24, "heatmap-opacity": 0.6 } });
          map.addLayer({ id: "cases-dots", type: "circle", source: "cases",
            paint: { "circle-radius": 5, "circle-color": ["case", ["get", "overdue"], "#b42318", "#0b5cad"],
                     "circle-stroke-color": "#fff", "circle-stroke-width": 1 } });
          map.on("click", "cases-dots", function (e) { window.location.href = "/cases/" + e.features[0].properties.id; });
          mapEl.dataset.cases_ready = String(fc.features.length);
        };
        map.whenReady(add);
      });
  }
})();
