// The live delivery board: the hub pushes the delivery report over SSE whenever it changes.
// Rows are rebuilt with textContent only, so nothing a receiver sends can become markup.
(function () {
  "use strict";
  var WORDS = {
    pending: "送信中 pending",
    delivered: "配信済 delivered",
    acknowledged: "受信確認 acknowledged",
    failed: "失敗 failed",
    standby: "待機 standby",
    skipped: "不要 skipped"
  };
  document.addEventListener("DOMContentLoaded", function () {
    var board = document.getElementById("board");
    if (!board || typeof EventSource === "undefined") return;
    // the page's own words for the states (one language at a time)
    try { WORDS = JSON.parse(board.getAttribute("data-words")) || WORDS; } catch (e) { /* keep */ }
    var source = new EventSource(board.getAttribute("data-events"));
    source.addEventListener("board", function (event) {
      var report = JSON.parse(event.data);
      ["total", "delivered", "acknowledged", "failed", "pending"].forEach(function (key) {
        var cell = board.querySelector('[data-count="' + key + '"]');
        if (cell) cell.textContent = String(report[key]);
      });
      var body = document.getElementById("board-rows");
      var rows = document.createDocumentFragment();
      report.items.forEach(function (item) {
        var row = document.createElement("tr");
        row.setAttribute("data-delivery", item.id);
        var latency = item.latency_ms === null ? "" : Math.round(item.latency_ms) + " ms";
        // a site's route: the site's name (shown to its own organization) and the route's rank
        var site = item.site_id === null ? "" :
          (item.site ? item.site + " \u00b7 " : "") + (WORDS._route || "route") + " " + (item.route + 1);
        [item.organization || "", site, item.label || "\u2014", item.channel,
         WORDS[item.state] || item.state,
         String(item.attempts), latency, item.last_error || ""].forEach(function (text, index) {
          var cell = document.createElement("td");
          cell.textContent = text;
          if (index === 4) cell.className = "state state-" + item.state;
          if (index === 6) cell.className = "latency";
          row.appendChild(cell);
        });
        rows.appendChild(row);
      });
      body.replaceChildren(rows);
    });
  });
})();
