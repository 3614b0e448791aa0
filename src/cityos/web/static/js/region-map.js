// A region map: MapLibre GL with a blank style (city intranets are often offline, so no tiles)
// and our own GeoJSON. Usage: <div class="map" data-geojson="URL" data-link="/places/{id}"></div>
// then cityosRegionMap(el). The feature whose property "focus" is true is drawn as an outline.
(function () {
  "use strict";
  var PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

  function bbox(fc) {
    var b = [180, 90, -180, -90];
    function walk(c) {
      if (typeof c[0] === "number") {
        b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
        b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
      } else { c.forEach(walk); }
    }
    fc.features.forEach(function (f) { if (f.geometry) walk(f.geometry.coordinates); });
    return b[0] <= b[2] ? b : null;
  }

  window.cityosRegionMap = function (el) {
    if (!window.maplibregl) return null;
    var map = new maplibregl.Map({
      container: el,
      style: { version: 8, sources: {}, layers: [{ id: "bg", type: "background", paint: { "background-color": "#eef2f6" } }] },
      center: [104.07, 30.66], zoom: 8, attributionControl: false,
    });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
    var popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false });
    fetch(el.dataset.geojson, { credentials: "same-origin", headers: { "Accept": "application/geo+json, application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (fc) {
        fc.features.forEach(function (f, i) { f.properties = f.properties || {}; f.properties._color = PALETTE[i % PALETTE.length]; });
        var withGeom = { type: "FeatureCollection", features: fc.features.filter(function (f) { return f.geometry; }) };
        el.dataset.features = String(withGeom.features.length);
        var run = function () {
          map.addSource("regions", { type: "geojson", data: withGeom });
          map.addLayer({ id: "fill", type: "fill", source: "regions", filter: ["!=", ["get", "focus"], true],
            paint: { "fill-color": ["get", "_color"], "fill-opacity": 0.35 } });
          map.addLayer({ id: "line", type: "line", source: "regions",
            paint: { "line-color": ["case", ["==", ["get", "focus"], true], "#1d2330", "#ffffff"], "line-width": ["case", ["==", ["get", "focus"], true], 2.5, 1] } });
          var b = bbox(withGeom);
          if (b) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 20, duration: 0 });
          el.dataset.ready = "1";
        };
        if (map.loaded()) run(); else map.on("load", run);
      })
      .catch(function () { el.dataset.ready = "error"; });
    map.on("mousemove", "fill", function (e) {
      map.getCanvas().style.cursor = "pointer";
      var p = e.features[0].properties;
      popup.setLngLat(e.lngLat).setText(p.name + (p.code ? " · " + p.code : "")).addTo(map);
    });
    map.on("mouseleave", "fill", function () { map.getCanvas().style.cursor = ""; popup.remove(); });
    map.on("click", "fill", function (e) {
      var link = el.dataset.link;
      if (link) window.location.href = link.replace("{id}", e.features[0].properties.id);
    });
    return map;
  };
})();
