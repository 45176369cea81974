// Maps: outlines of municipalities and prefectures, issuers' polygons and circles, shelters as
// markers. The outlines come from this hub (/geo/<kind>/<code>.geojson, shipped with the
// package), so a map needs no tile server and no other host; tiles are drawn underneath only
// when the hub is configured with a tile server.
// Labels are issuers' text (headlines): Leaflet treats a string as HTML, so every label is
// handed over as a DOM node filled with textContent and can never become markup.
//
// Items of a map's JSON block ({"tiles": …, "items": [...]}, see map_block.html):
//   {"outline": "13101" | "131016" | "13", "label", "level"}  a whole municipality/prefecture
//   {"outline": …, "context": true}          the municipality around a district without a shape
//   {"polygon": [[lat, lon], …], "label", "level"}             an issuer's drawn area
//   {"circle": [lat, lon], "km", "label"}                      an issuer's circle
//   {"marker": [lat, lon], "label", "state"}                   a shelter (state open|full|closed)
//   {"lat", "lon", "label"}                                    a place without an outline
// A map element with data-outline-from="id …" also draws the outline of the codes typed or
// chosen in those form fields, and redraws it when they change (the compose page).
(function () {
  "use strict";
  var JAPAN = [[24.0, 122.9], [45.6, 146.0]];
  // The official colours of the warning levels (警戒レベル): 5 black, 4 purple, 3 red, 2 yellow.
  var LEVEL_COLOURS = { 5: "#0c000c", 4: "#aa00aa", 3: "#ff2800", 2: "#f2e700" };
  var AREA = "#b03000";
  var SHELTER = { open: "#1b5e20", full: "#a05a00", closed: "#4a4a4a" };
  var cache = {};

  function textNode(value) {
    var span = document.createElement("span");
    span.textContent = String(value);
    return span;
  }

  function colourOf(item) {
    return LEVEL_COLOURS[item.level] || AREA;
  }

  function codeKind(code) {
    var digits = String(code).replace(/\D/g, "");
    if (digits.length === 2) return "prefectures/" + digits;
    if (digits.length === 5 || digits.length === 6) return "municipalities/" + digits;
    return null;
  }

  // One fetch per outline per page, whatever number of items name it.
  function fetchOutline(code) {
    var path = codeKind(code);
    if (!path) return Promise.resolve(null);
    if (!cache[path]) {
      cache[path] = fetch("/geo/" + path + ".geojson", { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .catch(function () { return null; });
    }
    return cache[path];
  }

  function outline(map, group, code, options) {
    return fetchOutline(code).then(function (feature) {
      if (!feature || !map._loaded) return null;
      var colour = (options && options.color) || AREA;
      var interactive = !(options && options.interactive === false);
      // A context outline (the municipality around a district drawn without a shape) is
      // dashed and unfilled: the order does not cover all of it.
      var style = options && options.context
        ? { color: "#4a4a4a", weight: 2, dashArray: "6 4", fill: false }
        : { color: colour, weight: 3, fillColor: colour, fillOpacity: 0.15 };
      var layer = L.geoJSON(feature, { interactive: interactive, style: style });
      var label = (options && options.label) || (feature.properties && feature.properties.name);
      if (label && interactive) layer.bindTooltip(textNode(label), { sticky: true });
      layer.addTo(group);
      return layer;
    });
  }

  function fit(map, group) {
    var bounds = group.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 13, padding: [20, 20] });
  }

  function layerOf(item) {
    if (item.polygon) {
      var colour = colourOf(item);
      return L.polygon(item.polygon, { color: colour, weight: 3, fillColor: colour, fillOpacity: 0.2 });
    }
    if (item.circle) return L.circle(item.circle, { radius: item.km * 1000, color: AREA, weight: 3 });
    if (item.marker)
      return L.circleMarker(item.marker, {
        radius: 9, color: "#ffffff", weight: 3, fillColor: SHELTER[item.state] || SHELTER.open,
        fillOpacity: 1, className: "shelter-marker"
      });
    if (item.lat !== undefined && item.lat !== null)
      return L.circleMarker([item.lat, item.lon], { radius: 7, color: "#0b4f9c", weight: 3 });
    return null;
  }

  function fieldCodes(element) {
    var ids = (element.getAttribute("data-outline-from") || "").split(/\s+/).filter(Boolean);
    var codes = [];
    ids.forEach(function (id) {
      var field = document.getElementById(id);
      if (!field || !field.value) return;
      field.value.split(/[\s,、]+/).forEach(function (code) {
        if (codeKind(code)) codes.push(code);
      });
    });
    return codes;
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
    // A view first: a circle has no bounds until the map has one (it threw, and blanked
    // every page whose map held a shelter).
    map.fitBounds(JAPAN);
    if (data.tiles && data.tiles.url) {
      L.tileLayer(data.tiles.url, {
        maxZoom: 18,
        attribution: (data.tiles.attribution || "").replace(/</g, "&lt;")
      }).addTo(map);
    }
    var outlines = L.featureGroup().addTo(map);
    var layers = L.featureGroup().addTo(map);
    var pending = [];
    (data.items || []).forEach(function (item) {
      if (item.outline) {
        pending.push(outline(map, outlines, item.outline, {
          label: item.label, color: colourOf(item), context: !!item.context
        }));
        return;
      }
      var layer = layerOf(item);
      if (!layer) return;
      if (item.label) layer.bindTooltip(textNode(item.label));
      layer.addTo(layers);
    });
    function fitAll() {
      var bounds = L.latLngBounds([]);
      [outlines, layers].forEach(function (group) {
        var found = group.getBounds();
        if (found.isValid()) bounds.extend(found);
      });
      if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 13, padding: [20, 20] });
    }
    fitAll();
    Promise.all(pending).then(function () {
      fitAll();
      element.setAttribute("data-outlines-drawn", String(outlines.getLayers().length));
    });
    if (element.hasAttribute("data-outline-from")) follow(element, map);
    element.removeAttribute("tabindex");
    return map;
  }

  // The compose page: the chosen municipality's outline, redrawn when the choice changes.
  function follow(element, map) {
    var group = L.featureGroup().addTo(map);
    function redraw() {
      group.clearLayers();
      var codes = fieldCodes(element);
      // Not interactive: a click inside the outline must reach the map (drawing, a shelter).
      var drawn = codes.map(function (code) { return outline(map, group, code, { interactive: false }); });
      Promise.all(drawn).then(function () {
        if (group.getLayers().length) fit(map, group);
        element.setAttribute("data-outlines-drawn", String(group.getLayers().length));
      });
    }
    (element.getAttribute("data-outline-from") || "").split(/\s+/).forEach(function (id) {
      var field = id && document.getElementById(id);
      if (field) field.addEventListener("change", redraw);
    });
    redraw();
  }

  window.AlertCommonsMaps = { build: build, outline: outline, colours: LEVEL_COLOURS };
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-map]").forEach(function (element) {
      if (!element.hasAttribute("data-manual")) build(element);
    });
  });
})();
