/* Bandeja: the notification bell. The badge is read once, then follows `notification.created`
   and `notifications.read` on the event stream (live.js); the panel (/ui/notifications) is
   loaded when the bell opens. Opening a notification opens its conversation and marks it read
   (for me only). */
(function () {
  "use strict";
  const bell = document.getElementById("notifications");
  if (!bell) return;
  const badge = document.getElementById("notif-badge");
  const panel = document.getElementById("notif-panel");

  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"] || "";
    } catch (_ignored) {
      return "";
    }
  }

  function setBadge(unread) {
    const count = Math.max(0, parseInt(unread, 10) || 0);
    bell.dataset.unread = String(count);
    badge.textContent = count > 99 ? "99+" : String(count);
    badge.hidden = count === 0;
  }

  async function readBadge() {
    try {
      const response = await fetch("/api/v1/notifications/unread", { credentials: "same-origin" });
      if (response.ok) setBadge((await response.json()).unread);
    } catch (_ignored) { /* offline: the stream's reset reads it again */ }
  }

  function loadPanel() {
    // The panel is the source too: a request without one dims the whole page (htmx-request).
    htmx.ajax("GET", "/ui/notifications", { source: panel, target: panel, swap: "innerHTML" });
  }

  async function markRead(body) {
    const response = await fetch("/api/v1/notifications/read", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body),
    });
    if (response.ok) setBadge((await response.json()).unread);
  }

  bell.addEventListener("toggle", () => { if (bell.open) loadPanel(); });

  document.addEventListener("bandeja:event", (event) => {
    const data = event.detail;
    if (data.type === "notification.created") {
      setBadge(data.unread);
      if (bell.open) loadPanel();
      const text = data.kind === "mention" ? bell.dataset.msgMention : bell.dataset.msgAssignment;
      if (window.bandejaToast) window.bandejaToast(text);
    } else if (data.type === "notifications.read") {
      setBadge(data.unread);
      if (bell.open) loadPanel();
    } else if (data.type === "reset") {
      readBadge();
      if (bell.open) loadPanel();
    }
  });

  document.addEventListener("click", (event) => {
    const item = event.target.closest && event.target.closest("#notif-panel [data-notification]");
    if (item) {
      if (item.dataset.unread) {
        markRead({ ids: [parseInt(item.dataset.notification, 10)] });
        delete item.dataset.unread;
        item.closest("li").classList.remove("unread");
      }
      bell.open = false;
      // In the inbox the pane opens in place; elsewhere (settings) the link is followed.
      if (document.getElementById("pane") && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
        event.preventDefault();
        const url = item.getAttribute("href");
        htmx.ajax("GET", url, { source: "#pane", target: "#pane", swap: "innerHTML" }).then(() => history.pushState({}, "", url));
      }
      return;
    }
    if (event.target.closest && event.target.closest("[data-action='notifications-read-all']")) {
      markRead({ all: true }).then(loadPanel);
    }
  });

  readBadge();
})();
