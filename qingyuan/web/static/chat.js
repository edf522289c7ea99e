// Live chat: progressive enhancement of the plain form on /connections/{id}.
// Without this file the page still works: the form posts and the page reloads.
// With it, messages are sent through the JSON API and arrive over a WebSocket; when the
// socket is unavailable the page polls the API for messages after the last one it shows.
(() => {
  const list = document.getElementById("messages");
  const form = document.getElementById("chat-form");
  if (!list || !form) return;
  const connectionId = Number(list.dataset.connectionId);
  const api = `/api/v1/connections/${connectionId}`;
  const csrf = form.querySelector('input[name="csrf_token"]').value;
  const textarea = form.querySelector("textarea");
  let lastId = Number(list.dataset.lastId) || 0;
  let pollTimer = null;
  let retryDelay = 2000;
  let leaving = false; // e.g. this page posted the block form: let that navigation win
  window.addEventListener("beforeunload", () => { leaving = true; });

  const headers = { "Content-Type": "application/json", "X-CSRF-Token": csrf };

  // Times as the server renders them: in the platform's time zone, whatever the phone's.
  const timeParts = new Intl.DateTimeFormat("en-GB", {
    timeZone: list.dataset.timezone, month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  function timeOf(iso) {
    const part = Object.fromEntries(
      timeParts.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
    return `${part.month}-${part.day} ${part.hour}:${part.minute}`;
  }

  function append(message) {
    if (document.getElementById(`m${message.id}`)) return;
    list.querySelector(".empty")?.remove();
    const item = document.createElement("li");
    item.className = `message ${message.mine ? "mine" : "theirs"}`;
    item.id = `m${message.id}`;
    const who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = `${message.mine ? list.dataset.you : list.dataset.them}:`;
    const text = document.createElement("p");
    text.className = "message-text";
    text.textContent = message.text;
    const time = document.createElement("span");
    time.className = "message-time";
    time.textContent = timeOf(message.created_at);
    item.append(who, text, time);
    if (message.warning) {
      const warning = document.createElement("p");
      warning.className = "message-warning";
      warning.setAttribute("role", "note");
      const label = document.createElement("strong");
      label.textContent = `${list.dataset.warningLabel}:`;
      warning.append(label, ` ${message.warning.text}`);
      item.append(warning);
    }
    list.append(item);
    lastId = Math.max(lastId, message.id);
    item.scrollIntoView({ block: "end" });
    if (!message.mine) markRead(message.id);
  }

  // The other side has read everything up to now: mark my messages as read.
  function showRead() {
    list.querySelectorAll(".message.mine .message-time").forEach((time) => {
      if (time.querySelector(".message-read")) return;
      const read = document.createElement("span");
      read.className = "message-read";
      read.textContent = list.dataset.readLabel;
      time.append(" · ", read);
    });
  }

  function markRead(upTo) {
    return fetch(`${api}/read`, { method: "POST", headers, body: JSON.stringify({ up_to: upTo }) })
      .catch(() => {});
  }

  // Opening the page (a GET) changes nothing: the page itself says what it showed was read,
  // then updates the unread count in the navigation.
  async function readShown() {
    const readForm = document.getElementById("read-form");
    if (!readForm) return;
    const response = await markRead(Number(readForm.elements.up_to.value));
    if (!response || !response.ok) return;
    readForm.remove();
    const unread = await fetch("/api/v1/unread");
    if (!unread.ok) return;
    const { total } = await unread.json();
    const badge = document.querySelector('nav a[href="/connections"] .count-badge');
    if (badge && total === 0) badge.remove();
    else if (badge) badge.firstChild.textContent = String(total);
  }

  function showError(message) {
    let alert = document.getElementById("chat-error");
    if (!alert) {
      alert = document.createElement("div");
      alert.id = "chat-error";
      alert.className = "alert";
      alert.setAttribute("role", "alert");
      form.before(alert);
    }
    alert.textContent = message;
  }

  function ended() {
    if (leaving) return;
    form.querySelectorAll("textarea, button").forEach((el) => { el.disabled = true; });
    window.location.assign("/connections");
  }

  async function catchUp() {
    const response = await fetch(`${api}/messages?after=${lastId}`);
    if (response.status === 404) return ended();
    if (response.ok) (await response.json()).messages.forEach(append);
  }

  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(() => catchUp().catch(() => {}), 4000);
  }

  function connect() {
    if (!("WebSocket" in window)) return startPolling();
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/ws/chat`);
    socket.addEventListener("open", () => {
      clearInterval(pollTimer);
      pollTimer = null;
      retryDelay = 2000;
      list.dataset.live = "true";
      catchUp().catch(() => {});
    });
    socket.addEventListener("message", (event) => {
      const data = JSON.parse(event.data);
      if (data.type === "message" && data.message.connection_id === connectionId) {
        append(data.message);
      } else if (data.type === "read" && data.connection_id === connectionId
                 && String(data.reader_id) !== list.dataset.userId) {
        showRead();
      } else if (data.type === "ended" && data.connection_id === connectionId) {
        ended();
      }
    });
    socket.addEventListener("close", () => {
      list.dataset.live = "false";
      startPolling();
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 60000);
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let response;
    try {
      response = await fetch(`${api}/messages`, {
        method: "POST", headers, body: JSON.stringify({ text: textarea.value }),
      });
    } catch (error) {
      form.submit(); // the network call failed: let the plain form try
      return;
    }
    const body = await response.json();
    if (response.status === 201) {
      document.getElementById("chat-error")?.remove();
      textarea.value = "";
      append(body);
    } else if (response.status === 404) {
      ended();
    } else {
      showError(body.error.fields.text || body.error.message);
    }
  });

  readShown().catch(() => {});
  connect();
})();
