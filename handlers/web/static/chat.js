// The web chat: renders the server's state (messages, controls, the input to show) and posts actions.
// Every action carries a fresh key, reused only when the same request is retried, so the server applies it once.
"use strict";
(function () {
  var base = location.pathname.replace(/\/+$/, "");
  var state = null;
  var busy = false;
  var lastGroup = null;
  var chat = document.getElementById("chat");
  var statusLine = document.getElementById("status");
  var el = function (id) { return document.getElementById(id); };

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function bubble(text, cls) {
    var div = document.createElement("div");
    div.className = "bubble" + (cls ? " " + cls : "");
    div.textContent = text;
    return div;
  }

  function say(text, cls) {
    var div = bubble(text, cls);
    chat.appendChild(div);
    div.scrollIntoView({ block: "end" });
    return div;
  }

  function setStatus(text) {
    statusLine.textContent = text || "";
    statusLine.hidden = !text;
  }

  function dropControls() {
    var old = chat.querySelectorAll(".controls, .edits");
    for (var i = 0; i < old.length; i++) { old[i].parentNode.removeChild(old[i]); }
  }

  function controlButton(control) {
    var button = document.createElement("button");
    button.type = "button";
    button.dataset.kind = control.kind;
    button.textContent = (control.selected ? "\u2705 " : "") + control.label;
    if (control.selected) { button.className = "selected"; }
    button.addEventListener("click", function () {
      var echo = control.kind === "toggle" ? null : control.label;
      send(control.action, echo, control.kind === "toggle");
    });
    return button;
  }

  function render(next, replace) {
    state = next;
    document.documentElement.lang = next.language;
    document.title = next.ui.page_title;
    el("title").textContent = next.ui.page_title;
    el("language").textContent = next.ui.switch_language;
    el("review").textContent = next.ui.review;
    if (replace && lastGroup) { lastGroup.parentNode.removeChild(lastGroup); }
    dropControls();
    var group = document.createElement("section");
    group.className = "group";
    if (next.notice) { group.appendChild(bubble(next.notice, "notice")); }
    next.messages.forEach(function (message) {
      var div = bubble(message.text, message.warning ? "warning" : "");
      if (message.rows.length) {
        var controls = document.createElement("div");
        controls.className = "controls";
        message.rows.forEach(function (row) {
          var line = document.createElement("div");
          line.className = "row";
          row.forEach(function (control) { line.appendChild(controlButton(control)); });
          controls.appendChild(line);
        });
        div.appendChild(controls);
      }
      group.appendChild(div);
    });
    if (next.edits.length) {
      var edits = document.createElement("div");
      edits.className = "edits";
      next.edits.forEach(function (edit) {
        var button = document.createElement("button");
        button.type = "button";
        button.dataset.kind = "edit";
        button.title = edit.question;
        button.textContent = edit.label;
        button.addEventListener("click", function () { send(edit.action, edit.label, false); });
        edits.appendChild(button);
      });
      (group.lastChild || group).appendChild(edits);
    }
    chat.appendChild(group);
    lastGroup = group;
    showInput(next);
    group.scrollIntoView({ block: "end" });
  }

  function showInput(next) {
    var input = next.input;
    var ui = next.ui;
    el("composer").hidden = input.kind === "none";
    el("text-form").hidden = input.kind !== "text";
    el("long-form").hidden = input.kind !== "long_text";
    el("file-form").hidden = input.kind !== "file";
    el("text-label").textContent = ui.answer_label;
    el("send").textContent = ui.send;
    el("long-label").textContent = ui.long_text_label;
    el("long-send").textContent = ui.send;
    el("file-label").textContent = ui.upload_label;
    el("upload").textContent = ui.upload;
    if (input.kind === "file" && input.accept) {
      el("file").accept = input.accept.map(function (e) { return "." + e; }).join(",");
    }
    updateCounter();
  }

  function updateCounter() {
    if (!state || state.input.kind !== "long_text") { return; }
    var length = (state.input.length || 0) + el("long").value.length;
    el("counter").textContent = state.ui.counter.replace("{length}", length).replace("{max}", state.input.max_length);
  }

  function setBusy(value) {
    busy = value;
    document.body.dataset.busy = value ? "1" : "0";
    var buttons = document.querySelectorAll("button, input, textarea");
    for (var i = 0; i < buttons.length; i++) {
      if (buttons[i].id !== "language" && buttons[i].id !== "review") { buttons[i].disabled = value; }
    }
    setStatus(value && state ? state.ui.working : "");
  }

  function handle(response, replace) {
    return response.json().then(function (body) {
      if (response.ok || response.status === 409) {
        render(body, replace && response.ok);
      } else {
        say(body.message || (state && state.ui.error_internal) || "Error", "warning");
      }
    });
  }

  function post(path, body, attempt) {
    return fetch(base + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store"
    }).catch(function (error) {
      if (attempt < 3) {  // the same key again: if the first request got through, the server replays its result
        return new Promise(function (resolve) { setTimeout(resolve, 500 * attempt); }).then(function () { return post(path, body, attempt + 1); });
      }
      throw error;
    });
  }

  function send(action, echo, replace) {
    if (busy || !state) { return Promise.resolve(); }
    setBusy(true);
    if (echo) { say(echo, "me"); }
    var body = { key: newKey(), position: state.position, language: state.language, action: action };
    return post("/action", body, 1)
      .then(function (response) { return handle(response, replace); })
      .catch(function () { say(state.ui.offline, "warning"); })
      .then(function () { setBusy(false); });
  }

  function upload(file) {
    if (busy || !state) { return; }
    setBusy(true);
    say(file.name, "me");
    var form = new FormData();
    form.append("key", newKey());
    form.append("position", state.position || "");
    form.append("language", state.language);
    form.append("file", file);
    var progress = el("progress");
    progress.hidden = false;
    progress.value = 0;
    var request = new XMLHttpRequest();
    request.open("POST", base + "/upload");
    request.upload.onprogress = function (event) {
      if (event.lengthComputable) {
        var percent = Math.round(event.loaded * 100 / event.total);
        progress.value = percent;
        setStatus(state.ui.uploading.replace("{percent}", percent));
      }
    };
    request.onload = function () {
      progress.hidden = true;
      var body = null;
      try { body = JSON.parse(request.responseText); } catch (e) { body = null; }
      if (body && (request.status === 200 || request.status === 409)) { render(body, false); }
      else { say((body && body.message) || state.ui.error_internal, "warning"); }
      setBusy(false);
    };
    request.onerror = function () { progress.hidden = true; say(state.ui.offline, "warning"); setBusy(false); };
    request.send(form);
  }

  el("text-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = el("text").value;
    if (!text.trim()) { return; }
    el("text").value = "";
    send({ type: "text", text: text }, text, false);
  });
  el("long-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = el("long").value;
    if (!text.trim()) { return; }
    el("long").value = "";
    send({ type: "text", text: text }, text, false);
  });
  el("long").addEventListener("input", updateCounter);
  el("file-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var file = el("file").files[0];
    if (file) { upload(file); el("file").value = ""; }
  });
  el("review").addEventListener("click", function () {
    if (state) { send({ type: "review" }, null, false); }
  });
  el("language").addEventListener("click", function () {
    if (state) { send({ type: "language", language: state.other_language }, null, false); }
  });

  // The server rendered the page for browsers without JavaScript; the live chat replaces it.
  chat.textContent = "";
  el("server-tools").hidden = true;
  el("language").hidden = false;
  el("review").hidden = false;
  setBusy(true);
  fetch(base + "/state", { credentials: "same-origin", cache: "no-store" })
    .then(function (response) { return handle(response, false); })
    .catch(function () { setStatus("offline"); })
    .then(function () { setBusy(false); });
})();
