/* The ops console: ETA quick choices and the incident list's keyboard path.
   A static file (CSP: no inline script). Everything works without it: the
   quick choices are radio buttons the server resolves when the update is posted. */
(function () {
  "use strict";

  function quickChoices() {
    var input = document.getElementById("id_update_eta");
    var words = document.getElementById("console-eta-words");
    var radios = document.querySelectorAll("input[name=eta_choice]");
    if (!input || !radios.length) return;
    var typed = input.value;
    radios.forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (!radio.checked) return;
        input.value = radio.value === "keep" ? typed : radio.dataset.preview;
        if (words) words.textContent = radio.dataset.words;
      });
    });
    input.addEventListener("input", function () {
      typed = input.value;
      radios.forEach(function (radio) { radio.checked = false; });
      if (words) words.textContent = input.dataset.typedText || "";
    });
  }

  function listKeys() {
    var table = document.getElementById("result_list");
    if (!table) return;
    var search = document.getElementById("searchbar");
    function links() {
      return Array.prototype.slice.call(table.querySelectorAll("tbody tr")).map(function (row) {
        return row.querySelector("th a, td a");
      }).filter(Boolean);
    }
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = target.matches("input, textarea, select, [contenteditable]");
      if (event.key === "/" && !typing && search) {
        event.preventDefault();
        search.focus();
        search.select();
        return;
      }
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      if (typing && target !== search) return;
      var rows = links();
      if (!rows.length) return;
      var index = rows.indexOf(target);
      if (index === -1) index = event.key === "ArrowDown" ? -1 : rows.length;
      var next = index + (event.key === "ArrowDown" ? 1 : -1);
      if (next < 0 || next >= rows.length) return;
      event.preventDefault();
      rows[next].focus();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    quickChoices();
    listKeys();
  });
})();
