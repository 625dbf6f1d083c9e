// The subscribe form, progressive enhancement (without it every field shows):
// only the chosen channel's field, and a filter over a long list of areas
// (accents optional), with the chosen ones first.
(function () {
  "use strict";
  function fold(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function showChannel(form) {
    var chosen = form.querySelector("input[name=channel]:checked");
    var fields = form.querySelectorAll("[data-channel]");
    for (var i = 0; i < fields.length; i++) {
      var on = !chosen || fields[i].getAttribute("data-channel") === chosen.value;
      fields[i].hidden = !on;
    }
  }

  function filterAreas(input) {
    var words = fold(input.value).split(/\s+/).filter(Boolean);
    var labels = document.querySelectorAll("#id_areas label");
    for (var i = 0; i < labels.length; i++) {
      var text = fold(labels[i].textContent);
      var box = labels[i].querySelector("input");
      var match = (box && box.checked) || words.every(function (word) { return text.indexOf(word) >= 0; });
      labels[i].parentElement.hidden = !match;
    }
  }

  function start() {
    var form = document.querySelector("[data-subscribe-form]");
    if (!form) return;
    showChannel(form);
    form.addEventListener("change", function (event) {
      if (event.target.name === "channel") showChannel(form);
    });
    var filter = form.querySelector("[data-area-filter]");
    if (filter && form.querySelectorAll("#id_areas input").length > 8) {
      filter.closest("[hidden]").hidden = false;
      filter.addEventListener("input", function () { filterAreas(filter); });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
