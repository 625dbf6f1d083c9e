// Day bars: one tab stop for the whole row (the latest day), arrow keys, Home
// and End move between days. Without this script every day is a tab stop.
(function () {
  "use strict";
  function visible(days) {
    return days.filter(function (day) { return day.offsetParent !== null; });
  }
  function setUp(list) {
    var days = Array.prototype.slice.call(list.querySelectorAll(".day"));
    days.forEach(function (day, index) { day.tabIndex = index === days.length - 1 ? 0 : -1; });
    list.addEventListener("keydown", function (event) {
      var shown = visible(days);
      var index = shown.indexOf(document.activeElement);
      if (index < 0) return;
      var rtl = getComputedStyle(list).direction === "rtl";
      var step = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1 }[event.key];
      var next = step ? index + step : event.key === "Home" ? 0 : event.key === "End" ? shown.length - 1 : null;
      if (next === null) return;
      event.preventDefault();
      next = Math.max(0, Math.min(shown.length - 1, next));
      shown[index].tabIndex = -1;
      shown[next].tabIndex = 0;
      shown[next].focus();
    });
  }
  function init() {
    Array.prototype.forEach.call(document.querySelectorAll(".days"), setUp);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
