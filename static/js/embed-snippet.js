// "Embed this" on an area page: copy buttons for the snippets (the text
// areas stay selectable by hand without JavaScript).
(function () {
  "use strict";
  function copied(button) {
    var original = button.textContent;
    button.textContent = button.getAttribute("data-text-copied") || original;
    setTimeout(function () { button.textContent = original; }, 2000);
  }

  function copy(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { copied(button); }, function () {});
    } else if (document.execCommand && document.execCommand("copy")) {
      copied(button);
    }
  }

  function start() {
    var buttons = document.querySelectorAll("button[data-copy]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].hidden = false;
      buttons[i].addEventListener("click", function (event) { copy(event.currentTarget); });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
