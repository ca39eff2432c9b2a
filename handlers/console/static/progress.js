// The campaign page's units table, fetched again every few seconds (no reload, no inline script).
// The server filters and sorts (the URL carries ?status=&sort=&dir=), so without script the page still works.
"use strict";
(function () {
  var holder = document.getElementById("progress");
  if (!holder) { return; }
  var url = holder.getAttribute("data-refresh-url");
  var seconds = parseInt(holder.getAttribute("data-refresh-seconds") || "15", 10);
  if (!url || !(seconds > 0)) { return; }
  var parser = new DOMParser();
  var timer = null;

  function schedule() { timer = window.setTimeout(refresh, seconds * 1000); }

  function refresh() {
    if (document.hidden) { schedule(); return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" }, cache: "no-store" })
      .then(function (response) {
        // A session that ended answers with the sign-in page: stop and leave the table as it was.
        if (!response.ok || response.redirected) { throw new Error("refresh stopped: " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var fresh = parser.parseFromString(html, "text/html").getElementById("progress-table");
        var current = document.getElementById("progress-table");
        if (fresh && current) { current.replaceWith(document.importNode(fresh, true)); }
        schedule();
      })
      .catch(function () { timer = null; });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && timer === null) { schedule(); }
  });
  schedule();
})();
