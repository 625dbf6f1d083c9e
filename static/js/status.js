// Live page behaviour, all progressive enhancement (the pages work without it):
// relative times kept current, the live indicator, reconnects for every kind of
// close with jittered backoff, and polling when websockets cannot connect.
(function () {
  "use strict";
  var units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
  var format = window.Intl && Intl.RelativeTimeFormat
    ? new Intl.RelativeTimeFormat(document.documentElement.lang || undefined, { numeric: "auto" })
    : null;
  var POLL_AFTER_FAILURES = 4;   // consecutive failed connects before polling
  var POLL_MS = 30000;
  // A stopped process drops its clients at once: spread their return over 6 s.
  var RECONNECT_SPREAD_MS = 6000;
  var RECONNECT_MAX_MS = 60000;
  var failures = 0, pollTimer = null, unloading = false;

  function relative(seconds) {
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(seconds) >= units[i][1]) return format.format(Math.round(seconds / units[i][1]), units[i][0]);
    }
    return format.format(Math.round(seconds / 60), "minute");
  }

  function refreshTimes(root) {
    if (!format) return;
    var nodes = (root && root.querySelectorAll ? root : document).querySelectorAll("time[data-relative]");
    var now = Date.now();
    for (var i = 0; i < nodes.length; i++) {
      var when = Date.parse(nodes[i].getAttribute("datetime"));
      if (!isNaN(when)) nodes[i].textContent = relative((when - now) / 1000);
    }
  }

  function liveBox() { return document.getElementById("live"); }

  function setState(state) {
    var box = liveBox();
    if (!box) return;
    box.setAttribute("data-state", state);
    var text = document.getElementById("live-text");
    if (text) text.textContent = box.getAttribute("data-text-" + state) || state;
  }

  // What a change says, once, politely: the first changed region's summary
  // lines (status, answer, "ETA moved"), else the page's.
  function announce(changed) {
    var box = liveBox(), target = document.getElementById("live-announcer");
    if (!box || !target) return;
    var parts = [];
    for (var i = 0; i < changed.length && !parts.length; i++) parts = changed[i].querySelectorAll("[data-summary]");
    if (!parts.length) parts = document.querySelectorAll("main [data-summary]");
    var words = [];
    for (var j = 0; j < parts.length && j < 3; j++) words.push(parts[j].textContent.replace(/\s+/g, " ").trim());
    target.textContent = box.getAttribute("data-text-updated") + (words.length ? ": " + words.join(". ") : "");
  }

  // Which top-level elements of a fragment message change what the reader
  // sees: their text before the swap, compared after it.
  function textOf(node) { return node ? node.textContent.replace(/\s+/g, " ").trim() : ""; }

  function before(html) {
    var template = document.createElement("template"), seen = [];
    template.innerHTML = html;
    Array.prototype.forEach.call(template.content.children, function (node) {
      if (node.id && node.id !== "last-updated") seen.push([node.id, textOf(document.getElementById(node.id))]);
    });
    return seen;
  }

  function highlight(node) {
    node.classList.add("live-changed");
    setTimeout(function () { node.classList.remove("live-changed"); }, 4000);
  }

  function after(seen) {
    refreshTimes();
    var changed = [];
    seen.forEach(function (entry) {
      var node = document.getElementById(entry[0]);
      if (node && textOf(node) !== entry[1]) { changed.push(node); highlight(node); }
    });
    if (changed.length) announce(changed);
  }

  function updatedNow() {
    var box = liveBox();
    if (box) box.setAttribute("data-updated", new Date().toISOString());
  }

  // Swap each top-level element of a snapshot in by id, as the ws extension does.
  function applySnapshot(html) {
    var seen = before(html);
    var template = document.createElement("template");
    template.innerHTML = html;
    Array.prototype.forEach.call(template.content.children, function (node) {
      var current = node.id && document.getElementById(node.id);
      if (current) {
        current.replaceWith(node);
        if (window.htmx) htmx.process(node);
      }
    });
    after(seen);
    updatedNow();
  }

  function poll() {
    var box = liveBox();
    if (!box) return;
    fetch(box.getAttribute("data-poll-url"), { headers: { Accept: "text/html" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(applySnapshot)
      .catch(function () { /* keep the last good state; try again next round */ });
  }

  function startPolling() {
    if (pollTimer) return;
    setState("polling");
    poll();
    pollTimer = setInterval(poll, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  }

  function reconnectDelay(retries) {
    return Math.random() * Math.min(RECONNECT_SPREAD_MS * Math.pow(2, retries), RECONNECT_MAX_MS);
  }
  // Also for the ws extension's own retries.
  if (window.htmx) htmx.config.wsReconnectDelay = reconnectDelay;

  document.addEventListener("htmx:wsOpen", function () {
    failures = 0;
    stopPolling();
    setState("live");
  });

  document.addEventListener("htmx:wsClose", function (event) {
    if (unloading) return;
    failures += 1;
    if (failures >= POLL_AFTER_FAILURES) startPolling(); else setState("reconnecting");
    // The ws extension retries only abnormal closes (1006, 1011-1013). A clean
    // close by the server or a proxy (idle timeout, restart) must come back too.
    var code = event.detail && event.detail.event && event.detail.event.code;
    var wrapper = event.detail && event.detail.socketWrapper;
    if ([1006, 1011, 1012, 1013].indexOf(code) < 0 && wrapper) {
      setTimeout(function () { wrapper.reconnect(); }, reconnectDelay(failures - 1));
    }
  });

  var pending = null;
  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    pending = before((event.detail && event.detail.message) || "");
  });

  document.addEventListener("htmx:wsAfterMessage", function () {
    after(pending || []);
    pending = null;
    updatedNow();
  });

  // A browser (or proxy) that refuses websockets outright throws in the
  // constructor, and the ws extension would stop there: hand it a socket
  // that is already closed and keep the page current by polling instead.
  function closedSocket() {
    return { readyState: 3, OPEN: 1, binaryType: "blob", addEventListener: function () {}, send: function () {}, close: function () {} };
  }
  if (window.htmx) {
    htmx.createWebSocket = function (url) {
      try {
        var socket = new WebSocket(url, []);
        socket.binaryType = htmx.config.wsBinaryType;
        return socket;
      } catch (error) {
        setTimeout(startPolling, 0);
        return closedSocket();
      }
    };
  }

  window.addEventListener("pagehide", function () { unloading = true; });
  document.addEventListener("DOMContentLoaded", function () { refreshTimes(); });
  document.addEventListener("htmx:afterSettle", function (event) { refreshTimes(event.target); });
  setInterval(refreshTimes, 30000);
  window.statusPage = { refreshTimes: refreshTimes, poll: poll };
})();
