// The progress of a reminder or notice being sent: polls its JSON every two seconds
// and writes the counts, the contacts that failed or cannot be reached and the units
// no message went to into the page until the send is done. Names are user text: they
// go in as text nodes only, never as markup. Without JavaScript the page's refresh
// link does the same. No inline script anywhere (CSP).
"use strict";
(function () {
  var section = document.querySelector("[data-progress-url]");
  if (!section || !window.fetch) { return; }
  var url = section.getAttribute("data-progress-url");
  var INTERVAL = 2000;
  // What each list shows now (its JSON), so that an unchanged list is left alone.
  var shown = {};

  function element(tag, text) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // One failed or unreachable contact, as the page renders it.
  function problemItem(problem) {
    var item = element("li");
    var parts = [["strong", "units", problem.units], ["span", "contact", problem.name],
                 ["span", "channel", problem.channel], ["span", "reason", problem.reason]];
    for (var i = 0; i < parts.length; i++) {
      var part = element(parts[i][0], String(parts[i][2]));
      part.className = parts[i][1];
      if (i > 0) { item.appendChild(document.createTextNode(" ")); }
      item.appendChild(part);
    }
    if (problem.detail) {
      var detail = element("small", String(problem.detail));
      detail.className = "hint";
      item.appendChild(detail);
    }
    return item;
  }

  function unitItem(name) {
    return element("li", String(name));
  }

  function showList(name, items, build) {
    if (!Array.isArray(items)) { return; }
    var key = JSON.stringify(items);
    if (shown[name] === key) { return; }
    var list = section.querySelector('[data-list="' + name + '"]');
    var holder = section.querySelector('[data-list-section="' + name + '"]');
    if (!list || !holder) { return; }
    while (list.firstChild) { list.removeChild(list.firstChild); }
    for (var i = 0; i < items.length; i++) { list.appendChild(build(items[i])); }
    holder.hidden = items.length === 0;
    shown[name] = key;
  }

  function show(progress) {
    var fields = section.querySelectorAll("[data-field]");
    for (var i = 0; i < fields.length; i++) {
      var name = fields[i].getAttribute("data-field");
      if (Object.prototype.hasOwnProperty.call(progress, name)) {
        var text = String(progress[name]);
        if (fields[i].textContent !== text) { fields[i].textContent = text; }
      }
    }
    showList("problems", progress.problems, problemItem);
    showList("no_contact", progress.no_contact, unitItem);
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
