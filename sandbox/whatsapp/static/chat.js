// The sandbox web chat: sends user messages through POST /_sim/send and long-polls /_sim/outbox
// for what the bot sent to this phone number through the fake Graph API. On load it shows this phone's
// conversation so far (/_sim/outbox?inbound=1: the bot's calls and the user's messages, in order).
"use strict";

(function () {
  const { escapeHtml, formatWhatsApp } = window.WAFormat;
  const $ = (id) => document.getElementById(id);
  const els = {
    messages: $("messages"), input: $("composer-input"), composer: $("composer"),
    setup: $("setup"), setupForm: $("setup-form"), phone: $("phone-input"), name: $("name-input"),
    userLabel: $("user-label"), botName: $("bot-name"), botStatus: $("bot-status"), avatar: $("bot-avatar"),
    sheet: $("list-sheet"), sheetTitle: $("list-sheet-title"), sheetBody: $("list-sheet-body"),
    attachMenu: $("attach-menu"), attachButton: $("attach-button"),
  };
  const TICK = '<svg viewBox="0 0 16 11" width="16" height="11"><path fill="currentColor" d="M11.1.7 10.2 0 4 7.6 1.3 5 .5 5.8 4.1 9.2z"/></svg>';
  const TICKS = '<svg viewBox="0 0 18 11" width="18" height="11"><path fill="currentColor" d="M12.1.7 11.2 0 5 7.6 2.3 5l-.8.8 3.6 3.4zM16.5.7 15.6 0 9.4 7.6l-.9-.8-.8.8 1.8 1.6z"/></svg>';
  const CLOCK = '<svg viewBox="0 0 16 16" width="13" height="13"><path fill="currentColor" d="M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1zm0 12.6A5.6 5.6 0 1 1 8 2.4a5.6 5.6 0 0 1 0 11.2zM8.7 4H7.3v4.5l3.6 2.2.7-1.2-2.9-1.7z"/></svg>';

  const state = {
    phone: "", name: "", after: 0, generation: 0, userBubbles: new Map(), readEarly: new Set(), typingTimer: null,
    // keep the newest message in view: `pinned` while the list shows its end (the user has not scrolled up);
    // pinnedTop is where the last scroll to the end went, so a scroll event that comes after more content
    // was added (and the end moved further) still counts as pinned
    pinned: true, pinnedTop: 0,
  };

  // ---- rendering ------------------------------------------------------------------------------
  function clock(date) {
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // ---- keeping the newest message in view ------------------------------------------------------
  function scrollToEnd() {
    const m = els.messages;
    m.scrollTop = m.scrollHeight;
    state.pinnedTop = m.scrollTop;
  }

  // after each new message, once all of it (bubble, buttons, list opener) is in the DOM
  function revealNewest() {
    state.pinned = true;
    scrollToEnd();
  }

  els.messages.addEventListener("scroll", () => {
    const m = els.messages;
    state.pinned = m.scrollHeight - m.scrollTop - m.clientHeight < 24 || m.scrollTop >= state.pinnedTop - 1;
  }, { passive: true });

  // anything that changes sizes later (the window or keyboard shrinking the list, ticks or buttons
  // added to a row, fonts arriving) keeps the end in view unless the user scrolled up to read
  const resizes = typeof ResizeObserver === "function"
    ? new ResizeObserver(() => { if (state.pinned) scrollToEnd(); }) : null;
  if (resizes) resizes.observe(els.messages);

  function append(node) {
    els.messages.appendChild(node);
    if (resizes) resizes.observe(node);
    revealNewest();
  }

  function bubble(side, kind, html, time) {
    const row = document.createElement("div");
    row.className = "row " + side;
    const b = document.createElement("div");
    b.className = "bubble " + side;
    b.dataset.testid = side === "bot" ? "bot-message" : "user-message";
    b.dataset.kind = kind;
    b.innerHTML = html + '<span class="meta"><span class="time">' + clock(time || new Date()) + "</span></span>";
    row.appendChild(b);
    append(row);
    return b;
  }

  function notice(text, testid, kind) {
    const div = document.createElement("div");
    div.className = "notice " + (kind || "error");
    div.dataset.testid = testid;
    div.textContent = text;
    append(div);
  }

  function textBlock(text) {
    return '<div class="text">' + formatWhatsApp(text || "") + "</div>";
  }

  function interactiveHtml(inter) {
    let html = "";
    const header = inter.header || {};
    if (header.type === "text" && header.text) html += '<div class="header-text">' + escapeHtml(header.text) + "</div>";
    else if (header.type) html += '<div class="media-box">' + escapeHtml(header.type) + "</div>";
    html += textBlock((inter.body || {}).text);
    if (inter.footer && inter.footer.text) html += '<div class="footer-text">' + escapeHtml(inter.footer.text) + "</div>";
    return html;
  }

  // a row of reply buttons under a bubble: a tap sends the item's message as the user's reply to `wamid`
  function addButtonRow(b, items, wamid, testid) {
    const box = document.createElement("div");
    box.className = "reply-buttons";
    for (const item of items) {
      const el = document.createElement("button");
      el.type = "button";
      el.className = "reply-button";
      el.dataset.testid = testid;
      Object.assign(el.dataset, item.data);
      el.textContent = item.title;
      el.addEventListener("click", () =>
        send(Object.assign({}, item.message, { context_id: wamid }), escapeHtml(item.title), "button"));
      box.appendChild(el);
    }
    b.parentElement.appendChild(box);
  }

  // an interactive message's reply buttons: a tap sends WhatsApp's `button` reply with the button's id
  function addReplyButtons(b, buttons, wamid) {
    const items = buttons.map((btn) => {
      const reply = btn.reply || {};
      return { title: reply.title, data: { buttonId: reply.id }, message: { button: { id: reply.id, title: reply.title } } };
    });
    addButtonRow(b, items, wamid, "reply-button");
  }

  function addListButton(b, action, wamid) {
    const el = document.createElement("button");
    el.type = "button";
    el.className = "list-open";
    el.dataset.testid = "list-open";
    el.innerHTML = '<svg viewBox="0 0 24 24" width="18" height="18"><path fill="currentColor" d="M3 5h2v2H3zm4 0h14v2H7zM3 11h2v2H3zm4 0h14v2H7zm-4 6h2v2H3zm4 0h14v2H7z"/></svg>' +
      "<span>" + escapeHtml(action.button || "Options") + "</span>";
    el.addEventListener("click", () => openSheet(action, wamid));
    b.appendChild(el);
  }

  function templateHtml(tpl) {
    const params = [];
    for (const comp of tpl.components || []) {
      for (const p of comp.parameters || []) params.push(p.text || p.payload || (p[p.type] && JSON.stringify(p[p.type])) || p.type);
    }
    return '<div class="template-tag">Template</div>' +
      '<div class="text"><strong>' + escapeHtml(tpl.name || "?") + "</strong> (" + escapeHtml((tpl.language || {}).code || "?") + ")" +
      (params.length ? "<br>" + params.map(escapeHtml).join(" · ") : "") + "</div>";
  }

  // a template's quick replies: a tap sends WhatsApp's `button` message with the button's payload
  function addTemplateButtons(b, buttons, wamid) {
    const items = buttons.map((btn) => ({
      title: btn.text,
      data: { payload: btn.payload },
      message: { quick_reply: { payload: btn.payload, text: btn.text } },
    }));
    addButtonRow(b, items, wamid, "template-button");
  }

  function renderBot(body, wamid, time, rendered) {
    const type = body.type || "text";
    const content = body[type] || {};
    let b;
    if (type === "text") {
      b = bubble("bot", "text", textBlock(content.body), time);
    } else if (type === "interactive" && content.type === "button") {
      b = bubble("bot", "buttons", interactiveHtml(content), time);
      addReplyButtons(b, (content.action || {}).buttons || [], wamid);
    } else if (type === "interactive" && content.type === "list") {
      b = bubble("bot", "list", interactiveHtml(content), time);
      addListButton(b, content.action || {}, wamid);
    } else if (type === "interactive") {
      b = bubble("bot", "interactive", interactiveHtml(content), time);
    } else if (type === "template" && rendered) {
      b = bubble("bot", "template", '<div class="template-tag">Template</div>' + textBlock(rendered.text), time);
      addTemplateButtons(b, rendered.buttons || [], wamid);
    } else if (type === "template") {
      b = bubble("bot", "template", templateHtml(content), time);
    } else if (["image", "video", "audio", "document", "sticker"].includes(type)) {
      b = bubble("bot", "media", '<div class="media-box">' + escapeHtml(type) + "</div>" +
        (content.caption ? textBlock(content.caption) : ""), time);
    } else if (type === "location") {
      b = bubble("bot", "location", '<div class="media-box">location</div>' +
        textBlock([content.name, content.address].filter(Boolean).join("\n")), time);
    } else if (type === "reaction") {
      b = bubble("bot", "reaction", '<div class="text">reacted ' + escapeHtml(content.emoji || "") + "</div>", time);
    } else {
      b = bubble("bot", type, "<pre class=\"raw\">" + escapeHtml(JSON.stringify(body, null, 2)) + "</pre>", time);
    }
    b.dataset.wamid = wamid || "";
    stopTyping();
    revealNewest();  // again: the buttons and the list opener were added after the bubble
  }

  // ---- the user's messages as the simulator recorded them (the history after a reload) ------------
  const MEDIA_LABEL = { image: "Photo", document: "Document", location: "Location", voice: "Voice message" };

  function mediaBox(media) {
    return '<div class="media-box ' + media + '" data-testid="media-' + media + '">' +
      escapeHtml(MEDIA_LABEL[media] || media) + "</div>";
  }

  function rowHtml(title, description) {
    return escapeHtml(title || "") + (description ? '<div class="row-desc">' + escapeHtml(description) + "</div>" : "");
  }

  // [kind, inner html] for one element of a webhook body's value.messages, as send() shows it
  function userContent(m) {
    const type = m.type || "text";
    const content = m[type] || {};
    if (type === "text") return ["text", formatWhatsApp(content.body || "")];
    if (type === "interactive" && content.type === "button_reply") {
      return ["button", escapeHtml((content.button_reply || {}).title || "")];
    }
    if (type === "interactive" && content.type === "list_reply") {
      const row = content.list_reply || {};
      return ["list", rowHtml(row.title, row.description)];
    }
    if (type === "button") return ["button", escapeHtml(content.text || "")];
    if (type === "location") return ["location", mediaBox("location")];
    if (["image", "audio", "video", "document", "sticker"].includes(type)) {
      const media = type === "audio" && content.voice ? "voice" : type;
      return [media, mediaBox(media) + (content.caption ? formatWhatsApp(content.caption) : "")];
    }
    if (type === "reaction") return ["reaction", "reacted " + escapeHtml(content.emoji || "")];
    return [type, escapeHtml(type)];
  }

  function renderInbound(rec) {
    const m = rec.body || {};
    const [kind, html] = userContent(m);
    const b = bubble("user", kind, '<div class="text">' + html + "</div>", new Date(rec.time));
    if (m.id) {
      b.dataset.wamid = m.id;
      state.userBubbles.set(m.id, b);
    }
    if (rec.pending) setTicks(b, "pending");
    else delivered(b, rec.status, rec.response, false);
  }

  // ---- list sheet -----------------------------------------------------------------------------
  function openSheet(action, wamid) {
    els.sheetTitle.textContent = action.button || "Options";
    els.sheetBody.innerHTML = "";
    for (const section of action.sections || []) {
      if (section.title) {
        const h = document.createElement("div");
        h.className = "sheet-section";
        h.textContent = section.title;
        els.sheetBody.appendChild(h);
      }
      for (const row of section.rows || []) {
        const el = document.createElement("button");
        el.type = "button";
        el.className = "list-row";
        el.dataset.testid = "list-row";
        el.dataset.rowId = row.id;
        el.innerHTML = '<span class="row-title">' + escapeHtml(row.title) + "</span>" +
          (row.description ? '<span class="row-desc">' + escapeHtml(row.description) + "</span>" : "");
        el.addEventListener("click", () => {
          closeSheet();
          const list = { id: row.id, title: row.title };
          if (row.description) list.description = row.description;
          send({ list, context_id: wamid }, rowHtml(row.title, row.description), "list");
        });
        els.sheetBody.appendChild(el);
      }
    }
    els.sheet.hidden = false;
    els.sheetBody.parentElement.scrollTop = 0;  // a longer list opened before may have left it scrolled
  }

  function closeSheet() {
    els.sheet.hidden = true;
  }

  // ---- status line ----------------------------------------------------------------------------
  function showTyping() {
    els.botStatus.textContent = "typing…";
    clearTimeout(state.typingTimer);
    // WhatsApp drops the indicator after 25 s or with the next message
    state.typingTimer = setTimeout(stopTyping, 25000);
  }

  function stopTyping() {
    clearTimeout(state.typingTimer);
    els.botStatus.textContent = "online";
  }

  function setTicks(b, status, title) {
    b.dataset.status = status;
    const ticks = b.querySelector(".ticks") || b.querySelector(".meta").appendChild(document.createElement("span"));
    ticks.className = "ticks " + status;
    ticks.title = title || status;
    ticks.innerHTML = status === "pending" ? CLOCK : status === "error" ? "!" : status === "sent" ? TICK : TICKS;
  }

  // ---- sending --------------------------------------------------------------------------------
  async function send(spec, html, kind) {
    if (!state.phone) return openSetup();
    const b = bubble("user", kind, '<div class="text">' + html + "</div>");
    setTicks(b, "pending");
    try {
      const resp = await fetch("/_sim/send", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({ from: state.phone, name: state.name }, spec)),
      });
      const data = await resp.json();
      if (data.message_id) {
        b.dataset.wamid = data.message_id;
        state.userBubbles.set(data.message_id, b);
      }
      delivered(b, data.status, data.response || data.error, state.readEarly.delete(data.message_id));
    } catch (err) {
      setTicks(b, "error", String(err));
      notice("The simulator is not reachable: " + err, "send-error");
    }
  }

  // the webhook's answer to a user message: ticks, and a notice when it was not delivered
  function delivered(b, status, detail, readAlready) {
    if (status === 200) {
      // the bot may mark the message read before the webhook answers: the poll then brought the receipt first
      // (until the bubble is registered, no receipt can find it, so it is still pending)
      if (readAlready) setTicks(b, "read", "read by the bot");
      else setTicks(b, "sent", "webhook answered 200");
    } else {
      setTicks(b, "error", status ? "webhook answered " + status : (detail || "not delivered"));
      notice("Not delivered: " + (status ? "the webhook answered " + status : detail), "send-error");
    }
  }

  function sendMedia(media) {
    const caption = media === "image" || media === "document" ? els.input.value.trim() : "";
    els.input.value = "";
    send(caption ? { media, caption } : { media }, mediaBox(media) + (caption ? formatWhatsApp(caption) : ""), media);
  }

  // ---- polling --------------------------------------------------------------------------------
  // replay: a record from the history shown after a reload (no typing indicator for old receipts)
  function handleRecord(rec, replay) {
    if (rec.kind === "read") {
      const body = rec.body || {};
      const id = body.message_id;
      const b = state.userBubbles.get(id);
      if (rec.status !== 200) return;
      if (b) setTicks(b, "read", "read by the bot");
      else if (id) {
        state.readEarly.add(id);
        // receipts for messages sent elsewhere (the terminal chat) never find a bubble: keep the newest only
        if (state.readEarly.size > 100) state.readEarly.delete(state.readEarly.values().next().value);
      }
      if (body.typing_indicator && !replay) showTyping();
      return;
    }
    if (rec.status !== 200) {
      const err = (rec.response || {}).error || {};
      const details = (err.error_data || {}).details;
      notice("Graph API refused a send (" + rec.status + ", code " + err.code + "): " + (err.message || "") +
        (details ? " — " + details : ""), "sim-error");
      stopTyping();
      return;
    }
    if (rec.kind === "message") {
      const wamid = (((rec.response || {}).messages || [])[0] || {}).id;
      renderBot(rec.body || {}, wamid, new Date(rec.time), rec.rendered);
    }
  }

  async function poll(generation) {
    while (generation === state.generation) {
      try {
        const url = "/_sim/outbox?to=" + encodeURIComponent(state.phone) + "&after=" + state.after + "&wait=20";
        const resp = await fetch(url, { cache: "no-store" });
        const data = await resp.json();
        if (generation !== state.generation) return;
        for (const rec of data.messages) {
          state.after = Math.max(state.after, rec.seq);
          handleRecord(rec);
        }
      } catch (err) {
        els.botStatus.textContent = "simulator offline";
        await new Promise((r) => setTimeout(r, 1500));
      }
    }
  }

  // ---- who am I -------------------------------------------------------------------------------
  function digits(s) {
    return String(s || "").replace(/\D/g, "");
  }

  async function start(phone, name) {
    state.phone = digits(phone);
    state.name = name.trim() || "Sandbox User";
    localStorage.setItem("sim.phone", state.phone);
    localStorage.setItem("sim.name", state.name);
    els.userLabel.textContent = state.name + " · +" + state.phone;
    els.setup.hidden = true;
    els.messages.querySelectorAll(".row, .notice.error").forEach((n) => n.remove());
    state.userBubbles.clear();
    state.readEarly.clear();
    state.generation += 1;
    const generation = state.generation;
    const getJson = async (url) => (await fetch(url, { cache: "no-store" })).json();
    const [health, history] = await Promise.allSettled([
      getJson("/_sim/health"),
      getJson("/_sim/outbox?to=" + encodeURIComponent(state.phone) + "&after=0&inbound=1"),
    ]);
    if (generation !== state.generation) return;  // switched to another number meanwhile
    if (health.status === "fulfilled") {
      const botName = health.value.bot_name;
      // without the history, only what arrives from now on belongs to this chat
      state.after = health.value.last_seq;
      els.botName.textContent = botName;
      els.avatar.textContent = botName.split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase();
      els.botStatus.textContent = "online";
    } else {
      els.botStatus.textContent = "simulator offline";
    }
    if (history.status === "fulfilled" && Array.isArray(history.value.messages)) {
      // this phone's conversation so far, as it was: the user's messages, the bot's, ticks and refusals
      for (const rec of history.value.messages) {
        if (rec.kind === "inbound") renderInbound(rec);
        else handleRecord(rec, true);
      }
      state.after = history.value.last_seq;
      revealNewest();
    }
    document.body.dataset.ready = "true";
    poll(generation);
    els.input.focus();
  }

  function openSetup() {
    els.phone.value = state.phone || localStorage.getItem("sim.phone") || "919876543210";
    els.name.value = state.name || localStorage.getItem("sim.name") || "Asha";
    els.setup.hidden = false;
    els.phone.focus();
  }

  // ---- wiring ---------------------------------------------------------------------------------
  els.composer.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = els.input.value.trim();
    if (!text) return;
    els.input.value = "";
    send({ text }, formatWhatsApp(text), "text");
  });
  $("photo-button").addEventListener("click", () => sendMedia("image"));
  // "send what is due now": the reminders due in the next 24 h go now (the simulator runs the product's command)
  $("send-due").addEventListener("click", async () => {
    try {
      const resp = await fetch("/_sim/send-due", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ hours: 24 }),
      });
      const data = await resp.json();
      if (!resp.ok) return notice("Reminders due: " + (data.error || "failed (exit " + data.exit_code + ")"), "send-due-result");
      const counts = (data.result || {}).reminders || {};
      notice("Reminders due in the next " + data.hours + " h: " + (counts.sent || 0) + " sent" +
        (counts.skipped ? ", " + counts.skipped + " skipped" : "") + (counts.failed ? ", " + counts.failed + " failed" : ""),
        "send-due-result", "info");
    } catch (err) {
      notice("The simulator is not reachable: " + err, "send-error");
    }
  });
  els.attachButton.addEventListener("click", () => {
    els.attachMenu.hidden = !els.attachMenu.hidden;
    els.attachButton.setAttribute("aria-expanded", String(!els.attachMenu.hidden));
  });
  els.attachMenu.addEventListener("click", (ev) => {
    const media = ev.target.dataset && ev.target.dataset.media;
    if (!media) return;
    els.attachMenu.hidden = true;
    sendMedia(media);
  });
  $("switch-user").addEventListener("click", openSetup);
  els.setupForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (digits(els.phone.value).length < 8) return els.phone.setCustomValidity("Enter a number with country code");
    start(els.phone.value, els.name.value);
  });
  els.phone.addEventListener("input", () => els.phone.setCustomValidity(""));
  $("list-close").addEventListener("click", closeSheet);
  els.sheet.addEventListener("click", (ev) => { if (ev.target === els.sheet) closeSheet(); });

  // ?phone=…&name=… starts straight away (handy for tests and shared links)
  const params = new URLSearchParams(location.search);
  const phone = params.get("phone") || localStorage.getItem("sim.phone");
  const name = params.get("name") || localStorage.getItem("sim.name") || "Asha";
  if (phone) start(phone, name); else openSetup();
})();
