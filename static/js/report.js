// The report form with htmx: show the server's answer for refusals too (400
// bad input, 429 too many reports), which htmx does not swap by default.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = event.detail.requestConfig && event.detail.requestConfig.elt;
    var status = event.detail.xhr.status;
    if (form && form.closest && form.closest("[data-report-form]") && (status === 400 || status === 429)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Sent: the form gives way to the answer, and the reader is taken to it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var result = event.detail.target;
    if (!result || result.id !== "report-result") return;
    var done = result.querySelector("[data-report-done]");
    var form = document.querySelector("[data-report-form]");
    if (!done || !form) return;
    form.hidden = true;
    var intro = document.querySelector(".report__intro");
    if (intro) intro.hidden = true;
    done.focus();
  });

  // "Report another problem": the form again, in place.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-report-again]");
    var form = document.querySelector("[data-report-form]");
    if (!link || !form) return;
    event.preventDefault();
    document.getElementById("report-result").replaceChildren();
    form.hidden = false;
    var intro = document.querySelector(".report__intro");
    if (intro) intro.hidden = false;
    var first = form.querySelector("select, input");
    if (first) first.focus();
  });
})();
