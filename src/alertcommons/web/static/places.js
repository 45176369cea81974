// Compose's registered places (web/compose_places.py): choosing a registered site fills the
// shelter's fields (the server fills any left empty too, so the form works without this
// script); the chosen municipality's registered districts are drawn on the map (ticked ones
// stronger); and when another municipality is chosen without reloading the page (shelters),
// the lists are redrawn from /console/places/choices. Text is set with textContent only.
(function () {
  "use strict";
  var ja = document.documentElement.lang !== "en";
  var KINDS = { emergency_site: ["指定緊急避難場所", "designated emergency evacuation site"],
                shelter: ["指定避難所", "designated shelter"] };
  var sites = [];
  var districts = [];
  var layer = null;

  function el(tag, text) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function set(id, value) {
    var field = document.getElementById(id);
    if (field) field.value = value === null || value === undefined ? "" : String(value);
  }
  function show(id, visible) {
    var node = document.getElementById(id);
    if (node) node.hidden = !visible;
  }

  function ticked() {
    var names = {};
    document.querySelectorAll("#district-choices input[type=checkbox]").forEach(function (box) {
      if (box.checked) names[box.value] = true;
    });
    return names;
  }

  // The registered districts over the municipality's outline: not interactive, so a click
  // still reaches the map (drawing a district, placing a shelter).
  function drawDistricts() {
    var maps = window.AlertCommonsMaps;
    var map = maps && maps.composeMap;
    var element = document.getElementById("compose-map");
    if (!map || typeof L === "undefined" || !element) return;
    if (layer) map.removeLayer(layer);
    var chosen = ticked();
    layer = L.geoJSON({
      type: "FeatureCollection",
      features: districts.map(function (d) {
        return { type: "Feature", geometry: d.geometry, properties: { name: d.name } };
      })
    }, {
      interactive: false,
      style: function (feature) {
        var on = chosen[feature.properties.name];
        return on
          ? { color: maps.colours[4] || "#7b2d8e", weight: 3, fillOpacity: 0.25 }
          : { color: "#1f5fa8", weight: 1.5, dashArray: "4 3", fillOpacity: 0.05 };
      }
    }).addTo(map);
    element.setAttribute("data-districts-drawn", String(layer.getLayers().length));
  }

  function fillDistricts() {
    var list = document.getElementById("district-choices");
    if (!list) return;
    while (list.firstChild) list.removeChild(list.firstChild);
    districts.forEach(function (d, n) {
      var box = el("input");
      box.type = "checkbox";
      box.name = "place_district_" + (n + 1);
      box.value = d.name;
      var label = el("label");
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + d.name));
      if (d.kana) {
        var kana = el("span", "（" + d.kana + "）");
        kana.className = "meta";
        label.appendChild(document.createTextNode(" "));
        label.appendChild(kana);
      }
      var item = el("li");
      item.appendChild(label);
      list.appendChild(item);
    });
    show("district-choices", districts.length > 0);
    show("districts-some", districts.length > 0);
    show("districts-none", districts.length === 0);
  }

  function fillSites() {
    var select = document.getElementById("place_site");
    if (!select) return;
    while (select.options.length > 1) select.remove(1);
    sites.forEach(function (s) {
      var kind = Array.isArray(s.kind) ? s.kind : KINDS[s.kind] || [s.kind, s.kind];
      var option = el("option", s.name + "（" + (ja ? kind[0] : kind[1]) + "・" + s.address + "）");
      option.value = s.value;
      select.appendChild(option);
    });
    show("sites-some", sites.length > 0);
    show("sites-none", sites.length === 0);
  }

  function load(code, initial) {
    if (!code || typeof fetch === "undefined") return;
    fetch("/console/places/choices?municipality=" + encodeURIComponent(code),
          { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (found) {
        if (!found) return;
        var town = document.getElementById("municipality");
        if (town && town.value !== code) return;  // another choice since
        districts = found.districts || [];
        if (!initial) {  // the server drew the lists (with what was ticked) for this one
          sites = found.sites || [];
          fillDistricts();
          fillSites();
        }
        drawDistricts();
      })
      .catch(function () { /* the lists stay as the server drew them */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var data = document.getElementById("places-data");
    if (data) sites = JSON.parse(data.textContent);
    var select = document.getElementById("place_site");
    if (select && select.tagName === "SELECT") select.addEventListener("change", function () {
      var site = sites.find(function (s) { return s.value === select.value; });
      if (!site) return;
      set("shelter_id", site.key);
      set("name", site.name);
      set("address", site.address);
      set("lat", site.lat);
      set("lon", site.lon);
      set("capacity", site.capacity);
      document.querySelectorAll("input[type=checkbox][name^=hazard_]").forEach(function (box) {
        box.checked = site.hazards.indexOf(box.name.slice("hazard_".length)) >= 0;
      });
      select.dispatchEvent(new CustomEvent("places:site", { bubbles: true, detail: site }));
    });
    var list = document.getElementById("district-choices");
    if (list) list.addEventListener("change", drawDistricts);
    var town = document.getElementById("municipality");
    if (!town || !(list || select)) return;
    // The municipality's registered places: for the map now, and again on another choice
    // (evacuation reloads the page instead: its orders in force change with it).
    load(town.value, true);
    town.addEventListener("change", function () { load(town.value, false); });
  });
})();
