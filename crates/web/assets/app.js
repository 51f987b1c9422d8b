// Mashangban console: the project's own small script. Every page works without it; it only
// makes two things quicker: narrowing the unit picker as you type, and showing a caller's
// earlier tickets while the operator is still typing the number.
(function () {
  "use strict";

  // Unit picker: <input data-filter-for="select-id"> hides the options that do not match.
  function filterSelect(input) {
    var select = document.getElementById(input.getAttribute("data-filter-for"));
    if (!select) return;
    var q = input.value.trim().toLowerCase();
    var groups = select.querySelectorAll("optgroup");
    Array.prototype.forEach.call(select.options, function (o) {
      if (!o.value) return;
      var label = (o.textContent + " " + (o.parentNode.label || "")).toLowerCase();
      o.hidden = q !== "" && label.indexOf(q) < 0 && !o.selected;
    });
    Array.prototype.forEach.call(groups, function (g) {
      var any = Array.prototype.some.call(g.children, function (o) { return !o.hidden; });
      g.hidden = !any;
    });
  }

  // Caller history (来电弹屏): fetch the server-rendered list for the number being typed.
  var timer = null, lastPhone = null;
  function lookup(phone) {
    var box = document.getElementById("history");
    if (!box || phone === lastPhone) return;
    lastPhone = phone;
    if (phone.replace(/\D/g, "").length < 7) { box.innerHTML = ""; return; }
    fetch("/intake/history?phone=" + encodeURIComponent(phone), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { if (lastPhone === phone) box.innerHTML = html; })
      .catch(function () { /* the button still works */ });
  }

  document.addEventListener("input", function (e) {
    var t = e.target;
    if (t.hasAttribute && t.hasAttribute("data-filter-for")) filterSelect(t);
    if (t.id === "phone" && document.getElementById("history")) {
      clearTimeout(timer);
      timer = setTimeout(function () { lookup(t.value.trim()); }, 250);
    }
  });
})();
