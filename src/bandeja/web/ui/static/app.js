/* Bandeja: keyboard shortcuts, menus, bulk selection and error toasts. htmx does the rest. */
(function () {
  "use strict";

  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  // --- Toasts: an action refused by the server says why ----------------------------------
  function toast(text, kind) {
    const box = $("#toasts");
    if (!box || !text) return;
    const item = document.createElement("div");
    item.className = "toast" + (kind ? " toast-" + kind : "");
    item.textContent = text;
    box.appendChild(item);
    setTimeout(() => item.remove(), 6000);
  }
  window.bandejaToast = toast;

  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    if (xhr.status === 401) {
      window.location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
      return;
    }
    let message = document.body.dataset.msgError;
    try {
      const body = JSON.parse(xhr.responseText);
      if (body && body.error && body.error.message) message = body.error.message;
    } catch (_ignored) { /* an HTML answer: keep the generic message */ }
    toast(message, "error");
  });
  document.addEventListener("htmx:sendError", () => toast(document.body.dataset.msgOffline, "error"));

  // --- The browser's time zone, so that times and follow-up presets are the agent's own ----
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && zone !== document.body.dataset.tz && document.body.hasAttribute("hx-headers")) {
      const headers = JSON.parse(document.body.getAttribute("hx-headers"));
      if (headers["X-CSRF-Token"]) {
        fetch("/ui/timezone", {
          method: "POST",
          headers: { "X-CSRF-Token": headers["X-CSRF-Token"], "Content-Type": "application/x-www-form-urlencoded" },
          body: "tz=" + encodeURIComponent(zone),
          credentials: "same-origin",
        });
      }
    }
  } catch (_ignored) { /* no Intl: the workspace's zone is used */ }

  // --- Selects that act on change ------------------------------------------------------------
  document.addEventListener("change", (event) => {
    const select = event.target.closest("select[data-autosubmit]");
    if (select && select.value && select.form) {
      if (select.form.hasAttribute("hx-post")) htmx.process(select.form);
      select.form.requestSubmit();
    }
  });

  // --- Bulk selection ------------------------------------------------------------------------
  function bulkUpdate() {
    const form = $("#bulk-form");
    if (!form) return;
    const picked = $$("input.pick:checked");
    form.hidden = picked.length === 0;
    const counter = $("[data-bulk-count]", form);
    if (counter) counter.textContent = (counter.dataset.msg || "{n}").replace("{n}", picked.length);
  }
  function bulkSubmit(action, value) {
    const form = $("#bulk-form");
    form.elements.action.value = action;
    form.elements.value.value = value || "";
    form.requestSubmit();
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches("input.pick")) bulkUpdate();
    const chooser = event.target.closest("[data-bulk-value]");
    if (chooser && chooser.value) bulkSubmit(chooser.dataset.bulkValue, chooser.value);
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-bulk-action]");
    if (button) bulkSubmit(button.dataset.bulkAction, "");
    if (event.target.closest("[data-action='bulk-clear']")) {
      $$("input.pick:checked").forEach((box) => { box.checked = false; });
      bulkUpdate();
    }
    if (event.target.closest("[data-action='shortcuts']")) showShortcuts();
  });
  document.addEventListener("htmx:afterSettle", bulkUpdate);

  // --- The list's current row ----------------------------------------------------------------
  function rows() { return $$("#rows li.row"); }
  function currentRow() { return $("#rows li.row.current"); }
  function setCurrent(row) {
    rows().forEach((r) => r.classList.remove("current"));
    if (!row) return;
    row.classList.add("current");
    const link = $("a.row-link", row);
    if (link) link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    const all = rows();
    if (!all.length) return;
    const at = all.indexOf(currentRow() || openRow());
    const next = all[Math.min(all.length - 1, Math.max(0, at < 0 ? 0 : at + step))];
    setCurrent(next);
  }
  function openRow() {
    const open = $("#conversation");
    return open ? document.getElementById("row-" + open.dataset.id) : null;
  }
  // The row of the open conversation is the current one.
  document.addEventListener("htmx:afterSettle", () => {
    const row = openRow();
    rows().forEach((r) => r.classList.toggle("open", r === row));
  });

  // The view list keeps its counts when the list changes; its highlight follows the list.
  document.addEventListener("htmx:afterSettle", (event) => {
    if (!event.detail.target || event.detail.target.id !== "list") return;
    const input = $("#filters input[name=view]");
    if (!input) return;
    $$("#views .view-link").forEach((link) => {
      if (link.dataset.view === input.value) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
  });

  // --- The thread opens at its newest entry, the one the agent answers ------------------------
  // It stays there when it reloads (a reply sent, a teammate's note), unless the agent had
  // scrolled up to read older entries: then it keeps their place.
  const threadScroll = { key: null, top: 0, atBottom: true };
  function noteThreadScroll(thread) {
    threadScroll.key = thread.getAttribute("hx-get");
    threadScroll.top = thread.scrollTop;
    threadScroll.atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 24;
  }
  document.addEventListener("scroll", (event) => {
    if (event.target instanceof Element && event.target.id === "thread") noteThreadScroll(event.target);
  }, true);
  function placeThread() {
    const thread = document.getElementById("thread");
    if (!thread || thread.dataset.placed) return;
    thread.dataset.placed = "1";
    const same = threadScroll.key === thread.getAttribute("hx-get");
    thread.scrollTop = same && !threadScroll.atBottom ? threadScroll.top : thread.scrollHeight;
    noteThreadScroll(thread);
    // The composer arrives after the thread and takes its share of the pane: the thread gets
    // shorter without scrolling, and would leave its newest entry below the fold.
    if (window.ResizeObserver) {
      new ResizeObserver(() => {
        if (threadScroll.atBottom && thread.isConnected) thread.scrollTop = thread.scrollHeight;
      }).observe(thread);
    }
  }
  document.addEventListener("htmx:load", placeThread);
  // An image that arrives late makes the thread taller: keep the newest entry in sight.
  document.addEventListener("load", (event) => {
    const thread = event.target instanceof HTMLImageElement && event.target.closest("#thread");
    if (thread && threadScroll.atBottom) thread.scrollTop = thread.scrollHeight;
  }, true);
  placeThread();

  // --- Menus of the conversation pane --------------------------------------------------------
  function openMenu(name) {
    const menu = $("#conversation details[data-menu='" + name + "']");
    if (!menu) return;
    $$("#conversation details.menu[open]").forEach((d) => { if (d !== menu) d.open = false; });
    menu.open = true;
    const first = $("select, input:not([type=hidden]), button", $(".menu-body", menu));
    if (first) first.focus();
  }
  document.addEventListener("click", (event) => {
    // A click elsewhere closes an open menu.
    $$("details.menu[open]").forEach((d) => { if (!d.contains(event.target)) d.open = false; });
  });

  function compose(mode) {
    // The composer listens for this event; if it does not, its tab and textarea are focused.
    const handled = !document.dispatchEvent(new CustomEvent("bandeja:compose", { detail: { mode }, cancelable: true }));
    if (handled) return;
    const tab = $("#composer [data-composer-tab='" + mode + "']");
    if (tab) tab.click();
    const area = $("#composer-" + mode + " textarea") || $("#composer textarea");
    if (area) area.focus();
  }

  function showShortcuts() {
    const dialog = $("#shortcuts");
    if (dialog && !dialog.open) dialog.showModal();
  }

  // Live updates (the event stream, presence, notifications): live.js, presence.js and
  // notifications.js.

  // --- Keyboard ------------------------------------------------------------------------------
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");
  }
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      if (typing(event.target)) event.target.blur();
      $$("details.menu[open]").forEach((d) => { d.open = false; });
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if ($("dialog[open]")) return;
    const actions = {
      j: () => move(1),
      k: () => move(-1),
      Enter: () => {
        const row = currentRow();
        if (!row) return false;
        $("a.row-link", row).click();
      },
      r: () => compose("reply"),
      n: () => compose("note"),
      e: () => {
        const button = $("#conversation [data-key='e']");
        if (!button) return;
        // Just swapped in, the form may not be wired to htmx yet (that happens as it settles).
        htmx.process(button.form);
        button.click();
      },
      f: () => openMenu("follow-up"),
      a: () => openMenu("assign"),
      t: () => openMenu("tag"),
      "/": () => { const q = $("#q"); if (q) { q.focus(); q.select(); } },
      "?": () => showShortcuts(),
    };
    const act = actions[event.key];
    if (!act) return;
    if (act() === false) return;
    event.preventDefault();
  });
})();
