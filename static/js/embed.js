// Status widget loader for other sites:
//   <div data-area="your-area"></div>   (data-area="" for the whole service)
//   <script src="https://status.example/embed.js" async></script>
// Options: data-theme="light|dark|auto", data-lang="hu", data-compact="1",
// data-title="…" (the frame's accessible name).
// Inserts the widget's iframe in each such div and keeps the frame as tall
// as its content, trusting height messages only from the widget's own origin
// and only from the frame it inserted.
(function () {
  "use strict";
  var MESSAGE = "status-widget:height";
  var MAX_HEIGHT = 5000;
  var script = document.currentScript ||
    Array.prototype.slice.call(document.querySelectorAll("script[src]")).filter(function (s) {
      return /\/embed\.js(\?|#|$)/.test(s.src);
    })[0];
  if (!script) return;
  var origin = new URL(script.src, document.baseURI).origin;
  var frames = [];

  function widgetUrl(box) {
    var slug = (box.getAttribute("data-area") || "").trim();
    var url = new URL(slug ? "/embed/areas/" + encodeURIComponent(slug) + "/" : "/embed/", origin);
    ["theme", "lang", "compact"].forEach(function (name) {
      var value = box.getAttribute("data-" + name);
      if (value) url.searchParams.set(name, value);
    });
    return url.href;
  }

  function insert(box) {
    if (box.getAttribute("data-status-widget") === "ready") return;
    box.setAttribute("data-status-widget", "ready");
    var frame = document.createElement("iframe");
    frame.src = widgetUrl(box);
    frame.title = box.getAttribute("data-title") || "Service status";
    // The widget runs its own scripts and socket on its own origin, and opens
    // links in new tabs; it may not navigate or script the host page.
    frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox");
    frame.setAttribute("referrerpolicy", "strict-origin");
    // CSSOM properties, not a style attribute: fine under a strict host CSP.
    frame.style.display = "block";
    frame.style.border = "0";
    frame.style.width = "100%";
    frame.style.minWidth = "280px";
    frame.style.height = (box.getAttribute("data-compact") === "1" ? 100 : 160) + "px";
    box.appendChild(frame);
    frames.push(frame);
  }

  function scan() {
    var boxes = document.querySelectorAll("div[data-area]");
    for (var i = 0; i < boxes.length; i++) insert(boxes[i]);
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== origin) return;
    var data = event.data;
    if (!data || data.type !== MESSAGE) return;
    var height = Number(data.height);
    if (!isFinite(height) || height <= 0) return;
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        frames[i].style.height = Math.min(Math.ceil(height), MAX_HEIGHT) + "px";
      }
    }
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
  window.statusWidget = { scan: scan };
})();
