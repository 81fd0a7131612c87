/* Bandeja: presence. Says which conversation this tab has open (a heartbeat) and when the agent
   types in the composer; shows teammates viewing or typing, in the conversation pane and on the
   rows of the list. What others do arrives as `presence.changed` on the event stream (live.js):
   no polling. See docs/realtime.md, "Presence". */
(function () {
  "use strict";
  if (!document.body.dataset.user) return;

  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));
  const me = document.body.dataset.user;
  const TYPING_IDLE_MS = 4000;

  // conversation id -> (user id -> {name, state}); the whole workspace, as far as I may see it.
  const people = new Map();
  let ttl = 20;

  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"] || "";
    } catch (_ignored) {
      return "";
    }
  }

  function put(conversationId, userId, name, state) {
    const key = String(conversationId);
    let here = people.get(key);
    if (!state) {
      if (here) {
        here.delete(String(userId));
        if (!here.size) people.delete(key);
      }
      return;
    }
    if (!here) people.set(key, (here = new Map()));
    here.set(String(userId), { name, state });
  }

  function others(conversationId) {
    const here = people.get(String(conversationId));
    if (!here) return [];
    return Array.from(here.entries())
      .filter(([userId]) => userId !== me)
      .map(([userId, entry]) => ({ userId, ...entry }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  // --- Showing -------------------------------------------------------------------------------
  function initials(name) {
    const parts = (name || "?").trim().split(/\s+/);
    return ((parts[0] || "?")[0] + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
  }

  function say(template, name) {
    return (template || "{name}").replace("{name}", name);
  }

  function avatar(person, size) {
    const span = document.createElement("span");
    span.className = "avatar avatar-" + size + " presence-avatar" + (person.state === "viewing" ? "" : " typing");
    span.dataset.hue = String(parseInt(person.userId, 10) % 8);
    span.dataset.user = person.userId;
    span.dataset.state = person.state;
    const label = say(
      person.state === "viewing" ? document.body.dataset.msgViewing
        : person.state === "typing_note" ? document.body.dataset.msgTypingNote
          : document.body.dataset.msgTypingReply,
      person.name,
    );
    span.title = label;
    span.setAttribute("role", "img");
    span.setAttribute("aria-label", label);
    span.textContent = initials(person.name);
    return span;
  }

  function paintRow(row) {
    const found = others(row.dataset.id);
    let box = $(".row-presence", row);
    if (!found.length) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      box = document.createElement("span");
      box.className = "row-presence";
      const when = $(".row-top .when", row);
      if (when) when.before(box);
      else row.appendChild(box);
    }
    box.replaceChildren(...found.slice(0, 3).map((person) => avatar(person, "xs")));
  }

  function paintPane() {
    const bar = $("#presence-bar");
    if (!bar) return;
    const found = others(bar.dataset.conversation);
    $("[data-presence-avatars]", bar).replaceChildren(...found.map((person) => avatar(person, "sm")));
    const typing = found.filter((person) => person.state !== "viewing");
    $("[data-presence-typing]", bar).textContent = typing
      .map((person) => say(person.state === "typing_note" ? document.body.dataset.msgTypingNote : document.body.dataset.msgTypingReply, person.name))
      .join(" ");
    bar.classList.toggle("active", found.length > 0);
  }

  function paint(conversationId) {
    const rows = conversationId === undefined ? $$("#rows li.row") : [document.getElementById("row-" + conversationId)].filter(Boolean);
    rows.forEach(paintRow);
    paintPane();
  }

  async function load() {
    try {
      const response = await fetch("/api/v1/presence", { credentials: "same-origin" });
      if (!response.ok) return;
      const body = await response.json();
      ttl = body.ttl_s || ttl;
      people.clear();
      for (const item of body.items) put(item.conversation_id, item.user_id, item.name, item.state);
      paint();
    } catch (_ignored) { /* offline: the stream's reset will bring it back */ }
  }

  document.addEventListener("bandeja:event", (event) => {
    const data = event.detail;
    if (data.type === "presence.changed") {
      put(data.conversation_id, data.user_id, data.name, data.state);
      paint(data.conversation_id);
    } else if (data.type === "reset") {
      load();
    }
  });
  document.addEventListener("bandeja:rows", () => paint());

  // --- Telling ------------------------------------------------------------------------------
  let openId = null; // the conversation this tab shows
  let mine = null; // what I do there: viewing, typing_reply, typing_note
  let idleTimer = null;
  let beatTimer = null;

  function report(conversationId, state, leaving) {
    // keepalive: the request outlives the page (pagehide). sendBeacon cannot carry the CSRF
    // header that every browser request with a session cookie needs.
    return fetch("/api/v1/presence", {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!leaving,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify({ conversation_id: parseInt(conversationId, 10), state }),
    }).catch(() => { /* offline: the entry expires by itself */ });
  }

  function beat() {
    clearTimeout(beatTimer);
    // Three heartbeats per lifetime of an entry: one lost request does not make me vanish.
    const every = Math.max(1000, Math.min(8000, (ttl * 1000) / 3));
    beatTimer = setTimeout(() => {
      if (openId && mine) report(openId, mine);
      beat();
    }, every);
  }

  function follow() {
    const pane = $("#conversation");
    const id = pane ? pane.dataset.id : null;
    if (id === openId) return;
    if (openId) report(openId, null);
    openId = id;
    mine = id ? "viewing" : null;
    clearTimeout(idleTimer);
    if (id) report(id, "viewing");
  }

  function set(state) {
    if (!openId || state === mine) return;
    mine = state;
    report(openId, state);
  }

  document.addEventListener("input", (event) => {
    const area = event.target;
    if (!(area instanceof HTMLTextAreaElement) || !area.closest("[data-composer]")) return;
    follow();
    set(area.closest("#composer-note") ? "typing_note" : "typing_reply");
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => set("viewing"), TYPING_IDLE_MS);
  });

  document.addEventListener("htmx:afterSettle", () => { follow(); paint(); });
  window.addEventListener("pagehide", () => {
    if (openId) report(openId, null, true);
    openId = null;
    mine = null;
  });
  window.addEventListener("pageshow", (event) => {
    // Back from the browser's page cache: this page is open again.
    if (event.persisted) { follow(); load(); }
  });

  load().then(beat);
  follow();
})();
