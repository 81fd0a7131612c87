/* Bandeja: the live inbox. One EventSource per tab (docs/realtime.md); every event is passed on
   as a `bandeja:event` DOM event (presence.js, notifications.js and composer.js listen), and
   this file keeps the list, the view counts and the open thread up to date. */
(function () {
  "use strict";
  if (!window.EventSource || !document.body.dataset.user) return;

  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));
  const me = document.body.dataset.user;

  // Runs fn once, ms after the first call; calls meanwhile join it. (Not a debounce: a steady
  // stream of events must not postpone the update for ever.)
  function soon(fn, ms) {
    let timer = null;
    return () => {
      if (timer !== null) return;
      timer = setTimeout(() => { timer = null; fn(); }, ms);
    };
  }

  // --- The open thread and the view counts --------------------------------------------------
  const refreshThread = soon(() => {
    if ($("#thread")) htmx.trigger(document.body, "thread-changed");
  }, 200);
  // The pane's head (status, assignee, tags, priority) when someone else changed them; not while
  // one of its menus is open: the agent is about to act, and their action brings a fresh head.
  const refreshHead = soon(() => {
    const head = $("#pane-head");
    const pane = $("#conversation");
    if (!head || !pane || $("details.menu[open]", head)) return;
    htmx.ajax("GET", "/inbox/c/" + pane.dataset.id + "/head", { source: head, target: head, swap: "outerHTML" });
  }, 200);
  const refreshViews = soon(() => {
    if (!$("#views")) return;
    const current = $("#views [aria-current=page]");
    const view = current ? current.dataset.view : "";
    htmx.ajax("GET", "/inbox/views?view=" + encodeURIComponent(view || ""), { source: "#views", target: "#views", swap: "innerHTML" });
  }, 250);

  // --- The list ----------------------------------------------------------------------------
  // The list re-sorts in place (its first page is asked for again) unless the agent is busy with
  // it: rows ticked for a bulk action, "Load more" pressed, or the list scrolled down. Then rows
  // must not move under the cursor: the rows shown are updated where they stand and the "New
  // activity" button offers the new order. While the pointer moves over the list (about to
  // click a row) the refresh waits until it rests.
  const POINTER_REST_MS = 800;
  let pointerMovedAt = 0;
  let pendingIds = new Set();
  let everything = false; // a reset or a merge: every row shown may have changed
  let listTimer = null;
  let requests = 0;

  document.addEventListener("pointermove", (event) => {
    if (event.target.closest && event.target.closest("#rows")) pointerMovedAt = Date.now();
  }, { passive: true });

  function rowsBox() { return $("#rows"); }
  function shownRows() { return $$("#rows li.row"); }

  function busyWithList() {
    const box = rowsBox();
    const list = $("#list");
    if (!box || !list) return true;
    if ($$("input.pick:checked").length) return true;
    if (box.dataset.loadedMore || shownRows().length > parseInt(box.dataset.pageSize || "50", 10)) return true;
    return list.scrollTop > 4;
  }

  // A burst of events (a bulk action, a busy hour) makes one read of the list: each open
  // browser asks for it, so the wait trades a little latency for far fewer requests.
  const LIST_WAIT_MS = 250;
  function scheduleList(delay) {
    if (listTimer !== null && delay === undefined) return; // one is coming
    clearTimeout(listTimer);
    listTimer = setTimeout(() => { listTimer = null; applyList(); }, delay === undefined ? LIST_WAIT_MS : delay);
  }

  function applyList() {
    if (!rowsBox()) { pendingIds.clear(); everything = false; return; }
    const rest = Date.now() - pointerMovedAt;
    if (rest < POINTER_REST_MS) { scheduleList(POINTER_REST_MS - rest + 20); return; }
    const ids = everything ? shownRows().map((r) => r.dataset.id) : Array.from(pendingIds);
    pendingIds = new Set();
    everything = false;
    if (busyWithList()) {
      patchRows(ids);
      const fresh = $("#list-fresh");
      if (fresh) fresh.hidden = false;
    } else {
      refreshRows();
    }
  }

  function fragment(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  async function fetchRows(extra) {
    const box = rowsBox();
    const query = box.dataset.query || "";
    let response;
    try {
      response = await fetch("/inbox/rows?" + query + extra, {
        credentials: "same-origin",
        // As htmx asks: an ended session then answers HX-Redirect, not the login page's HTML.
        headers: { "HX-Request": "true" },
      });
    } catch (_ignored) {
      return null; // offline: the stream reconnects and replays, or resets
    }
    // The session ended: to the login page, as htmx would go.
    const away = response.headers.get("HX-Redirect");
    if (away) { window.location.href = away; return null; }
    if (response.status === 401) { window.location.reload(); return null; }
    if (!response.ok) return null;
    return fragment(await response.text());
  }

  // Whatever the agent had on a row (ticked, the keyboard's current row, the open one) stays.
  function rowState() {
    const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("#rows li.row");
    const current = $("#rows li.row.current");
    return {
      picked: new Set($$("input.pick:checked").map((box) => box.value)),
      current: current ? current.dataset.id : null,
      focused: focused ? focused.dataset.id : null,
    };
  }

  function restore(state, root) {
    const pane = $("#conversation");
    const openId = pane ? pane.dataset.id : null;
    for (const row of $$("li.row", root)) {
      const id = row.dataset.id;
      row.classList.toggle("open", id === openId);
      row.classList.toggle("current", id === state.current);
      const pick = $("input.pick", row);
      if (pick) pick.checked = state.picked.has(id);
      if (id === state.focused) {
        const link = $("a.row-link", row);
        if (link) link.focus({ preventScroll: true });
      }
    }
  }

  // The conversation the agent works on keeps its row, where it was, even when it has left the
  // view (assigned away from "Unassigned", completed): it goes at the next refresh after the
  // agent has moved on, so that the list does not jump while they act on it.
  function keepOpenRow(content) {
    const pane = $("#conversation");
    const row = pane && document.getElementById("row-" + pane.dataset.id);
    if (!row || content.querySelector("#" + row.id)) return;
    const at = shownRows().indexOf(row);
    const before = content.querySelectorAll("li.row")[at] || content.querySelector("li.more");
    const empty = content.querySelector("li.no-rows");
    if (empty) empty.remove();
    if (before) before.before(row);
    else content.appendChild(row);
  }

  async function refreshRows() {
    const ticket = ++requests;
    const content = await fetchRows("");
    // Stale (a newer refresh started) or the agent got busy with the list meanwhile.
    if (!content || ticket !== requests) return;
    if (busyWithList()) { everything = true; scheduleList(0); return; }
    const box = rowsBox();
    const state = rowState();
    keepOpenRow(content);
    const total = content.querySelector("template[data-list-total]");
    if (total) {
      const shown = $("#list-total");
      if (shown) shown.textContent = total.content.textContent;
      total.remove();
    }
    box.replaceChildren(content);
    htmx.process(box);
    restore(state, box);
    const fresh = $("#list-fresh");
    if (fresh) fresh.hidden = true;
    document.dispatchEvent(new CustomEvent("bandeja:rows"));
  }

  async function patchRows(ids) {
    const shown = ids.filter((id) => document.getElementById("row-" + id)).slice(0, 50);
    if (!shown.length) return;
    const content = await fetchRows(shown.map((id) => "&id=" + encodeURIComponent(id)).join(""));
    if (!content) return;
    const state = rowState();
    for (const row of Array.from(content.querySelectorAll("li.row"))) {
      const old = document.getElementById(row.id);
      if (!old) continue;
      old.replaceWith(row);
      htmx.process(row);
      restore(state, row.parentNode);
    }
    document.dispatchEvent(new CustomEvent("bandeja:rows"));
  }

  // "Load more" leaves more than one page: remember it even when a page had fewer rows.
  document.addEventListener("htmx:beforeRequest", (event) => {
    const li = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("#rows li.more");
    if (li) {
      const box = rowsBox();
      if (box) box.dataset.loadedMore = "1";
    }
  });
  // A new list (another view, a filter, "New activity") starts at its first page again.
  document.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.target && event.detail.target.id === "list") document.dispatchEvent(new CustomEvent("bandeja:rows"));
  });

  // --- Events ------------------------------------------------------------------------------
  const LIST_EVENTS = new Set(["conversation.created", "message.created", "conversation.changed"]);
  const ROW_EVENTS = new Set(["conversation.read"]);
  const HEAD_FIELDS = new Set(["assignee_id", "team_id", "status", "follow_up_until", "priority", "tag_ids"]);
  const THREAD_EVENTS = new Set(["message.created", "message.changed", "note.created", "conversation.changed"]);

  function apply(data) {
    if (data.type === "reset") {
      // What was missed is no longer kept: read everything again.
      everything = true;
      scheduleList(0);
      refreshViews();
      refreshThread();
      refreshHead();
      return;
    }
    const open = $("#conversation");
    if (open && String(data.conversation_id) === open.dataset.id) {
      if (THREAD_EVENTS.has(data.type)) refreshThread();
      if (data.type === "conversation.changed" && String(data.actor_user_id) !== me
          && Object.keys(data.changes || {}).some((field) => HEAD_FIELDS.has(field))) refreshHead();
    }
    if (LIST_EVENTS.has(data.type)) {
      refreshViews();
      pendingIds.add(String(data.conversation_id));
      scheduleList();
    } else if (ROW_EVENTS.has(data.type)) {
      if (document.getElementById("row-" + data.conversation_id)) patchRows([String(data.conversation_id)]);
    } else if (data.type === "contacts.merged") {
      everything = true;
      scheduleList();
    } else if (data.type === "workspace.changed") {
      refreshViews();
      if (data.what === "tags" || data.what === "users" || data.what === "channel_accounts") {
        everything = true;
        scheduleList();
      }
    }
  }

  const cursor = document.body.dataset.eventsCursor;
  const stream = new EventSource("/api/v1/events/stream" + (cursor ? "?last_event_id=" + encodeURIComponent(cursor) : ""));
  stream.onmessage = (message) => {
    let data;
    try { data = JSON.parse(message.data); } catch (_ignored) { return; }
    if (!data || typeof data.type !== "string") return;
    apply(data);
    document.dispatchEvent(new CustomEvent("bandeja:event", { detail: data }));
  };
  window.bandejaLive = { stream, me };
})();
