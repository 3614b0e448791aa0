// The device map: the area's outline (places map) and one dot per device, coloured by status.
// Reads the points from #hd-points; sets data-devices on the map element for tests.
(function () {
  "use strict";
  var el = document.getElementById("hd-map");
  var data = document.getElementById("hd-points");
  if (!el || !data || !window.cityosPlacesMap) return;
  var points = JSON.parse(data.textContent);
  var colours = JSON.parse(el.dataset.colours);
  var map = window.cityosPlacesMap(el);
  if (!map) return;
  el.dataset.devices = String(points.length);
  var features = points.map(function (p) {
    return { type: "Feature", geometry: { type: "Point", coordinates: [p.lon, p.lat] }, properties: p };
  });
  var colour = ["match", ["get", "status"]];
  Object.keys(colours).forEach(function (k) { colour.push(k, colours[k]); });
  colour.push("#4e79a7");
  map.whenReady(function () {
    map.addSource("devices", { type: "geojson", data: { type: "FeatureCollection", features: features } });
    map.addLayer({ id: "devices", type: "circle", source: "devices",
      paint: { "circle-radius": 6, "circle-color": colour, "circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5 } });
    var popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false });
    map.on("mousemove", "devices", function (e) {
      map.getCanvas().style.cursor = "pointer";
      var p = e.features[0].properties;
      popup.setLngLat(e.lngLat).setText(p.name + " · " + p.code + " · " + p.status_title).addTo(map);
    });
    map.on("mouseleave", "devices", function () { map.getCanvas().style.cursor = ""; popup.remove(); });
    map.on("click", "devices", function (e) { window.location.href = "/hub/devices/" + e.features[0].properties.id; });
  });
  // Once the area's outline is drawn (it fits the map to the area), fit the devices instead.
  if (!points.length) return;
  var b = [180, 90, -180, -90];
  points.forEach(function (p) {
    b[0] = Math.min(b[0], p.lon); b[1] = Math.min(b[1], p.lat); b[2] = Math.max(b[2], p.lon); b[3] = Math.max(b[3], p.lat);
  });
  var tries = 0;
  var timer = setInterval(function () {
    tries += 1;
    if (el.dataset.ready || tries > 50 || !el.dataset.geojson) {
      clearInterval(timer);
      map.whenReady(function () { map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 32, duration: 0, maxZoom: 16 }); });
    }
  }, 100);
})();
