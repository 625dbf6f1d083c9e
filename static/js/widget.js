// The widget page (inside an iframe): tells the parent page its height, so
// /embed.js can size the frame to the content, without scrollbars. The live
// updates themselves are status.js and the htmx ws extension, as on the pages.
(function () {
  "use strict";
  if (window.parent === window) return;
  var MESSAGE = "status-widget:height";
  var last = 0;

  function height() {
    // body is a block formatting context with no margin: its box is the content.
    return Math.ceil(document.body.getBoundingClientRect().height);
  }

  function report() {
    if (!document.body) return;
    var current = height();
    if (current === last) return;
    last = current;
    // The height is not a secret, and the widget does not know who frames it:
    // the parent checks that the message comes from the widget's origin.
    window.parent.postMessage({ type: MESSAGE, height: current }, "*");
  }

  function start() {
    report();
    if (window.ResizeObserver) new ResizeObserver(report).observe(document.body);
    else setInterval(report, 1000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  window.addEventListener("load", report);
  document.addEventListener("htmx:wsAfterMessage", report);
})();
