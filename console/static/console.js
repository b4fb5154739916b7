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

  // A form marked data-once is submitted once: a double click does not send twice (the
  // server also keys the send by the form's nonce).
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (form.getAttribute("data-sent")) {
        ev.preventDefault();
        return;
      }
      form.setAttribute("data-sent", "1");
      Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (b) {
        b.disabled = true;
      });
    });
  });

  // A running catalog sync: poll its progress and move the bar until it ends, then reload
  // once so the history shows the finished run.
  var run = document.getElementById("sync-run");
  if (run && run.getAttribute("data-status") === "running") {
    var id = run.getAttribute("data-run");
    var set = function (elID, text) {
      var el = document.getElementById(elID);
      if (el) { el.textContent = text; }
    };
    var poll = function () {
      fetch("/console/catalog/sync/" + encodeURIComponent(id), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      }).then(function (p) {
        var bar = document.getElementById("sync-progress");
        if (bar) { bar.value = p.percent; bar.textContent = p.percent + " %"; }
        set("sync-percent", p.percent + " %");
        set("sync-status", p.status);
        set("sync-phase", p.phase);
        var c = p.counts || {};
        set("sync-counts", "categories " + c.categories_done + "/" + c.categories_total + " · seen " + c.seen +
          " · added " + c.added + " · updated " + c.updated + " · unchanged " + c.unchanged + " · failed " + c.failed +
          " · deactivated " + c.deactivated + " · embedded " + c.embedded);
        run.setAttribute("data-status", p.status);
        if (p.done) {
          window.setTimeout(function () { window.location.replace("/console/catalog?run=" + encodeURIComponent(id)); }, 800);
        } else {
          window.setTimeout(poll, 700);
        }
      }).catch(function () {
        window.setTimeout(poll, 3000); // the server restarting is no reason to stop watching
      });
    };
    window.setTimeout(poll, 500);
  }
})();
