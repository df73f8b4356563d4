// The upload page: open the archive here, show what will and will not be
// sent, then send only the needed files, chunk by chunk, resumably.
"use strict";

(() => {
  const root = document.getElementById("upload");
  if (!root) return;
  const t = JSON.parse(document.getElementById("upload-i18n").textContent);
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const CHUNK = Number(root.dataset.chunkBytes);
  const $ = (id) => document.getElementById(id);

  // Mirrors hirondelle.portal.services.uploads.is_allowed (the server checks again).
  const PART = "(?:-part[0-9]{1,3})?\\.js";
  const GRAPH = new RegExp("^(?:data/)?(?:account|profile|manifest|(?:follower|following|block|mute|lists-created|lists-member|lists-subscribed)(?:-part[0-9]{1,3})?)\\.js$");
  const POSTS = new RegExp("^(?:data/)?(?:tweets|tweet|note-tweet|community-tweet)" + PART + "$");
  const MEDIA = /^data\/(?:tweets_media|tweet_media|community_tweet_media|profile_media)\/[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;
  const PRIVATE = /direct-message|message-event|ip-audit|account-creation-ip|device|phone|email|contact|ad-|personalization|key-registry|deleted-|grok-chat|payout/;

  let file = null;
  let entries = [];

  const lang = document.documentElement.lang || "fr";
  const fmt = (n, digits = 0) => n.toLocaleString(lang, { maximumFractionDigits: digits });

  function human(bytes) {
    const units = t.units;
    let i = 0;
    while (bytes >= 1000 && i < units.length - 1) { bytes /= 1000; i++; }
    return fmt(bytes, i ? 1 : 0) + "\u00a0" + units[i];
  }

  // Leaving while files are being sent loses nothing (the upload resumes),
  // but say so before the person leaves.
  let sending = false;
  window.addEventListener("beforeunload", (event) => {
    if (!sending) return;
    event.preventDefault();
    event.returnValue = t.leave;
  });

  function rootPrefix(names) {
    for (const name of names) {
      if (name.startsWith("__MACOSX/")) continue;
      const m = name.match(/^(.*?)(?:data\/)?account\.js$/);
      if (m && !m[1].includes("data/") && (m[1] === "" || m[1].endsWith("/"))) return m[1];
    }
    return null;
  }

  function classify() {
    const republish = $("republish").checked;
    const prefix = rootPrefix(entries.map((e) => e.name));
    const send = [];
    const keep = [];
    for (const entry of entries) {
      if (entry.name.startsWith("__MACOSX/") || prefix === null || !entry.name.startsWith(prefix)) {
        keep.push({ entry, name: entry.name, private: false });
        continue;
      }
      const name = entry.name.slice(prefix.length);
      const ok = GRAPH.test(name) || (republish && (POSTS.test(name) || MEDIA.test(name)));
      if (ok) send.push({ entry, name });
      else keep.push({ entry, name, private: PRIVATE.test(name) });
    }
    return { prefix, send, keep };
  }

  function show() {
    const { prefix, send, keep } = classify();
    $("error").textContent = "";
    if (prefix === null) {
      $("plan").hidden = true;
      $("error").textContent = t.not_archive;
      return;
    }
    const list = $("send-list");
    list.replaceChildren();
    let total = 0;
    for (const item of send) {
      const li = document.createElement("li");
      li.textContent = item.name + " — " + human(item.entry.size);
      list.append(li);
      total += item.entry.size;
    }
    $("send-total").textContent = t.send_total.replace("%(n)s", fmt(send.length)).replace("%(size)s", human(total));
    const priv = keep.filter((k) => k.private).length;
    $("keep-summary").textContent = t.keep_summary.replace("%(n)s", fmt(keep.length)).replace("%(private)s", fmt(priv));
    const keepList = $("keep-list");
    keepList.replaceChildren();
    for (const item of keep.slice(0, 500)) {
      const li = document.createElement("li");
      li.textContent = item.name;
      keepList.append(li);
    }
    $("plan").hidden = false;
  }

  $("archive-file").addEventListener("change", async (event) => {
    file = event.target.files[0] || null;
    if (file) $("file-name").textContent = file.name;
    $("plan").hidden = true;
    $("error").textContent = "";
    if (!file) return;
    $("status").textContent = t.reading;
    try {
      entries = await HirondelleZip.list(file);
      $("status").textContent = "";
      show();
    } catch (e) {
      $("status").textContent = "";
      $("error").textContent = t.not_zip;
    }
  });
  $("republish").addEventListener("change", () => { if (file && entries.length) show(); });

  async function api(url, options = {}) {
    const headers = { "X-CSRFToken": csrf, ...(options.headers || {}) };
    for (let attempt = 0; ; attempt++) {
      let response;
      try {
        response = await fetch(url, { credentials: "same-origin", ...options, headers });
      } catch (e) {
        if (attempt >= 5) throw new Error(t.network_error);
        await new Promise((r) => setTimeout(r, 1000 * 2 ** attempt));
        continue;
      }
      const body = await response.json().catch(() => ({}));
      if (response.status >= 500 && attempt < 5) {
        await new Promise((r) => setTimeout(r, 1000 * 2 ** attempt));
        continue;
      }
      return { status: response.status, body };
    }
  }

  function storageKey() {
    return "hirondelle-upload:" + file.name + ":" + file.size + ":" + file.lastModified + ":" + $("republish").checked;
  }

  async function begin(send) {
    const files = {};
    for (const item of send) files[item.name] = item.entry.size;
    const saved = localStorage.getItem(storageKey());
    if (saved) {
      const { status, body } = await api(root.dataset.baseUrl + saved + "/");
      const same = status === 200 && body.state === "receiving" &&
        JSON.stringify(Object.keys(body.files).sort()) === JSON.stringify(Object.keys(files).sort());
      if (same) return { id: saved, received: body.received };
    }
    const { status, body } = await api(root.dataset.newUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ files, republish: $("republish").checked }),
    });
    if (status !== 201) throw new Error(body.error || t.network_error);
    localStorage.setItem(storageKey(), body.id);
    return { id: body.id, received: body.received };
  }

  async function sendFile(id, item, offset, progress) {
    const url = root.dataset.baseUrl + id + "/file?name=" + encodeURIComponent(item.name);
    if (offset >= item.entry.size && item.entry.size > 0) return;
    if (item.entry.size === 0) {
      const { status, body } = await api(url + "&offset=0", { method: "POST", body: new Uint8Array(0) });
      if (status !== 200) throw new Error(body.error || t.network_error);
      return;
    }
    for await (const chunk of HirondelleZip.chunks(file, item.entry, CHUNK, offset)) {
      const { status, body } = await api(url + "&offset=" + offset, {
        method: "POST",
        headers: { "Content-Type": "application/octet-stream" },
        body: chunk,
      });
      if (status === 409 && typeof body.offset === "number") {
        progress(body.offset - offset);
        return sendFile(id, item, body.offset, progress); // the server knows better: resume there
      }
      if (status !== 200) throw new Error(body.error || t.network_error);
      offset += chunk.length;
      progress(chunk.length);
    }
  }

  async function waitForImport(id) {
    for (;;) {
      const { status, body } = await api(root.dataset.baseUrl + id + "/");
      if (status !== 200) throw new Error(body.error || t.network_error);
      $("status").textContent = (body.progress && body.progress.text) || t.importing;
      if (body.progress && body.progress.total) {
        $("progress").max = body.progress.total;
        $("progress").value = Math.min(body.progress.read, body.progress.total);
        $("progress-text").textContent = "";
      }
      if (body.state === "done") return body;
      if (body.state === "failed") {
        const error = new Error(body.error);
        error.imported = true; // the files arrived; the archive itself was refused
        throw error;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  $("start").addEventListener("click", async () => {
    const { send } = classify();
    $("start").disabled = true;
    $("next").hidden = true;
    $("summary-box").replaceChildren();
    sending = true;
    $("archive-file").disabled = true;
    $("error").textContent = "";
    $("progress-box").hidden = false;
    try {
      const { id, received } = await begin(send);
      const total = send.reduce((n, item) => n + item.entry.size, 0) || 1;
      let done = 0;
      const progress = (bytes) => {
        done += bytes;
        $("progress").value = Math.min(100, (100 * done) / total);
        $("progress-text").textContent = "";
        $("status").textContent = t.sending.replace("%(done)s", human(done)).replace("%(total)s", human(total));
      };
      // Small files travel together (one request for the whole graph of most
      // archives); big ones in resumable chunks.
      let batch = [];
      let batchBytes = 0;
      const flush = async () => {
        if (!batch.length) return;
        const form = new FormData();
        for (const { item, bytes } of batch) form.append(item.name, new Blob([bytes]), item.name);
        const { status, body } = await api(root.dataset.baseUrl + id + "/files", { method: "POST", body: form });
        if (status !== 200) throw new Error(body.error || t.network_error);
        progress(batchBytes);
        batch = [];
        batchBytes = 0;
      };
      for (const item of send) {
        const offset = received[item.name] || 0;
        if (offset >= item.entry.size) { progress(item.entry.size); continue; }
        if (offset === 0 && item.entry.size < CHUNK) {
          if (batchBytes + item.entry.size > CHUNK || batch.length >= 90) await flush();
          let bytes = new Uint8Array(0);
          for await (const chunk of HirondelleZip.chunks(file, item.entry, CHUNK, 0)) bytes = chunk;
          batch.push({ item, bytes });
          batchBytes += bytes.length;
          continue;
        }
        progress(offset);
        await sendFile(id, item, offset, progress);
      }
      await flush();
      const { status, body } = await api(root.dataset.baseUrl + id + "/finish", { method: "POST" });
      if (status !== 200) throw new Error(body.error || t.network_error);
      localStorage.removeItem(storageKey());
      sending = false;
      $("progress").max = 100;
      $("progress").value = 0;
      const imported = await waitForImport(id);
      $("progress").max = 100;
      $("progress").value = 100;
      $("status").textContent = t.imported;
      // Server-rendered and escaped by the page's templates.
      $("summary-box").innerHTML = imported.summary_html || "";
      $("next").hidden = false;
    } catch (e) {
      sending = false;
      $("error").textContent = e.imported ? e.message : e.message + " " + t.retry;
      $("start").disabled = false;
      $("archive-file").disabled = false;
    }
  });
})();
