// 一屏观社区: the age pyramid (ECharts) and the buildings in 3D (MapLibre GL fill-extrusion from the
// footprints, floors × 3 m) drawn from the dashboard data embedded in the page (#cd-data), refreshed
// from the JSON endpoint every two minutes. Choosing a building loads its drill-down (units, rooms,
// masked residents) into #cd-drill. No tiles: a blank style, as city intranets are often offline.
// For tests: #cd-map gets data-ready ("1" or "error"), data-features (footprints in the source) and
// data-rendered (extruded buildings drawn); #cd-pyramid gets data-ready="1".
(function () {
  "use strict";
  var REFRESH_MS = 120000;
  var MAX_LABELS = 80;
  var BUILDING_LABEL_ZOOM = 16.5;  // closer than this: building names; farther: estate names
  var root = document.getElementById("community-dashboard");
  var source = document.getElementById("cd-data");
  if (!root || !source) return;
  var data = JSON.parse(source.textContent);
  var ds = root.dataset;
  var pyramid = null;
  var map = null;
  var colourBy = "occupancy";

  var COLOURS = {
    occupancy: ["interpolate", ["linear"], ["get", "occupancy"], 0, "#dbe7f3", 0.5, "#6fa0d2", 1, "#0b5cad"],
    cases: ["step", ["get", "open_cases"], "#9fc5a8", 1, "#f0b44c", 3, "#d9534f"],
  };

  function lookup(obj, path) {
    return path.split(".").reduce(function (o, k) { return o === null || o === undefined ? o : o[k]; }, obj);
  }

  function show(value, unit) {
    if (value === null || value === undefined) return "—";
    return String(value) + (unit || "");
  }

  // --- 人: the age pyramid -------------------------------------------------------------------------
  function drawPyramid(people) {
    var el = document.getElementById("cd-pyramid");
    if (!el || !window.echarts || !people) return;
    var p = people.pyramid;
    var male = p.male.map(function (n) { return -n; });
    var option = {
      grid: { left: 56, right: 16, top: 28, bottom: 24 },
      legend: { top: 0, data: [ds.labelMale, ds.labelFemale] },
      tooltip: {
        trigger: "axis", axisPointer: { type: "shadow" },
        formatter: function (items) {
          return items[0].axisValue + "<br>" + items.map(function (i) {
            return i.marker + i.seriesName + ": " + Math.abs(i.value);
          }).join("<br>");
        },
      },
      xAxis: { type: "value", axisLabel: { formatter: function (v) { return Math.abs(v); } } },
      yAxis: { type: "category", data: p.bands, axisTick: { show: false } },
      series: [
        { name: ds.labelMale, type: "bar", stack: "p", data: male, itemStyle: { color: "#4e79a7" }, barCategoryGap: "15%" },
        { name: ds.labelFemale, type: "bar", stack: "p", data: p.female, itemStyle: { color: "#e15759" } },
      ],
    };
    if (!pyramid) {
      pyramid = echarts.init(el);
      window.addEventListener("resize", function () { pyramid.resize(); });
    }
    pyramid.setOption(option);
    el.dataset.ready = "1";
  }

  // --- 地: buildings in 3D ---------------------------------------------------------------------------
  function drill(id) {
    var target = document.getElementById("cd-drill");
    if (!target) return;
    var url = ds.buildingUrl.replace("{id}", id);
    if (window.htmx) {  // htmx:afterSwap below scrolls to it
      window.htmx.ajax("GET", url, { target: target, swap: "innerHTML" });
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { target.innerHTML = html; target.scrollIntoView({ behavior: "smooth", block: "start" }); });
  }

  var labels = { building: [], estate: [] };

  function label(f, kind) {
    var el = document.createElement("span");
    el.className = "places-label";
    el.textContent = f.properties.name;
    el.style.cssText = "font-size:12px;background:rgba(255,255,255,.85);padding:0 3px;border-radius:3px;pointer-events:none;" +
      (kind === "estate" ? "font-weight:700" : "");
    var ring = f.geometry.type === "Polygon" ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
    var lon = 0, lat = 0;
    ring.forEach(function (c) { lon += c[0]; lat += c[1]; });
    labels[kind].push(new maplibregl.Marker({ element: el }).setLngLat([lon / ring.length, lat / ring.length]).addTo(map));
  }

  function showLabels() {
    var near = map.getZoom() >= BUILDING_LABEL_ZOOM;
    labels.building.forEach(function (m) { m.getElement().style.display = near ? "" : "none"; });
    labels.estate.forEach(function (m) { m.getElement().style.display = near && labels.building.length ? "none" : ""; });
  }

  function zoomTo(bounds) {
    if (map && bounds) map.fitBounds([[bounds[0], bounds[1]], [bounds[2], bounds[3]]], { padding: 40, maxZoom: 18.5, pitch: 50 });
  }

  function setColour(by) {
    colourBy = by;
    root.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () {
      if (b.dataset.zoom === "all") { zoomTo(data.places && data.places.bounds); return; }
      var hit = (data.places.estate_outlines.features || []).filter(function (f) { return String(f.properties.id) === b.dataset.zoom; })[0];
      if (hit) zoomTo(hit.properties.bounds);
    });
  });
  root.querySelectorAll("[data-colour]").forEach(function (b) { b.setAttribute("aria-pressed", String(b.dataset.colour === by)); });
    root.querySelectorAll("[data-legend]").forEach(function (l) { l.hidden = l.dataset.legend !== by; });
    if (map && map.getLayer("buildings-3d")) map.setPaintProperty("buildings-3d", "fill-extrusion-color", COLOURS[by]);
  }

  function drawMap(places) {
    var el = document.getElementById("cd-map");
    if (!el || !places || !places.geojson.features.length) return;
    if (!window.maplibregl) { el.dataset.ready = "error"; return; }
    var fc = places.geojson;
    el.dataset.features = String(fc.features.length);
    try {
      map = new maplibregl.Map({
        container: el,
        style: { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#eef2f6" } }] },
        bounds: places.bounds ? [[places.bounds[0], places.bounds[1]], [places.bounds[2], places.bounds[3]]] : undefined,
        fitBoundsOptions: { padding: 40, maxZoom: 18 },
        pitch: 50, bearing: -17, attributionControl: false,
      });
    } catch (e) {
      el.dataset.ready = "error";
      el.textContent = ds.labelNoWebgl;
      return;
    }
    window.cityosDashboardMap = map;
    map.addControl(new maplibregl.NavigationControl({ visualizePitch: true }));
    var popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false });
    var estates = places.estate_outlines || { type: "FeatureCollection", features: [] };
    map.on("load", function () {
      map.addSource("estates", { type: "geojson", data: estates });
      map.addLayer({ id: "estates-fill", type: "fill", source: "estates", paint: { "fill-color": "#c9d8c5", "fill-opacity": 0.45 } });
      map.addLayer({ id: "estates-line", type: "line", source: "estates", paint: { "line-color": "#6b8f62", "line-width": 1.5 } });
      map.addSource("buildings", { type: "geojson", data: fc, promoteId: "id" });
      map.addLayer({
        id: "buildings-3d", type: "fill-extrusion", source: "buildings",
        paint: {
          "fill-extrusion-color": COLOURS[colourBy],
          "fill-extrusion-height": ["get", "height"],
          "fill-extrusion-base": 0,
          "fill-extrusion-opacity": 0.88,
        },
      });
      if (fc.features.length <= MAX_LABELS) fc.features.forEach(function (f) { label(f, "building"); });
      if (estates.features.length > 1) estates.features.forEach(function (f) { label(f, "estate"); });
      showLabels();
      map.on("zoom", showLabels);
      map.once("idle", function () {
        el.dataset.rendered = String(map.queryRenderedFeatures({ layers: ["buildings-3d"] }).length);
        el.dataset.ready = "1";
      });
    });
    map.on("error", function () { if (!el.dataset.ready) el.dataset.ready = "error"; });
    map.on("mousemove", "buildings-3d", function (e) {
      map.getCanvas().style.cursor = "pointer";
      var p = e.features[0].properties;
      popup.setLngLat(e.lngLat).setText(
        p.name + " · " + ds.labelFloors + " " + p.floors + " · " + ds.labelOccupancy + " " + Math.round(p.occupancy * 100) +
        "% · " + ds.labelResidents + " " + p.residents + " · " + ds.labelOpenCases + " " + p.open_cases
      ).addTo(map);
    });
    map.on("mouseleave", "buildings-3d", function () { map.getCanvas().style.cursor = ""; popup.remove(); });
    map.on("click", "buildings-3d", function (e) { popup.remove(); drill(e.features[0].properties.id); });
  }

  // --- refresh ------------------------------------------------------------------------------------------
  function update(next) {
    data = next;
    root.querySelectorAll("[data-field]").forEach(function (el) {
      el.textContent = show(lookup(next, el.dataset.field), el.dataset.unit);
    });
    root.querySelectorAll("[data-part][data-key]").forEach(function (el) {
      var part = (next.situation || []).filter(function (p) { return p.part === el.dataset.part; })[0];
      var fig = part && part.figures.filter(function (f) { return f.key === el.dataset.key; })[0];
      if (fig) el.textContent = show(fig.value, fig.value === null ? "" : fig.unit);
    });
    if (next.people) drawPyramid(next.people);
    if (map && next.places && map.getSource("buildings")) map.getSource("buildings").setData(next.places.geojson);
  }

  function refresh() {
    if (document.hidden) return;
    fetch(ds.api, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(update)
      .catch(function () { /* keep the figures shown; the next round tries again */ });
  }

  root.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () {
      if (b.dataset.zoom === "all") { zoomTo(data.places && data.places.bounds); return; }
      var hit = (data.places.estate_outlines.features || []).filter(function (f) { return String(f.properties.id) === b.dataset.zoom; })[0];
      if (hit) zoomTo(hit.properties.bounds);
    });
  });
  root.querySelectorAll("[data-colour]").forEach(function (b) {
    b.addEventListener("click", function () { setColour(b.dataset.colour); });
  });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail && e.detail.target && e.detail.target.id === "cd-drill") e.detail.target.scrollIntoView({ behavior: "smooth", block: "start" });
  });
  drawPyramid(data.people);
  drawMap(data.places);
  window.setInterval(refresh, REFRESH_MS);
})();
