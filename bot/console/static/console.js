// The console's only script: live updates over server-sent events, countdowns in the
// reader's own time zone, and the CSRF token added to forms the stream replaced.
"use strict";

(function () {
  const live = document.getElementById("live");
  const status = document.getElementById("connection");
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.getAttribute("content") : "";

  function two(n) {
    return String(n).padStart(2, "0");
  }

  function refreshTimes() {
    const now = Date.now();
    document.querySelectorAll("time.local").forEach(function (el) {
      const at = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(at)) {
        const d = new Date(at);
        el.textContent = two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
      }
    });
    document.querySelectorAll("time.countdown").forEach(function (el) {
      const at = Date.parse(el.getAttribute("datetime"));
      if (isNaN(at)) {
        return;
      }
      const left = Math.max(0, Math.round((at - now) / 1000));
      el.textContent = Math.floor(left / 60) + ":" + two(left % 60);
    });
  }

  document.addEventListener("submit", function (event) {
    const question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    const field = event.target.elements.namedItem("csrf");
    if (field && !field.value) {
      field.value = csrf;
    }
  });

  if (live && window.EventSource) {
    const source = new EventSource(live.getAttribute("data-events"));
    source.addEventListener("open", function () {
      status.textContent = "live";
      status.setAttribute("data-state", "live");
    });
    source.addEventListener("error", function () {
      status.textContent = "reconnecting…";
      status.setAttribute("data-state", "reconnecting");
    });
    source.addEventListener("state", function (event) {
      // Server-rendered: post bodies are sanitized there, as in the transcript.
      live.innerHTML = JSON.parse(event.data).html;
      refreshTimes();
    });
  }
  refreshTimes();
  window.setInterval(refreshTimes, 1000);
})();
