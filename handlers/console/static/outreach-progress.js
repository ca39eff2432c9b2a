// The progress of a reminder or notice being sent: polls its JSON every two seconds
// and writes the counts into the page until the send is done. Without JavaScript the
// page's refresh link does the same. No inline script anywhere (CSP).
"use strict";
(function () {
  var section = document.querySelector("[data-progress-url]");
  if (!section || !window.fetch) { return; }
  var url = section.getAttribute("data-progress-url");
  var INTERVAL = 2000;

  function show(progress) {
    var fields = section.querySelectorAll("[data-field]");
    for (var i = 0; i < fields.length; i++) {
      var name = fields[i].getAttribute("data-field");
      if (Object.prototype.hasOwnProperty.call(progress, name)) {
        var text = String(progress[name]);
        if (fields[i].textContent !== text) { fields[i].textContent = text; }
      }
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("application/json") !== 0) { throw new Error("no progress"); }
        return response.json();
      })
      .then(function (progress) {
        show(progress);
        if (!progress.done) { window.setTimeout(poll, INTERVAL); }
      })
      .catch(function () { /* signed out or offline: the refresh link still works */ });
  }

  window.setTimeout(poll, INTERVAL);
})();
