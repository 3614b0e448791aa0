// Home page: the age chart (ECharts) and the region map (MapLibre, our own GeoJSON, no tiles).
(function () {
  "use strict";
  var chartEl = document.getElementById("age-chart");
  if (chartEl && window.echarts) {
    var chart = echarts.init(chartEl);
    chart.setOption({
      grid: { left: 48, right: 16, top: 16, bottom: 32 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: JSON.parse(chartEl.dataset.labels) },
      yAxis: { type: "value" },
      series: [{ type: "bar", data: JSON.parse(chartEl.dataset.values), itemStyle: { color: "#0b5cad" } }],
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  var mapEl = document.getElementById("home-map");
  if (mapEl && window.cityosPlacesMap) {
    window.cityosPlacesMap(mapEl);
  }
})();
