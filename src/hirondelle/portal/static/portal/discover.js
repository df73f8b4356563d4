// Discovery's progress: poll a small JSON endpoint while the search runs on
// the server, and show the page again once it is finished.
"use strict";

(() => {
  const box = document.getElementById("discover-progress");
  if (!box) return;
  const t = JSON.parse(document.getElementById("discover-i18n").textContent);
  const running = ["queued", "running", "waiting"];
  if (!running.includes(box.dataset.state)) return;

  function duration(seconds) {
    if (seconds < 90) return Math.max(1, Math.round(seconds)) + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    if (seconds < 172800) return Math.round(seconds / 3600) + " h";
    return Math.round(seconds / 86400) + " d";
  }

  async function poll() {
    try {
      const answer = await fetch(box.dataset.url, { credentials: "same-origin" });
      if (!answer.ok) return;
      const p = await answer.json();
      if (!running.includes(p.state)) {
        window.location.reload();
        return;
      }
      const bar = box.querySelector("progress");
      bar.max = p.total || 1;
      bar.value = p.searched;
      box.querySelector("#discover-count").textContent = t.searched
        .replace("%(searched)s", p.searched.toLocaleString())
        .replace("%(total)s", p.total.toLocaleString());
      box.querySelector(".eta").textContent =
        p.eta_seconds > 0 ? t.eta.replace("%(time)s", duration(p.eta_seconds)) : "";
    } finally {
      window.setTimeout(poll, 3000);
    }
  }
  window.setTimeout(poll, 1000);
})();
