/* The sandbox page: a Slack-like client over /sandbox/api.
 * Server-rendered Block Kit arrives as trusted, escaped HTML (`html` fields) and goes in
 * with innerHTML; every other server string goes in as text. */
"use strict";

(() => {
  const API = "/sandbox/api";
  const STORED_USER = "firebell.sandbox.as";
  const PIN = "pushpin"; // the reaction that pins a message to an incident's timeline
  const $ = (id) => document.getElementById(id);

  const app = {
    as: null, // the acting user's id
    state: null, // the last /state answer
    channelId: null, // the open conversation
    rendered: new Map(), // ts -> {el, sig} of the messages on screen
    renderedFor: null, // the channel `rendered` belongs to
    sending: false, // a message is on its way; the composer waits
  };

  // --- HTTP ---------------------------------------------------------------------

  async function getJson(path) {
    const sep = path.includes("?") ? "&" : "?";
    const query = app.as ? `${sep}as=${encodeURIComponent(app.as)}` : "";
    const response = await fetch(API + path + query, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({ error: response.statusText }));
    return { status: response.status, body };
  }

  async function postJson(path, body) {
    const response = await fetch(API + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ as: app.as, ...body }),
    });
    const answer = await response.json().catch(() => null);
    if (answer === null) return { ok: false, error: `${response.status} ${response.statusText}` };
    return answer;
  }

  // --- Refreshing ---------------------------------------------------------------

  // One refresh at a time; a request during one runs once more after it.
  let refreshing = null;
  let again = false;

  function refresh() {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        again = false;
        try {
          await loadState();
          await loadChannel();
        } catch (error) {
          console.warn("sandbox refresh failed:", error);
        }
      } while (again);
      refreshing = null;
    })();
    return refreshing;
  }

  let debounce = null;
  function refreshSoon() {
    clearTimeout(debounce);
    debounce = setTimeout(refresh, 50);
  }

  function listenForChanges() {
    const events = new EventSource(`${API}/events`);
    events.addEventListener("change", (event) => {
      let version = null;
      try {
        version = JSON.parse(event.data).version;
      } catch (_) {
        // A change without a readable version still means "look again".
      }
      if (version === null || !app.state || version !== app.state.version) refreshSoon();
    });
    // After a reconnect, changes may have been missed while the stream was down.
    events.addEventListener("open", refreshSoon);
  }

  // --- State: user picker, sidebar, drill clock, modal --------------------------

  async function loadState() {
    const { status, body } = await getJson("/state");
    if (status !== 200) throw new Error(body.error || `state: HTTP ${status}`);
    app.state = body;
    if (body.me && body.me !== app.as) rememberUser(body.me);
    if (!app.channelId) {
      const wanted = window.location.hash.slice(1);
      app.channelId = visibleIds().has(wanted) ? wanted : defaultChannelId();
      if (app.channelId) history.replaceState(null, "", `#${app.channelId}`);
    }
    renderUserPicker();
    renderSidebar();
    renderDrill();
    window.SandboxDialogs.showView(body.view);
    document.body.dataset.ready = "1";
  }

  function rememberUser(userId) {
    app.as = userId;
    localStorage.setItem(STORED_USER, userId);
    const url = new URL(window.location.href);
    url.searchParams.set("as", userId);
    history.replaceState(null, "", url);
  }

  function renderUserPicker() {
    const picker = $("as-user");
    const people = app.state.people || [];
    const sig = JSON.stringify(people);
    if (picker.dataset.sig !== sig) {
      picker.textContent = "";
      for (const person of people) {
        const option = document.createElement("option");
        option.value = person.id;
        option.textContent = person.role ? `${person.name} — ${person.role}` : person.name;
        picker.appendChild(option);
      }
      picker.dataset.sig = sig;
    }
    picker.value = app.as;
  }

  function renderSidebar() {
    $("workspace-name").textContent = app.state.workspace || "firebell sandbox";
    fillList($("channel-list"), app.state.channels || [], "channel-link", (c) => `# ${c.name}`);
    fillList($("dm-list"), app.state.dms || [], "dm-link", (c) => c.name);
  }

  function fillList(list, conversations, kind, label) {
    list.textContent = "";
    for (const conversation of conversations) {
      const link = document.createElement("a");
      link.className = kind;
      link.href = `#${conversation.id}`;
      link.dataset.channelId = conversation.id;
      link.dataset.name = conversation.name;
      const unread = conversation.unread > 0 && conversation.id !== app.channelId;
      link.classList.toggle("unread", unread);
      link.classList.toggle("active", conversation.id === app.channelId);
      link.classList.toggle("not-member", conversation.is_member === false);
      const name = document.createElement("span");
      name.className = "link-name";
      name.textContent = label(conversation);
      link.appendChild(name);
      if (unread) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = String(conversation.unread);
        link.appendChild(badge);
      }
      const item = document.createElement("li");
      item.appendChild(link);
      list.appendChild(item);
    }
  }

  function visibleIds() {
    const all = [...(app.state.channels || []), ...(app.state.dms || [])];
    return new Set(all.map((c) => c.id));
  }

  function defaultChannelId() {
    const channels = app.state.channels || [];
    const general = channels.find((c) => c.name === "general") || channels[0];
    return general ? general.id : null;
  }

  function renderDrill() {
    const clock = $("drill-clock");
    const drill = app.state && app.state.drill;
    clock.hidden = !drill;
    if (!drill) return;
    const elapsed = Math.max(0, (Date.now() / 1000 - drill.started_at) * (drill.speed || 1));
    const total = Math.floor(elapsed);
    const pad = (n) => String(n).padStart(2, "0");
    const shown = `${pad(Math.floor(total / 3600))}:${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}`;
    const parts = [`Drill ${drill.severity || ""}`.trim(), `T+${shown}`, `×${drill.speed || 1}`];
    if (drill.incident) parts.push(drill.incident);
    clock.textContent = parts.join(" · ");
  }

  // --- The open conversation ----------------------------------------------------

  function openChannel(channelId) {
    if (!channelId) return;
    if (window.location.hash !== `#${channelId}`) {
      history.replaceState(null, "", `#${channelId}`);
    }
    if (channelId === app.channelId) return;
    app.channelId = channelId;
    renderSidebar();
    refresh();
  }

  async function loadChannel() {
    if (!app.channelId) return;
    const channelId = app.channelId;
    const { status, body } = await getJson(`/channels/${encodeURIComponent(channelId)}`);
    if (channelId !== app.channelId) return; // The user moved on meanwhile.
    if (status !== 200) {
      showMissing(body.error || `HTTP ${status}`);
      return;
    }
    $("channel-missing").hidden = true;
    const isIm = body.kind === "im";
    $("channel-title").textContent = isIm ? body.name : `#${body.name}`;
    $("channel-topic").textContent = body.topic || "";
    const textarea = $("composer").querySelector("textarea");
    textarea.placeholder = isIm ? `Message ${body.name}` : `Message #${body.name}`;
    textarea.disabled = app.sending;
    renderPinned(body.messages || []);
    renderMessages(channelId, body.messages || [], body.ephemerals || []);
  }

  function showMissing(error) {
    $("channel-title").textContent = "";
    $("channel-topic").textContent = "";
    $("pinned").hidden = true;
    $("messages").textContent = "";
    app.rendered.clear();
    app.renderedFor = null;
    $("channel-missing").textContent = error;
    $("channel-missing").hidden = false;
  }

  function byTs(a, b) {
    return Number(a.ts) - Number(b.ts);
  }

  function renderMessages(channelId, messages, ephemerals) {
    const list = $("messages");
    const switched = app.renderedFor !== channelId;
    if (switched) {
      list.textContent = "";
      app.rendered.clear();
      app.renderedFor = channelId;
    }
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const all = [
      ...messages.map((m) => ({ ...m, ephemeral: false })),
      ...ephemerals.map((m) => ({ ...m, ephemeral: true })),
    ].sort(byTs);
    const keep = new Map();
    let before = list.firstChild;
    for (const message of all) {
      const key = (message.ephemeral ? "e" : "m") + message.ts;
      const sig = JSON.stringify(message);
      let entry = app.rendered.get(key);
      if (!entry || entry.sig !== sig) {
        if (entry) {
          if (entry.el === before) before = before.nextSibling;
          entry.el.remove();
        }
        entry = { el: messageElement(message), sig };
      }
      keep.set(key, entry);
      if (entry.el !== before) list.insertBefore(entry.el, before);
      before = entry.el.nextSibling;
    }
    for (const [key, entry] of app.rendered) {
      if (!keep.has(key)) entry.el.remove();
    }
    app.rendered = keep;
    if (switched || atBottom) list.scrollTop = list.scrollHeight;
  }

  function span(className, text) {
    const el = document.createElement("span");
    el.className = className;
    el.textContent = text;
    return el;
  }

  function avatarClass(author) {
    let hash = 0;
    for (const ch of author) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
    return `avatar avatar-${hash % 8}`;
  }

  function messageElement(message) {
    const el = document.createElement("div");
    el.className = "message";
    el.dataset.ts = message.ts;
    el.id = `msg-${message.ephemeral ? "e" : "m"}${message.ts.replace(".", "-")}`;
    el.classList.toggle("ephemeral", message.ephemeral);
    el.classList.toggle("pinned", Boolean(message.pinned));

    const author = message.author || "";
    const avatar = span(avatarClass(author), author.slice(0, 1).toUpperCase());
    const main = document.createElement("div");
    main.className = "message-main";
    const meta = document.createElement("div");
    meta.className = "message-meta";
    meta.append(span("author", author), span("time", message.time || ""));
    if (message.pinned) meta.appendChild(span("pin-mark", "📌 Pinned"));
    if (message.ephemeral) meta.appendChild(span("only-you", "Only visible to you"));
    const body = document.createElement("div");
    body.className = "message-body";
    body.innerHTML = message.html || "";
    main.append(meta, body);
    if (message.edited) main.appendChild(span("edited", "(edited)"));
    el.append(avatar, main);
    if (!message.ephemeral) addReactions(el, main, message.reactions || []);
    return el;
  }

  // Reactions (emoji + count, marked when the person acting has reacted) and a button
  // that toggles their :pushpin:, which pins the message to an incident's timeline.
  function addReactions(el, main, reactions) {
    if (reactions.length) {
      const row = document.createElement("div");
      row.className = "reactions";
      for (const reaction of reactions) {
        const chip = document.createElement("button");
        chip.type = "button";
        chip.className = "reaction";
        chip.classList.toggle("mine", reaction.mine);
        chip.dataset.reaction = reaction.name;
        chip.title = `:${reaction.name}:`;
        chip.setAttribute("aria-pressed", String(reaction.mine));
        const yours = reaction.mine ? ", yours among them" : "";
        chip.setAttribute("aria-label", `${reaction.name}: ${reaction.count}${yours}`);
        chip.append(span("reaction-emoji", reaction.emoji), span("reaction-count", String(reaction.count)));
        row.appendChild(chip);
      }
      main.appendChild(row);
    }
    const mine = reactions.some((r) => r.name === PIN && r.mine);
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "pin-toggle";
    toggle.classList.toggle("mine", mine);
    toggle.dataset.reaction = PIN;
    toggle.textContent = "📌";
    toggle.title = mine ? "Unpin" : "Pin to the timeline";
    toggle.setAttribute("aria-label", toggle.title);
    el.appendChild(toggle);
  }

  async function toggleReaction(control) {
    const message = control.closest(".message");
    if (!message || message.classList.contains("busy")) return;
    const focused = control === document.activeElement;
    const selector = control.classList.contains("pin-toggle")
      ? "button.pin-toggle"
      : `button.reaction[data-reaction="${CSS.escape(control.dataset.reaction)}"]`;
    message.classList.add("busy");
    try {
      const answer = await postJson("/react", {
        channel: app.channelId,
        ts: message.dataset.ts,
        name: control.dataset.reaction,
      });
      showError(answer.ok ? "" : answer.error || "The reaction was not sent.");
    } catch (error) {
      showError(String(error.message || error));
    } finally {
      message.classList.remove("busy");
      await refresh();
    }
    // The message was drawn again: keep the keyboard where it was.
    const again = focused && document.getElementById(message.id);
    const replaced = again && again.querySelector(selector);
    if (replaced) replaced.focus();
  }

  $("messages").addEventListener("click", (event) => {
    const control = event.target.closest("button.pin-toggle, button.reaction");
    if (!control || !$("messages").contains(control)) return;
    event.preventDefault();
    toggleReaction(control);
  });

  function firstLine(html) {
    // A template's content is inert: no images load while we read its text.
    const template = document.createElement("template");
    template.innerHTML = html || "";
    const scratch = template.content;
    for (const br of scratch.querySelectorAll("br")) br.replaceWith("\n");
    for (const part of scratch.children.length ? scratch.children : [scratch]) {
      const line = part.textContent.split("\n").map((s) => s.trim()).find(Boolean);
      if (line) return line.length > 120 ? `${line.slice(0, 119)}…` : line;
    }
    return "";
  }

  function renderPinned(messages) {
    const strip = $("pinned");
    const pinned = messages.filter((m) => m.pinned);
    strip.hidden = pinned.length === 0;
    strip.textContent = "";
    if (!pinned.length) return;
    strip.appendChild(span("pinned-label", `📌 Pinned (${pinned.length})`));
    for (const message of pinned) {
      const item = document.createElement("button");
      item.type = "button";
      item.className = "pinned-item";
      item.dataset.ts = message.ts;
      item.append(span("pinned-author", message.author || ""), span("pinned-text", firstLine(message.html)));
      strip.appendChild(item);
    }
  }

  $("pinned").addEventListener("click", (event) => {
    const item = event.target.closest(".pinned-item");
    if (!item) return;
    const target = $(`msg-m${item.dataset.ts.replace(".", "-")}`);
    if (!target) return;
    target.scrollIntoView({ block: "center" });
    target.classList.remove("flash");
    void target.offsetWidth; // restart the highlight animation
    target.classList.add("flash");
  });

  // --- Block Kit actions in messages --------------------------------------------

  function showError(text) {
    $("composer-error").textContent = text || "";
  }

  async function sendAction(control, payload) {
    const message = control.closest(".message");
    if (!message) return;
    const spec = control.dataset.confirm ? parseConfirm(control.dataset.confirm) : null;
    if (spec && !(await window.SandboxDialogs.confirm(spec))) return false;
    message.classList.add("busy");
    try {
      const answer = await postJson("/action", {
        channel: app.channelId,
        ts: message.dataset.ts,
        action_id: control.dataset.actionId || "",
        block_id: control.dataset.blockId || "",
        ...payload,
      });
      showError(answer.ok ? "" : answer.error || "The action failed.");
    } catch (error) {
      showError(String(error.message || error));
    } finally {
      message.classList.remove("busy");
      refresh();
    }
    return true;
  }

  function parseConfirm(text) {
    try {
      return JSON.parse(text);
    } catch (_) {
      return { title: "Are you sure?" };
    }
  }

  $("messages").addEventListener("click", (event) => {
    const button = event.target.closest("button.bk-button");
    if (!button || !$("messages").contains(button)) return;
    event.preventDefault();
    sendAction(button, { type: button.dataset.type || "button", value: button.dataset.value || "" });
  });

  $("messages").addEventListener("change", async (event) => {
    const target = event.target;
    const select = target.closest("select.bk-select, select.bk-overflow, select[data-action-id]");
    if (select) {
      const overflow = select.classList.contains("bk-overflow");
      const type = select.dataset.type || (overflow ? "overflow" : "static_select");
      const chosen = select.value;
      const sent = await sendAction(select, { type, value: chosen });
      if (overflow || sent === false) select.selectedIndex = 0;
      return;
    }
    const group = target.closest(".bk-checkboxes, .bk-radio-buttons");
    if (!group) return;
    if (group.classList.contains("bk-radio-buttons")) {
      sendAction(group, { type: group.dataset.type || "radio_buttons", value: target.value });
      return;
    }
    const selected = [...group.querySelectorAll("input[type=checkbox]:checked")].map((i) => i.value);
    const sent = await sendAction(group, { type: group.dataset.type || "checkboxes", selected });
    if (sent === false) target.checked = !target.checked;
  });

  // --- Composer -----------------------------------------------------------------

  async function say() {
    const textarea = $("composer").querySelector("textarea");
    const text = textarea.value;
    if (app.sending || !text.trim() || !app.channelId) return;
    app.sending = true;
    textarea.disabled = true;
    try {
      const answer = await postJson("/say", { channel: app.channelId, text });
      if (answer.ok) {
        textarea.value = "";
        showError("");
      } else {
        showError(answer.error || "The message was not sent.");
      }
    } catch (error) {
      showError(String(error.message || error));
    } finally {
      app.sending = false;
      textarea.disabled = false;
      textarea.focus();
      refresh();
    }
  }

  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    say();
  });

  $("composer").querySelector("textarea").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      say();
    }
  });

  // --- Navigation and start-up --------------------------------------------------

  $("sidebar").addEventListener("click", (event) => {
    const link = event.target.closest("a.channel-link, a.dm-link");
    if (!link) return;
    event.preventDefault();
    openChannel(link.dataset.channelId);
  });

  window.addEventListener("hashchange", () => openChannel(window.location.hash.slice(1)));

  $("as-user").addEventListener("change", async (event) => {
    rememberUser(event.target.value);
    await refresh();
    if (!visibleIds().has(app.channelId)) openChannel(defaultChannelId());
  });

  function initialUser() {
    const fromQuery = new URLSearchParams(window.location.search).get("as");
    return fromQuery || localStorage.getItem(STORED_USER) || null;
  }

  async function start() {
    window.SandboxDialogs.init({ post: postJson, refresh });
    app.as = initialUser();
    listenForChanges();
    await refresh();
    if (!app.state && app.as) {
      // A remembered user the workspace no longer has: let the server pick one.
      app.as = null;
      await refresh();
    }
    setInterval(renderDrill, 1000);
  }

  start();
})();
