// Noor console: progressive enhancement only — every page works without it.
// Loaded as a file (the Content-Security-Policy allows no inline script).
(function () {
  "use strict";

  // Forms marked data-confirm ask first (close a conversation, roll back a prompt).
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var msg = form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  }, true);

  // Filter forms submit when a select or date changes, dropping empty fields so links stay short.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function (ev) {
      var t = ev.target;
      if (t.tagName === "SELECT" || t.type === "date") {
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }
    });
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name && el.value === "") { el.disabled = true; }
      });
    });
  });

  // A running catalog sync refreshes its progress bar until it ends.
  var run = document.getElementById("sync-run");
  if (run && run.getAttribute("data-status") === "running") {
    window.setTimeout(function () { window.location.reload(); }, 1000);
  }
})();
