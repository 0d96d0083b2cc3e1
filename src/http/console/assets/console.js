// arca console: the little that plain HTML forms cannot do. Everything works without it.
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
document.addEventListener("change", function (event) {
  var form = event.target.form;
  if (form && form.hasAttribute("data-autosubmit")) {
    form.submit();
  }
});
// Copy buttons of package snippets: the clipboard where the browser allows it, else the snippet's text is
// selected so that the keyboard's copy takes it.
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("[data-copy]") : null;
  if (!button) {
    return;
  }
  var source = document.getElementById(button.getAttribute("data-copy"));
  var status = document.querySelector("[data-copy-status]");
  if (!source) {
    return;
  }
  var text = source.textContent;
  function say(message) {
    if (status) {
      status.textContent = message;
    }
  }
  function selectIt() {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    say("Selected: press Ctrl+C (or ⌘C) to copy.");
  }
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(text).then(function () {
      button.textContent = "Copied";
      say("Copied to the clipboard.");
      window.setTimeout(function () { button.textContent = "Copy"; }, 2000);
    }, selectIt);
  } else {
    selectIt();
  }
});
