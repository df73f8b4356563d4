// Live progress: poll a small JSON endpoint; the work itself runs on the server.
"use strict";

(() => {
  const box = document.getElementById("progress");
  if (!box) return;
  const t = JSON.parse(document.getElementById("run-i18n").textContent);

  const lang = document.documentElement.lang || "fr";
  const fmt = (n) => Number(n).toLocaleString(lang);

  function duration(seconds) {
    const u = t.units;
    if (seconds < 90) return fmt(Math.max(1, Math.round(seconds))) + "\u00a0" + u.s;
    if (seconds < 5400) return fmt(Math.round(seconds / 60)) + "\u00a0" + u.min;
    if (seconds < 172800) return fmt(Math.round(seconds / 3600)) + "\u00a0" + u.h;
    return fmt(Math.round(seconds / 86400)) + "\u00a0" + u.d;
  }

  function cell(text, label) {
    const td = document.createElement("td");
    td.textContent = text;
    if (label) { td.dataset.label = label; td.className = "n"; }
    return td;
  }
  const heads = [...box.querySelectorAll("table.kinds thead th")].map((th) => th.textContent);

  function render(account) {
    const card = box.querySelector(
      `[data-network="${CSS.escape(account.network)}"][data-handle="${CSS.escape(account.handle)}"]`
    );
    if (!card) return;
    const bar = card.querySelector("progress");
    bar.max = account.total || 1;
    bar.value = account.finished;
    card.querySelector(".counts").textContent = t.done_of
      .replace("%(done)s", fmt(account.finished)).replace("%(total)s", fmt(account.total));
    const finishedAll = account.total && account.finished >= account.total;
    const eta = card.querySelector(".eta");
    let text = "";
    let cls = "";
    if (account.stopped) text = account.stopped;
    else if (finishedAll && account.failed) {
      const form = new Intl.PluralRules(lang).select(account.failed) === "one" ? "one" : "other";
      text = t.finished_failed[form].replace("%(failed)s", fmt(account.failed));
      cls = "result-bad";
    }
    else if (finishedAll) { text = t.finished; cls = "result-ok"; }
    else if (account.eta_seconds > 0) text = t.eta.replace("%(time)s", duration(account.eta_seconds));
    if (eta.textContent !== text) {
      const span = document.createElement("span");
      span.className = cls;
      span.textContent = text;
      eta.replaceChildren(span);
    }
    // The reasons for failures are drawn by the server: reload once when the
    // work ends with failures the page does not list yet.
    if (finishedAll && account.failed && !card.querySelector(".failures-box") && !sessionStorage.getItem("reloaded-" + account.handle + account.failed)) {
      sessionStorage.setItem("reloaded-" + account.handle + account.failed, "1");
      location.reload();
    }
    const body = card.querySelector("tbody");
    body.replaceChildren();
    for (const [kind, states] of Object.entries(account.items)) {
      const tr = document.createElement("tr");
      tr.dataset.kind = kind;
      const what = document.createElement("td");
      const strong = document.createElement("strong");
      strong.textContent = t.kinds[kind] || kind;
      what.append(strong);
      tr.append(what, cell(fmt((states.pending || 0) + (states.in_flight || 0)), heads[1]),
        cell(fmt(states.done || 0), heads[2]), cell(fmt((states.failed || 0) + (states.skipped || 0)), heads[3]));
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
