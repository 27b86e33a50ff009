// Herald chat: reads the /msgs NDJSON stream (one {"msg":[...]} state per line, newest first) and posts
// {user, text}. No framework. Everything user-supplied is rendered with textContent, never as HTML.
(() => {
  "use strict";

  const ENDPOINT = "/msgs";          // an absolute route: the page works at / and under any folder
  const BACKOFF_MIN = 500;           // ms before the first reconnect
  const BACKOFF_MAX = 15000;         // ms, the cap of the exponential backoff
  const SILENCE_LIMIT = 65000;       // ms without any byte (the server sends a heartbeat every 20 s) = dead stream

  const $ = (id) => document.getElementById(id);
  const statusEl = $("status"), statusText = $("status-text"), list = $("messages"), empty = $("empty");
  const errorEl = $("error"), form = $("compose"), userEl = $("user"), textEl = $("text"), sendEl = $("send");

  const nodes = new Map();           // message id -> <li>, so a repeated state only moves what changed
  let attempt = 0, retryTimer = null, controller = null, watchdog = null, lastByte = 0;

  // ---- status: only says "live" once a state document has actually arrived on the current stream

  function setStatus(state, text) {
    statusEl.dataset.state = state;
    statusText.textContent = text;
    document.body.dataset.status = state;
  }

  function showError(text) {
    errorEl.textContent = text || "";
    errorEl.hidden = !text;
  }

  // ---- rendering

  function render(msgs) {
    const wanted = new Set();
    const atBottom = list.parentElement.scrollHeight - list.parentElement.scrollTop - list.parentElement.clientHeight < 40;
    // the wire is newest first; the page shows oldest at the top
    for (let i = msgs.length - 1; i >= 0; i--) {
      const m = msgs[i];
      if (!m || typeof m !== "object") continue;
      const id = String(m.id ?? (m.time + ":" + m.user + ":" + m.text)); // the course's server sends no id
      if (wanted.has(id)) continue;                                      // dedupe by id
      wanted.add(id);
      let li = nodes.get(id);
      if (!li) {
        li = messageNode(id, m);
        nodes.set(id, li);
      }
      list.appendChild(li); // appending an existing node moves it: the list ends up in state order
    }
    for (const [id, li] of nodes) {
      if (!wanted.has(id)) { li.remove(); nodes.delete(id); }
    }
    empty.hidden = nodes.size > 0;
    if (atBottom) list.parentElement.scrollTop = list.parentElement.scrollHeight;
  }

  function messageNode(id, m) {
    const li = document.createElement("li");
    li.dataset.id = id;
    const meta = document.createElement("div");
    meta.className = "meta";
    const user = document.createElement("span");
    user.className = "user";
    user.textContent = String(m.user ?? "");
    const time = document.createElement("time");
    const t = Number(m.time);
    if (Number.isFinite(t)) {
      const d = new Date(t);
      time.dateTime = d.toISOString();
      time.textContent = d.toLocaleString();
    }
    meta.append(user, time);
    const text = document.createElement("p");
    text.className = "text";
    text.textContent = String(m.text ?? "");
    li.append(meta, text);
    return li;
  }

  // ---- the stream

  function handleLine(line) {
    if (line.trim() === "") return;          // heartbeat (empty line)
    let doc;
    try {
      doc = JSON.parse(line);
    } catch (e) {
      console.warn("chat: skipping a line that is not JSON", e);
      return;
    }
    if (doc && Array.isArray(doc.msg)) {
      if (statusEl.dataset.state !== "live") setStatus("live", "live");
      attempt = 0;                             // a healthy stream resets the backoff
      render(doc.msg);
    }
  }

  async function connect() {
    clearTimeout(retryTimer);
    if (controller) controller.abort();
    const ctl = new AbortController();
    controller = ctl;
    setStatus("connecting", attempt === 0 ? "connecting…" : "reconnecting…");
    let reason = "connection lost";
    try {
      const res = await fetch(ENDPOINT, { cache: "no-store", signal: ctl.signal, headers: { accept: "application/x-ndjson" } });
      if (!res.ok) {
        reason = await errorText(res);
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) showError(reason);
        throw new Error(reason);
      }
      if (!res.body) throw new Error("this browser cannot read streams");
      const reader = res.body.getReader();
      const decoder = new TextDecoder("utf-8");
      let buffered = "";
      lastByte = Date.now();
      armWatchdog(ctl);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) { reason = "the server ended the stream"; break; }
        lastByte = Date.now();
        buffered += decoder.decode(value, { stream: true });
        // a chunk is not a document: split on newlines and keep the unfinished tail for the next read
        let nl;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          handleLine(line);
        }
      }
      buffered += decoder.decode();
      if (buffered) handleLine(buffered);
    } catch (e) {
      if (controller !== ctl) return; // replaced by a newer connection
    } finally {
      clearInterval(watchdog);
    }
    if (controller !== ctl) return;
    scheduleReconnect(reason);
  }

  function armWatchdog(ctl) {
    clearInterval(watchdog);
    watchdog = setInterval(() => {
      if (Date.now() - lastByte > SILENCE_LIMIT) {
        ctl.abort(); // silence beyond the heartbeat: the connection is dead even if the socket did not say so
      }
    }, 5000);
  }

  function scheduleReconnect(reason) {
    const base = Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** attempt);
    const delay = Math.round(base / 2 + Math.random() * base / 2); // jitter, so a restart is not a stampede
    attempt++;
    const until = Date.now() + delay;
    const tick = () => {
      const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      setStatus("offline", `offline (${reason}), retrying in ${left} s`);
    };
    tick();
    const countdown = setInterval(tick, 1000);
    const now = () => {
      clearInterval(countdown);
      clearTimeout(retryTimer);
      window.removeEventListener("online", now);
      connect();
    };
    retryTimer = setTimeout(now, delay);
    window.addEventListener("online", now); // retry at once when the browser says the network is back
  }

  async function errorText(res) {
    try {
      const j = await res.clone().json();
      if (j && (j.error || j.detail)) return [j.error, j.detail].filter(Boolean).join(": ");
    } catch (e) { /* not JSON */ }
    try {
      const t = (await res.text()).trim();
      if (t) return `${res.status}: ${t.slice(0, 200)}`;
    } catch (e) { /* no body */ }
    return `${res.status} ${res.statusText}`.trim();
  }

  // ---- sending

  async function send(ev) {
    ev.preventDefault();
    const user = userEl.value.trim(), text = textEl.value;
    if (!user || !text.trim()) { showError("Enter a name and a message."); return; }
    sendEl.disabled = true;
    try {
      const res = await fetch(ENDPOINT, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ user, text }),
      });
      if (res.ok) {
        showError("");
        textEl.value = "";
        try { localStorage.setItem("herald-chat-user", user); } catch (e) { /* storage disabled */ }
        const m = await res.json().catch(() => null);
        if (m && m.id && statusEl.dataset.state !== "live") {
          // offline: show our own message now; the next state from the server confirms it
          const li = nodes.get(String(m.id)) || messageNode(String(m.id), m);
          nodes.set(String(m.id), li);
          list.appendChild(li);
          empty.hidden = true;
        }
      } else {
        showError(`Not sent: ${await errorText(res)}`);
      }
    } catch (e) {
      showError("Not sent: the server cannot be reached. Try again when the status is live.");
    } finally {
      sendEl.disabled = false;
      textEl.focus();
    }
  }

  form.addEventListener("submit", send);
  textEl.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  try { userEl.value = localStorage.getItem("herald-chat-user") || ""; } catch (e) { /* storage disabled */ }
  empty.hidden = false;
  connect();
})();
