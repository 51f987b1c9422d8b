// Mashangban console: the project's own small script. Every page works without it; it only
// makes things quicker: narrowing the unit picker as you type, showing a caller's earlier
// tickets while the operator is still typing the number, and the intake's suggestions
// (one request per pause in typing; one click or Alt+1 / Alt+2 accepts).
(function () {
  "use strict";

  // A page answering a POST that must not be reposted (a revealed contact, shown once)
  // names the address it stands for.
  var canonical = document.getElementById("canonical-path");
  if (canonical && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", canonical.getAttribute("data-path"));
  }

  // Whether the characters of `q` appear in `s` in order (城管 in 城市管理局).
  function inOrder(q, s) {
    var i = 0;
    for (var j = 0; j < s.length && i < q.length; j++) {
      if (s.charAt(j) === q.charAt(i)) i++;
    }
    return i === q.length;
  }

  // Whether an option answers what was typed: part of its name or group, the name's
  // characters in order (a short name: 城管, 排水), or its pinyin initials (cgj).
  function matches(q, o) {
    var label = (o.textContent + " " + (o.parentNode.label || "")).toLowerCase();
    if (label.indexOf(q) >= 0 || inOrder(q, o.textContent.toLowerCase())) return true;
    var py = o.getAttribute("data-py");
    return !!py && /^[a-z0-9]+$/.test(q) && inOrder(q, py);
  }

  // Unit picker: <input data-filter-for="select-id"> hides the options that do not match.
  function filterSelect(input) {
    var select = document.getElementById(input.getAttribute("data-filter-for"));
    if (!select) return;
    var q = input.value.trim().toLowerCase().replace(/\s+/g, "");
    var groups = select.querySelectorAll("optgroup");
    Array.prototype.forEach.call(select.options, function (o) {
      if (!o.value) return;
      o.hidden = q !== "" && !matches(q, o) && !o.selected;
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

  // Intake suggestions: after a pause in typing the content or the address, one request;
  // an answer that arrives after a newer request was sent is dropped.
  var suggestTimer = null, suggestSeq = 0, lastAsked = null;
  function field(id) { var el = document.getElementById(id); return el ? el.value.trim() : ""; }
  function suggest() {
    var box = document.getElementById("suggest");
    if (!box) return;
    var q = "title=" + encodeURIComponent(field("title")) +
      "&content=" + encodeURIComponent(field("content")) +
      "&address=" + encodeURIComponent(field("address")) +
      "&phone=" + encodeURIComponent(field("phone")) +
      "&category_code=" + encodeURIComponent(field("category_code"));
    if (q === lastAsked) return;
    lastAsked = q;
    var seq = ++suggestSeq;
    fetch("/intake/suggest?" + q, { credentials: "same-origin" })
      .then(function (r) { return r.ok || r.status === 422 ? r.text() : null; })
      .then(function (html) {
        if (html === null || seq !== suggestSeq) return;
        box.innerHTML = html;
        // An emergency goes to the top of the screen, above the form.
        var slot = document.getElementById("emergency");
        if (slot) {
          slot.innerHTML = "";
          var alarm = box.querySelector(".emergency");
          if (alarm) slot.appendChild(alarm);
        }
        // What was proposed is saved with the request, beside what the operator chose.
        var top = box.querySelector("button[data-accept='category_code'][data-key='1']");
        var kept = document.getElementById("suggested_category_code");
        if (kept) kept.value = top ? top.getAttribute("data-value") : "";
      })
      .catch(function () { /* typing goes on; the form still works */ });
  }
  function accept(button) {
    var target = document.getElementById(button.getAttribute("data-accept"));
    if (!target) return;
    var value = button.getAttribute("data-value");
    if (target.tagName === "SELECT" && !Array.prototype.some.call(target.options, function (o) { return o.value === value; })) {
      var o = document.createElement("option");
      o.value = value; o.textContent = button.textContent;
      target.appendChild(o);
    }
    target.value = value;
    target.dispatchEvent(new Event("change", { bubbles: true }));
    button.classList.add("accepted");
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("button[data-accept]") : null;
    if (b) { e.preventDefault(); accept(b); }
  });
  document.addEventListener("keydown", function (e) {
    if (!e.altKey || (e.key !== "1" && e.key !== "2")) return;
    var b = document.querySelector("#suggest button[data-key='" + e.key + "']");
    if (b) { e.preventDefault(); accept(b); }
  });

  // New notices show on the badge without a reload: a light poll, every 30 s while the
  // page is visible.
  var badge = document.getElementById("notices-badge");
  if (badge && window.fetch) {
    setInterval(function () {
      if (document.hidden) return;
      fetch("/notices/unseen", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (n) {
          if (n === null) return;
          badge.textContent = n;
          badge.hidden = n === "";
        })
        .catch(function () { /* the next poll tries again */ });
    }, 30000);
  }

  // The owning unit follows the category the operator chooses.
  document.addEventListener("change", function (e) {
    if (e.target.id === "category_code" && document.getElementById("suggest")) {
      clearTimeout(suggestTimer);
      suggest();
    }
  });

  // Bulk work: a tick-all box per table, the count of ticked tickets on the bar, the
  // dispatch fields only for a dispatch.
  function showBulk() {
    var count = document.getElementById("bulk-count");
    if (!count) return;
    var n = document.querySelectorAll("input[name='ticket'][form='bulk']:checked").length;
    var zh = count.getAttribute("data-zh") === "true";
    count.textContent = n === 0
      ? (zh ? "勾选工单后可批量办理" : "Tick tickets to work on them together")
      : (zh ? "已选 " + n + " 件" : n + " ticked");
    var action = document.getElementById("bulk-action");
    var fields = document.querySelector("form.bulk .bulk-dispatch");
    if (action && fields) fields.hidden = action.value !== "dispatch";
  }
  showBulk();
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.hasAttribute && t.hasAttribute("data-tick-all")) {
      var table = t.closest("table");
      Array.prototype.forEach.call(table.querySelectorAll("input[name='ticket']"), function (b) { b.checked = t.checked; });
    }
    if (t.name === "ticket" || t.id === "bulk-action" || t.hasAttribute("data-tick-all")) showBulk();
  });

  // Sorting a list by a column: the rows shown, by the cell's key (a time, an urgency)
  // or its text; a second click reverses.
  document.addEventListener("click", function (e) {
    var th = e.target.closest ? e.target.closest("th.sortable") : null;
    if (!th) return;
    var table = th.closest("table"), body = table.tBodies[0];
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var up = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(th.parentNode.children, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", up ? "ascending" : "descending");
    var key = function (tr) {
      var td = tr.children[col];
      return td ? (td.getAttribute("data-key") || td.textContent.trim()) : "";
    };
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      var n = (/^\d+$/.test(x) && /^\d+$/.test(y)) ? Number(x) - Number(y) : x.localeCompare(y, "zh-CN");
      return up ? n : -n;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });

  // A button that acts on several tickets, or from a board with one click, asks first.
  document.addEventListener("submit", function (e) {
    var b = e.submitter;
    var question = b && b.getAttribute("data-confirm");
    if (question && !window.confirm(question)) e.preventDefault();
  });

  document.addEventListener("input", function (e) {
    var t = e.target;
    if (t.hasAttribute && t.hasAttribute("data-filter-for")) filterSelect(t);
    if (t.id === "phone" && document.getElementById("history")) {
      clearTimeout(timer);
      timer = setTimeout(function () { lookup(t.value.trim()); }, 250);
    }
    if ((t.id === "title" || t.id === "content" || t.id === "address") && document.getElementById("suggest")) {
      clearTimeout(suggestTimer);
      suggestTimer = setTimeout(suggest, 500);
    }
  });

  // A form that comes back filled (from a transcript, or with an error) proposes at once.
  if (document.getElementById("suggest") && (field("content") || field("title"))) suggest();
})();
