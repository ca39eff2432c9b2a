// The invitations pages: "copy all" and "print" buttons. Without JavaScript the buttons stay hidden,
// the text can be selected by hand and the page printed from the browser's menu.
"use strict";
(function () {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const area = document.getElementById(button.dataset.copy);
    const status = button.parentElement.querySelector(".copy-status");
    if (!area) continue;
    button.hidden = false;
    button.addEventListener("click", async function () {
      area.focus();
      area.select();
      let copied = false;
      try {
        await navigator.clipboard.writeText(area.value);
        copied = true;
      } catch (error) {
        try { copied = document.execCommand("copy"); } catch (ignored) { copied = false; }
      }
      if (status) status.textContent = copied ? button.dataset.copied : button.dataset.failed;
    });
  }
  for (const area of document.querySelectorAll("textarea[readonly]")) {
    area.addEventListener("focus", function () { area.select(); });
  }
  for (const button of document.querySelectorAll("button[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  }
})();
