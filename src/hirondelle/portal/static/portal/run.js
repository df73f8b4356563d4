// Live progress: poll a small JSON endpoint; the work itself runs on the server.
"use strict";

(() => {
  const box = document.getElementById("progress");
  if (!box) return;
  const t = JSON.parse(document.getElementById("run-i18n").textContent);

  function duration(seconds) {
    if (seconds < 90) return Math.max(1, Math.round(seconds)) + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    if (seconds < 172800) return Math.round(seconds / 3600) + " h";
    return Math.round(seconds / 86400) + " d";
  }

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function render(account) {
    const card = box.querySelector(
      `[data-network="${CSS.escape(account.network)}"][data-handle="${CSS.escape(account.handle)}"]`
    );
    if (!card) return;
    const bar = card.querySelector("progress");
    bar.max = account.total || 1;
    bar.value = account.finished;
    card.querySelector(".counts").textContent = t.done_of
      .replace("%(done)s", account.finished).replace("%(total)s", account.total);
    let eta = "";
    if (account.status !== "active") eta = t.stopped.replace("%(why)s", account.status);
    else if (account.total && account.finished >= account.total) eta = t.finished;
    else if (account.eta_seconds > 0) eta = t.eta.replace("%(time)s", duration(account.eta_seconds));
    card.querySelector(".eta").textContent = eta;
    const body = card.querySelector("tbody");
    body.replaceChildren();
    for (const [kind, states] of Object.entries(account.items)) {
      const tr = document.createElement("tr");
      tr.dataset.kind = kind;
      tr.append(cell(t.kinds[kind] || kind), cell((states.pending || 0) + (states.in_flight || 0)),
        cell(states.done || 0), cell(states.failed || 0));
      body.append(tr);
    }
  }

  async function poll() {
    try {
      const response = await fetch(box.dataset.url, { credentials: "same-origin" });
      if (response.ok) {
        const data = await response.json();
        data.accounts.forEach(render);
        box.dataset.updated = String(Date.now());
      }
    } catch (e) {
      // The server may restart; keep polling.
    }
    setTimeout(poll, 2000);
  }
  poll();
})();
