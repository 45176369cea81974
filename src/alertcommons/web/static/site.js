// Large text and high contrast, remembered in this browser.
(function () {
  "use strict";
  var root = document.documentElement;
  ["contrast", "large"].forEach(function (name) {
    if (localStorage.getItem("ac-" + name) === "1") root.classList.add(name);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-toggle]").forEach(function (button) {
      var name = button.getAttribute("data-toggle");
      button.setAttribute("aria-pressed", root.classList.contains(name) ? "true" : "false");
      button.addEventListener("click", function () {
        var on = root.classList.toggle(name);
        localStorage.setItem("ac-" + name, on ? "1" : "0");
        button.setAttribute("aria-pressed", on ? "true" : "false");
      });
    });
  });
})();
