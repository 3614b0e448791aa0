// The tree browser's map: a region outline and its children, from /api/v1/regions/{id}/geojson.
// MapLibre GL with a blank style (no tiles: city intranets are often offline). Labels are HTML
// markers, because text layers would need a glyph server. Clicking a child opens its page.
// Usage: <div class="map" data-geojson="URL" data-link="/places/{id}"></div>, then cityosPlacesMap(el).
// Sets data-features (shapes drawn) and data-ready ("1" or "error") on the element for tests.
(function () {
  "use strict";
  var PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  var MAX_LABELS = 80;

  function extend(b, c) {
    if (typeof c[0] === "number") {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
      b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    } else {
      c.forEach(function (x) { extend(b, x); });
    }
  }

  function bounds(features) {
    var b = [180, 90, -180, -90];
    features.forEach(function (f) { extend(b, f.geometry.coordinates); });
    return b[0] <= b[2] ? b : null;
  }

  function label(map, f) {
    var p = f.properties;
    if (p.lon === null || p.lon === undefined) return;
    var el = document.createElement("span");
    el.className = "places-label";
    el.textContent = p.name;
    new maplibregl.Marker({ element: el }).setLngLat([p.lon, p.lat]).addTo(map);
  }

  window.cityosPlacesMap = function (el) {
    if (!el || !window.maplibregl) return null;
    var map = new maplibregl.Map({
      container: el,
      style: { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#eef2f6" } }] },
      center: [104.07, 30.66], zoom: 8, attributionControl: false,
    });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
    // map.loaded() turns false again while another script's source loads, after "load" has
    // fired; a flag set once by the event tells the scripts sharing this map when to draw.
    var styleReady = false;
    var waiting = [];
    map.once("load", function () { styleReady = true; waiting.splice(0).forEach(function (fn) { fn(); }); });
    map.whenReady = function (fn) { if (styleReady) fn(); else waiting.push(fn); };
    var popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false });

    fetch(el.dataset.geojson, { credentials: "same-origin", headers: { "Accept": "application/geo+json, application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (fc) {
        var shaped = fc.features.filter(function (f) { return f.geometry; });
        shaped.forEach(function (f, i) { f.properties._color = PALETTE[i % PALETTE.length]; });
        var children = shaped.filter(function (f) { return !f.properties.focus; });
        el.dataset.features = String(shaped.length);
        var draw = function () {
          map.addSource("regions", { type: "geojson", data: { type: "FeatureCollection", features: shaped } });
          map.addLayer({ id: "children-fill", type: "fill", source: "regions", filter: ["!=", ["get", "focus"], true],
            paint: { "fill-color": ["get", "_color"], "fill-opacity": 0.35 } });
          map.addLayer({ id: "children-line", type: "line", source: "regions", filter: ["!=", ["get", "focus"], true],
            paint: { "line-color": "#ffffff", "line-width": 1 } });
          map.addLayer({ id: "focus-line", type: "line", source: "regions", filter: ["==", ["get", "focus"], true],
            paint: { "line-color": "#1d2330", "line-width": 2.5 } });
          if (children.length <= MAX_LABELS) children.forEach(function (f) { label(map, f); });
          var b = bounds(shaped);
          if (b) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 24, duration: 0, maxZoom: 18 });
          el.dataset.ready = "1";
        };
        map.whenReady(draw);
      })
      .catch(function () { el.dataset.ready = "error"; });

    map.on("mousemove", "children-fill", function (e) {
      map.getCanvas().style.cursor = "pointer";
      var p = e.features[0].properties;
      popup.setLngLat(e.lngLat).setText(p.name + " · " + p.level_label + " · " + p.code).addTo(map);
    });
    map.on("mouseleave", "children-fill", function () { map.getCanvas().style.cursor = ""; popup.remove(); });
    map.on("click", "children-fill", function (e) {
      var link = el.dataset.link;
      if (link) window.location.href = link.replace("{id}", e.features[0].properties.id);
    });
    return map;
  };
})();
