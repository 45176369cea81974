// The receiver console follows a test delivery: it asks the hub for the delivery's state
// every second until it is acknowledged or has failed for good (or two minutes have gone).
// Values are written with textContent only, so nothing a receiver answers becomes markup.
(function () {
  "use strict";
  // The page's language (the console shows one at a time); the same words as STATE_WORDS
  // in web/receiver_words.py.
  var JA = document.documentElement.lang !== "en";
  var WORDS = JA
    ? { pending: "送信待ち", sending: "送信中", delivered: "配信済", acknowledged: "受信確認", failed: "失敗" }
    : { pending: "pending", sending: "sending", delivered: "delivered", acknowledged: "acknowledged", failed: "failed" };
  var FINAL = { acknowledged: true, failed: true };
  function show(panel, name, text) {
    var field = panel.querySelector('[data-field="' + name + '"]');
    if (field) field.textContent = text;
  }
  function jst(iso) {
    var when = new Date(iso);
    if (isNaN(when.getTime())) return iso;
    var shifted = new Date(when.getTime() + 9 * 3600 * 1000).toISOString();
    return shifted.slice(0, 10) + " " + shifted.slice(11, 16) + " (UTC+09:00)";
  }
  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.getElementById("test-outcome");
    if (!panel || typeof fetch === "undefined") return;
    var url = panel.getAttribute("data-poll");
    var left = 120;
    function poll() {
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (delivery) {
          if (delivery) {
            var state = panel.querySelector('[data-field="state"]');
            state.textContent = WORDS[delivery.state] || delivery.state;
            state.className = "state state-" + delivery.state;
            show(panel, "latency", delivery.latency_ms === null ? "—" : Math.round(delivery.latency_ms) + " ms");
            show(panel, "acknowledged", delivery.acknowledged_at ? jst(delivery.acknowledged_at) : (JA ? "まだ" : "not yet"));
            show(panel, "error", delivery.last_error || "—");
            if (FINAL[delivery.state]) return;
          }
          left -= 1;
          if (left > 0) window.setTimeout(poll, 1000);
        })
        .catch(function () {
          left -= 1;
          if (left > 0) window.setTimeout(poll, 1000);
        });
    }
    poll();
  });
})();
