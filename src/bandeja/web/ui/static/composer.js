// The composer: tabs, the live length counter, the messaging-window countdown, saved replies and
// @mention suggestions. Loaded with each composer partial; runs once per page (event delegation).
(function () {
  "use strict";
  if (window.bandejaComposer) return;

  const numberFormat = new Intl.NumberFormat(document.documentElement.lang || undefined);
  const encoder = new TextEncoder();

  // --- length, counted the way the platform counts it -----------------------------------------
  // X posts (twitter-text v3, as channels/x/rules.py counts them): a link weighs 23, code points in
  // these ranges 1, any other 2; joiners, variation selectors and skin tones nothing.
  const LIGHT = [[0x0000, 0x10ff], [0x2000, 0x200d], [0x2010, 0x201f], [0x2032, 0x2037]];
  const URL_RE = /https?:\/\/\S+/gi;

  function xPostLength(text) {
    text = text.normalize("NFC");
    const links = text.match(URL_RE) || [];
    let weight = 23 * links.length;
    for (const part of text.split(URL_RE)) {
      for (const ch of part) {
        const cp = ch.codePointAt(0);
        if (cp === 0x200d || cp === 0xfe0e || cp === 0xfe0f || (cp >= 0x1f3fb && cp <= 0x1f3ff)) continue;
        weight += LIGHT.some(([lo, hi]) => cp >= lo && cp <= hi) ? 1 : 2;
      }
    }
    return weight;
  }

  function measure(text, unit, counting) {
    if (unit === "bytes") return encoder.encode(text).length;
    if (counting === "x_post") return xPostLength(text);
    return Array.from(text).length; // code points, as the server counts
  }

  function updateCounter(textarea) {
    const counter = document.getElementById(textarea.dataset.counter || "");
    const max = parseInt(textarea.dataset.maxLength || "", 10);
    if (!counter || !max) return;
    const unit = textarea.dataset.unit === "bytes" ? "bytes" : "characters";
    const left = max - measure(textarea.value, unit, textarea.dataset.counting);
    const over = left < 0;
    const label = counter.dataset[(over ? "over" : "left") + (unit === "bytes" ? "Bytes" : "Characters")];
    counter.textContent = label.replace("{n}", numberFormat.format(Math.abs(left)));
    counter.classList.toggle("over", over);
    counter.classList.toggle("near", !over && left <= max * 0.1);
    const form = textarea.closest("form");
    const button = form && form.querySelector("button[type=submit]");
    if (button && !textarea.disabled) button.disabled = over;
    textarea.setAttribute("aria-invalid", over ? "true" : "false");
  }

  // --- the messaging window's countdown -----------------------------------------------------
  function formatLeft(ms) {
    const minutes = Math.max(1, Math.round(ms / 60000));
    const hours = Math.floor(minutes / 60);
    if (hours >= 48) return numberFormat.format(Math.floor(hours / 24)) + " d " + numberFormat.format(hours % 24) + " h";
    if (hours >= 1) return numberFormat.format(hours) + " h " + numberFormat.format(minutes % 60) + " min";
    return numberFormat.format(minutes) + " min";
  }

  function updateWindows(root) {
    for (const el of (root || document).querySelectorAll("[data-window-ends]")) {
      const left = Date.parse(el.dataset.windowEnds) - Date.now();
      el.classList.toggle("closed", left <= 0);
      el.classList.toggle("soon", left > 0 && left < 3600000);
      el.textContent = left <= 0 ? el.dataset.labelClosed : el.dataset.labelOpen.replace("{time}", formatLeft(left));
    }
  }

  // --- tabs ----------------------------------------------------------------------------------
  function open(mode, focus) {
    const composer = document.querySelector("[data-composer]");
    if (!composer) return false;
    const tab = composer.querySelector('[data-composer-tab="' + mode + '"]');
    if (!tab) return false;
    for (const other of composer.querySelectorAll("[data-composer-tab]")) {
      const selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      const panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.hidden = !selected;
    }
    composer.dataset.mode = mode;
    if (focus !== false) {
      const textarea = document.getElementById(tab.getAttribute("aria-controls")).querySelector("textarea");
      if (textarea && !textarea.disabled) textarea.focus();
    }
    return true;
  }

  // --- inserting text (saved replies, mentions) ------------------------------------------------
  function insert(textarea, text, from, to) {
    const start = from === undefined ? textarea.selectionStart : from;
    const end = to === undefined ? textarea.selectionEnd : to;
    textarea.setRangeText(text, start, end, "end");
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    textarea.focus();
  }

  // --- @mentions -------------------------------------------------------------------------------
  const MENTION_RE = /(^|\s)@([\p{L}\p{N}._+-]{0,40})$/u;
  let mentionRequest = 0;

  function mentionList(textarea) {
    return document.getElementById(textarea.getAttribute("aria-controls") || "");
  }

  function closeMentions(textarea) {
    const list = mentionList(textarea);
    if (list) {
      list.hidden = true;
      list.innerHTML = "";
    }
    textarea.removeAttribute("aria-activedescendant");
    textarea.setAttribute("aria-expanded", "false");
  }

  async function suggest(textarea) {
    const before = textarea.value.slice(0, textarea.selectionStart);
    const match = before.match(MENTION_RE);
    if (!match) return closeMentions(textarea);
    const ticket = ++mentionRequest;
    const url = textarea.dataset.mentions + "&q=" + encodeURIComponent(match[2]);
    let users = [];
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return closeMentions(textarea);
      users = await response.json();
    } catch (_) {
      return closeMentions(textarea);
    }
    if (ticket !== mentionRequest) return; // a newer keystroke asked again
    const list = mentionList(textarea);
    list.innerHTML = "";
    users.forEach((user, i) => {
      const item = document.createElement("li");
      item.id = "mention-option-" + user.id;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", i === 0 ? "true" : "false");
      item.dataset.insert = user.insert;
      item.textContent = user.name;
      const email = document.createElement("span");
      email.className = "muted";
      email.textContent = " " + user.email;
      item.appendChild(email);
      list.appendChild(item);
    });
    list.hidden = users.length === 0;
    textarea.setAttribute("aria-expanded", users.length ? "true" : "false");
    if (users.length) textarea.setAttribute("aria-activedescendant", list.firstChild.id);
  }

  function chooseMention(textarea, item) {
    const before = textarea.value.slice(0, textarea.selectionStart);
    const match = before.match(MENTION_RE);
    if (!match) return closeMentions(textarea);
    const from = textarea.selectionStart - match[2].length - 1;
    insert(textarea, item.dataset.insert + " ", from, textarea.selectionStart);
    closeMentions(textarea);
  }

  function moveMention(textarea, step) {
    const list = mentionList(textarea);
    const items = Array.from(list.querySelectorAll("[role=option]"));
    if (!items.length) return;
    let index = items.findIndex((i) => i.getAttribute("aria-selected") === "true");
    index = (index + step + items.length) % items.length;
    items.forEach((item, i) => item.setAttribute("aria-selected", i === index ? "true" : "false"));
    textarea.setAttribute("aria-activedescendant", items[index].id);
    items[index].scrollIntoView({ block: "nearest" });
  }

  // --- wiring ----------------------------------------------------------------------------------
  function init(root) {
    for (const textarea of root.querySelectorAll("textarea[data-counter]")) updateCounter(textarea);
    updateWindows(root);
  }

  document.addEventListener("input", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLTextAreaElement)) return;
    if (target.dataset.counter) updateCounter(target);
    if (target.dataset.mentions) suggest(target);
  });

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLTextAreaElement) || !target.closest("[data-composer]")) return;
    const list = target.dataset.mentions ? mentionList(target) : null;
    if (list && !list.hidden) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        moveMention(target, event.key === "ArrowDown" ? 1 : -1);
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        const selected = list.querySelector('[aria-selected="true"]');
        if (selected) {
          event.preventDefault();
          chooseMention(target, selected);
          return;
        }
      }
      if (event.key === "Escape") {
        event.preventDefault();
        closeMentions(target);
        return;
      }
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      const form = target.closest("form");
      const button = form && form.querySelector("button[type=submit]");
      if (button && !button.disabled) form.requestSubmit(button);
    }
  });

  document.addEventListener("mousedown", (event) => {
    const option = event.target.closest && event.target.closest(".mention-list [role=option]");
    if (!option) return;
    event.preventDefault(); // keep the focus (and the caret) in the textarea
    const textarea = option.closest(".mention-box").querySelector("textarea");
    chooseMention(textarea, option);
  });

  document.addEventListener("click", (event) => {
    const tab = event.target.closest && event.target.closest("[data-composer-tab]");
    if (tab) {
      open(tab.dataset.composerTab);
      return;
    }
    const saved = event.target.closest && event.target.closest("[data-insert-text]");
    if (saved) {
      const form = saved.closest("form");
      const textarea = form && form.querySelector("textarea");
      if (!textarea || textarea.disabled) return;
      insert(textarea, saved.dataset.insertText);
      const details = saved.closest("details");
      if (details) details.open = false;
    }
  });

  // Settings: copy a webhook URL; confirm a deletion.
  document.addEventListener("click", async (event) => {
    const button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    const source = document.querySelector(button.dataset.copy);
    if (!source) return;
    const text = source.textContent.trim();
    try {
      await navigator.clipboard.writeText(text);
    } catch (_) {
      // No clipboard API (plain http on another host): select the text for a manual copy.
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      return;
    }
    const label = button.textContent;
    button.textContent = button.dataset.copied || label;
    setTimeout(() => { button.textContent = label; }, 1500);
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  document.addEventListener("focusout", (event) => {
    const target = event.target;
    if (target instanceof HTMLTextAreaElement && target.dataset.mentions) {
      setTimeout(() => closeMentions(target), 150);
    }
  });

  // A refused reply (422: a rule, bad input; 409: someone replied meanwhile) comes back as the
  // composer with the reason and the draft: show it instead of treating it as a failure.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    if ((status === 409 || status === 422) && event.detail.target && event.detail.target.id === "composer") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // The send-guard's "seen" message (docs/realtime.md): the newest message of the thread when the
  // draft began. While a reply form is empty, a thread that reloads (a teammate's reply arrived
  // live) moves it forward; once the agent has typed, it stays, so that a reply sent meanwhile
  // is shown to them before theirs goes out.
  function followThread() {
    const thread = document.getElementById("thread");
    const pane = document.getElementById("conversation");
    const composer = document.querySelector("[data-composer]");
    if (!thread || !pane || !composer || composer.dataset.conversation !== pane.dataset.id) return;
    const newest = parseInt(thread.dataset.newestMessage || "0", 10);
    for (const form of composer.querySelectorAll("form.composer-form")) {
      const seen = form.querySelector("input[name=seen_message_id]");
      const textarea = form.querySelector("textarea");
      if (!seen || !textarea || textarea.value.trim()) continue;
      if (newest > (parseInt(seen.value, 10) || 0)) seen.value = String(newest);
    }
  }
  document.addEventListener("htmx:afterSettle", followThread);

  // The r and n shortcuts (app.js) ask for the reply or the note tab.
  document.addEventListener("bandeja:compose", (event) => {
    if (open(event.detail && event.detail.mode)) event.preventDefault();
  });

  document.addEventListener("htmx:load", (event) => init(event.detail.elt || document));
  setInterval(() => updateWindows(document), 30000);
  init(document);

  window.bandejaComposer = { open, measure };
})();
