// Maps: area outlines and places; tiles only when the hub is configured with a tile server.
// Without tiles (or without network) the outlines still show on a plain background.
// Labels are issuers' text (headlines): Leaflet treats a string as HTML, so every label is
// handed over as a DOM node filled with textContent and can never become markup.
(function () {
  "use strict";
  var JAPAN = [[24.0, 122.9], [45.6, 146.0]];

  function textNode(value) {
    var span = document.createElement("span");
    span.textContent = String(value);
    return span;
  }

  function build(element) {
    var data = JSON.parse(document.getElementById(element.getAttribute("data-map")).textContent);
    if (typeof L === "undefined") {
      var fallback = element.parentNode.querySelector(".map-fallback");
      if (fallback) fallback.hidden = false;
      element.hidden = true;
      return null;
    }
    var map = L.map(element, { attributionControl: !!(data.tiles && data.tiles.url) });
    if (data.tiles && data.tiles.url) {
      L.tileLayer(data.tiles.url, {
        maxZoom: 18,
        attribution: (data.tiles.attribution || "").replace(/</g, "&lt;")
      }).addTo(map);
    }
    var layers = L.featureGroup().addTo(map);
    (data.items || []).forEach(function (item) {
      var layer = null;
      if (item.polygon) layer = L.polygon(item.polygon, { color: "#b03000", weight: 3 });
      else if (item.circle) layer = L.circle(item.circle, { radius: item.km * 1000, color: "#b03000" });
      else if (item.lat !== undefined && item.lat !== null)
        layer = L.circleMarker([item.lat, item.lon], { radius: 7, color: "#0b4f9c", weight: 3 });
      if (layer) {
        if (item.label) layer.bindTooltip(textNode(item.label));
        layer.addTo(layers);
      }
    });
    if (layers.getLayers().length) map.fitBounds(layers.getBounds(), { maxZoom: 13, padding: [20, 20] });
    else map.fitBounds(JAPAN);
    element.removeAttribute("tabindex");
    return map;
  }

  window.AlertCommonsMaps = { build: build };
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-map]").forEach(function (element) {
      if (!element.hasAttribute("data-manual")) build(element);
    });
  });
})();
