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
})();
