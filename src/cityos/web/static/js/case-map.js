// Case maps on top of the places map: pick a point (report form) or show one (case page).
// Usage: cityosCasePick(el, lonInput, latInput) / cityosCaseShow(el) with data-lon, data-lat.
(function () {
  "use strict";
  function marker(map, lngLat) {
    return new maplibregl.Marker({ color: "#b42318" }).setLngLat(lngLat).addTo(map);
  }
  window.cityosCasePick = function (el, lon, lat) {
    var map = window.cityosPlacesMap(el);
    if (!map) return;
    var pin = null;
    function place(lngLat) {
      if (pin) pin.setLngLat(lngLat); else pin = marker(map, lngLat);
      lon.value = lngLat.lng.toFixed(6);
      lat.value = lngLat.lat.toFixed(6);
      el.dataset.picked = "1";
    }
    map.on("click", function (e) { place(e.lngLat); });
    if (lon.value && lat.value) map.on("load", function () { place({ lng: parseFloat(lon.value), lat: parseFloat(lat.value) }); });
    var here = document.getElementById("case-here");
    if (here && navigator.geolocation) {
      here.hidden = false;
      here.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (p) {
          var ll = { lng: p.coords.longitude, lat: p.coords.latitude };
          place(ll);
          map.jumpTo({ center: [ll.lng, ll.lat], zoom: 16 });
        });
      });
    }
  };
  window.cityosCaseShow = function (el) {
    var map = window.cityosPlacesMap(el);
    if (!map || !el.dataset.lon) return;
    var ll = [parseFloat(el.dataset.lon), parseFloat(el.dataset.lat)];
    map.on("load", function () { marker(map, ll); map.jumpTo({ center: ll, zoom: 15 }); });
  };
})();
