// The alerts map: the area's outline (places map) and one dot per alert, coloured by severity.
(function () {
  "use strict";
  var el = document.getElementById("ta-map");
  var data = document.getElementById("ta-points");
  if (!el || !data || !window.cityosPlacesMap) return;
  var points = JSON.parse(data.textContent);
  var colours = JSON.parse(el.dataset.colours);
  var map = window.cityosPlacesMap(el);
  if (!map) return;
  el.dataset.alerts = String(points.length);
  var features = points.map(function (p) {
    return { type: "Feature", geometry: { type: "Point", coordinates: [p.lon, p.lat] }, properties: p };
  });
  var colour = ["match", ["get", "severity"]];
  Object.keys(colours).forEach(function (k) { colour.push(Number(k), colours[k]); });
  colour.push("#4e79a7");
  map.whenReady(function () {
    map.addSource("alerts", { type: "geojson", data: { type: "FeatureCollection", features: features } });
    map.addLayer({ id: "alerts", type: "circle", source: "alerts",
      paint: { "circle-radius": 8, "circle-color": colour, "circle-stroke-color": "#ffffff", "circle-stroke-width": 2 } });
    var popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false });
    map.on("mousemove", "alerts", function (e) {
      map.getCanvas().style.cursor = "pointer";
      popup.setLngLat(e.lngLat).setText(e.features[0].properties.label).addTo(map);
    });
    map.on("mouseleave", "alerts", function () { map.getCanvas().style.cursor = ""; popup.remove(); });
    if (!points.length) return;
    var b = [180, 90, -180, -90];
    points.forEach(function (p) {
      b[0] = Math.min(b[0], p.lon); b[1] = Math.min(b[1], p.lat); b[2] = Math.max(b[2], p.lon); b[3] = Math.max(b[3], p.lat);
    });
    setTimeout(function () { map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 40, duration: 0, maxZoom: 15 }); }, 300);
  });
})();
