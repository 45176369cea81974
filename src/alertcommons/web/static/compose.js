// Drawing on the compose map: choose a district's "Draw on map", click the corners, "Finish"
// writes a closed CAP polygon (lat,lon pairs) into that district's outline field. For a
// shelter, a click sets the latitude and longitude. Everything stays typeable by hand.
(function () {
  "use strict";
  var ja = document.documentElement.lang !== "en";
  function tr(jaText, enText) { return ja ? jaText : enText; }
  document.addEventListener("DOMContentLoaded", function () {
    // Evacuation and lift forms start from what is in force in the chosen municipality:
    // choosing another one reloads the form with its orders.
    // (Shelters keep what was typed: static/places.js redraws their list in place.)
    var town = document.querySelector("select[data-reload]");
    var stateful = town && /^(evacuation|lift)$/.test(town.getAttribute("data-reload"));
    if (stateful) town.addEventListener("change", function () {
      var query = new URLSearchParams({ template: town.getAttribute("data-reload"), municipality: town.value });
      window.location.assign("/console/compose?" + query.toString());
    });
    var element = document.getElementById("compose-map");
    if (!element || !window.AlertCommonsMaps) return;
    var map = window.AlertCommonsMaps.build(element);
    if (!map) return;
    window.AlertCommonsMaps.composeMap = map;  // static/places.js draws the districts on it
    var status = document.getElementById("draw-status");
    var target = null, points = [], line = null, shapes = L.featureGroup().addTo(map);

    function parse(text) {
      return text.trim().split(/\s+/).filter(Boolean).map(function (pair) {
        var parts = pair.split(",");
        return [parseFloat(parts[0]), parseFloat(parts[1])];
      }).filter(function (p) { return !isNaN(p[0]) && !isNaN(p[1]); });
    }
    function redraw() {
      shapes.clearLayers();
      document.querySelectorAll("textarea[id^=polygon]").forEach(function (field) {
        var ring = parse(field.value);
        if (ring.length >= 3) L.polygon(ring, { color: "#b03000", weight: 3 }).addTo(shapes);
      });
      var lat = document.getElementById("lat"), lon = document.getElementById("lon");
      if (lat && lon && lat.value && lon.value)
        L.circleMarker([parseFloat(lat.value), parseFloat(lon.value)], { radius: 8 }).addTo(shapes);
      if (shapes.getLayers().length) map.fitBounds(shapes.getBounds(), { maxZoom: 15, padding: [30, 30] });
    }
    function say(text) { if (status) status.textContent = text; }

    document.querySelectorAll("[data-draw]").forEach(function (button) {
      button.addEventListener("click", function () {
        target = document.getElementById(button.getAttribute("data-draw"));
        points = [];
        if (line) { map.removeLayer(line); line = null; }
        say(tr("描画中: ", "Drawing: ") + target.id);
        element.scrollIntoView({ block: "center" });
      });
    });
    map.on("click", function (event) {
      var lat = event.latlng.lat.toFixed(5), lon = event.latlng.lng.toFixed(5);
      if (target) {
        points.push([parseFloat(lat), parseFloat(lon)]);
        if (line) map.removeLayer(line);
        line = L.polyline(points, { color: "#0b4f9c", dashArray: "4" }).addTo(map);
        say(points.length + tr(" 点", " points"));
        return;
      }
      var latField = document.getElementById("lat"), lonField = document.getElementById("lon");
      if (latField && lonField) { latField.value = lat; lonField.value = lon; redraw(); }
    });
    var finish = document.getElementById("draw-finish");
    if (finish) finish.addEventListener("click", function () {
      if (!target || points.length < 3) { say(tr("3点以上必要です", "Needs at least 3 points")); return; }
      var ring = points.concat([points[0]]);
      target.value = ring.map(function (p) { return p[0] + "," + p[1]; }).join(" ");
      if (line) { map.removeLayer(line); line = null; }
      say(tr("完了: ", "Done: ") + target.id);
      target = null; points = [];
      redraw();
    });
    var clear = document.getElementById("draw-clear");
    if (clear) clear.addEventListener("click", function () {
      if (target) target.value = "";
      points = [];
      if (line) { map.removeLayer(line); line = null; }
      redraw();
      say("");
    });
    document.querySelectorAll("textarea[id^=polygon], #lat, #lon").forEach(function (field) {
      field.addEventListener("change", redraw);
    });
    redraw();
  });
})();
