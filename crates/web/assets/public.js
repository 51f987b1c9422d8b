// The public portal's one small script. The pages work without it; it only proposes, while
// the citizen types, the category and the place their own words point to (one request per
// pause in typing), and shows the emergency number when the words call for it.
(function () {
  "use strict";
  var box = document.getElementById("propose");
  var content = document.getElementById("content");
  var address = document.getElementById("address");
  if (!box || !content || !window.fetch) return;
  var timer = null, seq = 0, last = null;
  function chosen() {
    var radios = box.querySelectorAll("input[name='category_code']");
    for (var i = 0; i < radios.length; i++) if (radios[i].checked) return radios[i].value;
    return "";
  }
  function ask() {
    var q = "content=" + encodeURIComponent(content.value) +
      "&address=" + encodeURIComponent(address ? address.value : "");
    if (q === last) return;
    last = q;
    var n = ++seq, keep = chosen();
    fetch("/public/propose?" + q, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null || n !== seq) return;
        box.innerHTML = html;
        var radios = box.querySelectorAll("input[name='category_code']");
        for (var i = 0; i < radios.length; i++) if (radios[i].value === keep) radios[i].checked = true;
      })
      .catch(function () { /* the form still works without proposals */ });
  }
  document.addEventListener("input", function (e) {
    if (e.target === content || e.target === address) {
      clearTimeout(timer);
      timer = setTimeout(ask, 600);
    }
  });
  if (content.value.trim() !== "") ask();
})();
