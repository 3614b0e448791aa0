// Hub pages: hubs on a blank-style map (offline: no tiles), a hub's stacked per-minute arrivals
// by mode, empty taxis against the taxi queue, the mode-share pie and the origins/destinations
// bars and map. Reads #hb-data; sets data-ready on each drawn element for tests.
(function () {
  "use strict";
  var holder = document.getElementById("hb-data");
  if (!holder) return;
  var data = JSON.parse(holder.textContent || "{}");

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return;
    var c = echarts.init(el);
    c.setOption(option(el));
    window.addEventListener("resize", function () { c.resize(); });
    el.dataset.ready = "1";
  }

  function pointsMap(id, points, centre) {
    var el = document.getElementById(id);
    if (!el || !window.cityosPlacesMap || !points) return;
    var map = window.cityosPlacesMap(el);
    if (!map) return;
    el.dataset.points = String(points.length);
    map.whenReady(function () {
      var features = points.filter(function (p) { return p.lon !== null && p.lat !== null; }).map(function (p) {
        return { type: "Feature", geometry: { type: "Point", coordinates: [p.lon, p.lat] }, properties: p };
      });
      map.addSource("points", { type: "geojson", data: { type: "FeatureCollection", features: features } });
      map.addLayer({ id: "points", type: "circle", source: "points", paint: {
        "circle-radius": ["interpolate", ["linear"], ["get", "weight"], 0, 5, 1, 18],
        "circle-color": ["match", ["get", "role"], "origin", "#0b5cad", "destination", "#f28e2b", "#d92d20"],
        "circle-opacity": 0.75, "circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5 } });
      var popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false });
      map.on("mousemove", "points", function (e) {
        map.getCanvas().style.cursor = "pointer";
        popup.setLngLat(e.lngLat).setText(e.features[0].properties.label).addTo(map);
      });
      map.on("mouseleave", "points", function () { map.getCanvas().style.cursor = ""; popup.remove(); });
      map.on("click", "points", function (e) { if (e.features[0].properties.href) window.location.href = e.features[0].properties.href; });
      var b = [180, 90, -180, -90];
      features.forEach(function (f) { var c = f.geometry.coordinates;
        b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]); });
      if (b[0] < b[2] || b[1] < b[3]) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 32, duration: 0, maxZoom: 15 });
      else if (centre) map.jumpTo({ center: centre, zoom: 14 });
      el.dataset.ready = "1";
    });
  }

  if (data.points) {
    pointsMap("hb-map", data.points.map(function (p) {
      return { lon: p.lon, lat: p.lat, weight: 0.4, role: "hub", label: p.name + " · " + p.kind, href: "/tocc/hubs/" + encodeURIComponent(p.code) };
    }));
    return;
  }

  chart("hb-arrivals", function (el) {
    return {
      grid: { left: 8, right: 8, top: 36, bottom: 36, containLabel: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: data.series.map(function (s) { return s.name; }) },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 4 }],
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value", name: el.dataset.unit },
      series: data.series.map(function (s) {
        return { type: "bar", stack: "all", name: s.name, data: s.data, itemStyle: { color: s.colour }, barCategoryGap: 0 };
      })
    };
  });
  chart("hb-supply", function (el) {
    return {
      grid: { left: 8, right: 8, top: 36, bottom: 36, containLabel: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [el.dataset.empty, el.dataset.waiting] },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 4 }],
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value" },
      series: [
        { type: "line", name: el.dataset.empty, data: data.supply.empty, showSymbol: false, itemStyle: { color: "#12805c" } },
        { type: "line", name: el.dataset.waiting, data: data.supply.waiting, showSymbol: false, areaStyle: { opacity: 0.2 }, itemStyle: { color: "#d92d20" } }
      ]
    };
  });
  if (data.share && data.share.length) chart("hb-share", function () {
    return {
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      series: [{ type: "pie", radius: ["35%", "70%"], data: data.share.map(function (s) { return { name: s.name, value: s.value, itemStyle: { color: s.colour } }; }) }]
    };
  });
  var names = {};
  data.places.origins.concat(data.places.destinations).forEach(function (p) { names[p.name] = true; });
  var labels = Object.keys(names);
  function counts(list) { var m = {}; list.forEach(function (p) { m[p.name] = p.trips; }); return labels.map(function (n) { return m[n] || 0; }); }
  if (labels.length) chart("hb-places", function (el) {
    return {
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [el.dataset.origins, el.dataset.destinations] },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: labels },
      series: [
        { type: "bar", name: el.dataset.origins, data: counts(data.places.origins), itemStyle: { color: "#0b5cad" } },
        { type: "bar", name: el.dataset.destinations, data: counts(data.places.destinations), itemStyle: { color: "#f28e2b" } }
      ]
    };
  });
  var most = 1;
  data.places.origins.concat(data.places.destinations).forEach(function (p) { most = Math.max(most, p.trips); });
  var pts = [{ lon: data.hub.lon, lat: data.hub.lat, weight: 0.5, role: "hub", label: data.hub.name }];
  data.places.origins.forEach(function (p) { pts.push({ lon: p.lon, lat: p.lat, weight: p.trips / most, role: "origin", label: p.name + " → " + p.trips }); });
  data.places.destinations.forEach(function (p) { pts.push({ lon: p.lon, lat: p.lat, weight: p.trips / most, role: "destination", label: p.name + " ← " + p.trips }); });
  pointsMap("hb-od-map", pts, [data.hub.lon, data.hub.lat]);
})();
