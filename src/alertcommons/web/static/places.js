// Compose: choosing a registered site fills the shelter's fields (the server fills any left
// empty too, so the form works without this script).
(function () {
  "use strict";
  const select = document.getElementById("place_site");
  const data = document.getElementById("places-data");
  if (!select || !data || select.tagName !== "SELECT") return;
  const sites = JSON.parse(data.textContent);
  const set = (id, value) => {
    const field = document.getElementById(id);
    if (field) field.value = value === null || value === undefined ? "" : String(value);
  };
  select.addEventListener("change", () => {
    const site = sites.find((s) => s.value === select.value);
    if (!site) return;
    set("shelter_id", site.key);
    set("name", site.name);
    set("address", site.address);
    set("lat", site.lat);
    set("lon", site.lon);
    set("capacity", site.capacity);
    document.querySelectorAll("input[type=checkbox][name^=hazard_]").forEach((box) => {
      box.checked = site.hazards.includes(box.name.slice("hazard_".length));
    });
    select.dispatchEvent(new CustomEvent("places:site", { bubbles: true, detail: site }));
  });
})();
