// Checks the draft as it is typed, with the validator `oms rules validate` uses (no save).
(function () {
  "use strict";
  var area = document.getElementById("text");
  var report = document.getElementById("report");
  if (!area || !report || area.readOnly) { return; }
  var timer = null;
  function show(result) {
    report.textContent = "";
    var head = document.createElement("p");
    head.className = "message " + (result.valid ? "ok" : "error");
    head.textContent = result.valid ? "Valid: " + result.ruleset + "."
      : "Not valid yet: it cannot be published until these are fixed.";
    report.appendChild(head);
    if (result.valid) { return; }
    var list = document.createElement("ul");
    list.className = "problems";
    result.errors.forEach(function (p) {
      var item = document.createElement("li");
      item.textContent = "Line " + p.line + ", column " + p.col + ": " + p.message;
      list.appendChild(item);
    });
    report.appendChild(list);
  }
  function check() {
    fetch(area.dataset.validate, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "text/plain", "X-CSRF-Token": area.dataset.csrf},
      body: area.value
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (result) { if (result) { show(result); } });
  }
  area.addEventListener("input", function () {
    // what is published or previewed is the saved text: save first
    document.querySelectorAll("[data-needs-save]").forEach(function (el) {
      el.hidden = true;
    });
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  });
})();
