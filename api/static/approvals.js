// 待我审批: decide in place and take in new requests without reloading the page, so nothing the user is typing
// in another card is lost. Without this script the forms post and the page comes back (progressive enhancement).
(function () {
  "use strict";
  var list = document.getElementById("approval-list");
  if (!list) return;
  var count = document.getElementById("approvals-count");
  var POLL_MS = 20000;

  function parse(html) {
    var t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content;
  }

  function refreshCount() {
    var waiting = list.querySelectorAll(".approval:not([data-done])").length;
    if (count) count.textContent = String(waiting);
    var empty = list.querySelector(".approval-empty");
    if (empty) empty.hidden = list.querySelectorAll(".approval").length > 0;
  }

  list.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("approval-form")) return;
    event.preventDefault();
    var card = form.closest(".approval");
    var button = event.submitter;
    var data = new FormData(form);
    if (button && button.name) data.set(button.name, button.value);
    var buttons = form.querySelectorAll("button");
    var busy = form.querySelector(".approval-busy");
    buttons.forEach(function (b) { b.disabled = true; });
    form.setAttribute("aria-busy", "true");
    if (busy) busy.textContent = (button && button.value === "refuse" ? "正在驳回" : "正在批准") + "，提交中…";
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(data),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then(function (r) {
        if (r.status === 401) { window.location.href = "/login?next=/approvals"; return null; }
        return r.text();
      })
      .then(function (html) {
        if (html === null) return;
        var fresh = parse(html).firstElementChild;
        if (fresh) card.replaceWith(fresh);
        refreshCount();
      })
      .catch(function () {
        buttons.forEach(function (b) { b.disabled = false; });
        form.removeAttribute("aria-busy");
        if (busy) busy.textContent = "网络异常，未能提交，请重试。";
      });
  });

  function poll() {
    if (document.hidden) return;
    fetch(list.dataset.source, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var cards = parse(html).querySelectorAll(".approval");
        var waiting = {};
        cards.forEach(function (c) {
          waiting[c.dataset.id] = true;
          if (!document.getElementById(c.id)) {
            c.classList.add("approval-new");
            list.insertBefore(c, list.querySelector(".approval-empty"));
          }
        });
        // A request decided elsewhere (a colleague, another window) no longer waits: say so, keep the card's place.
        list.querySelectorAll(".approval:not([data-done])").forEach(function (c) {
          if (waiting[c.dataset.id] || c.querySelector("[aria-busy]")) return;
          c.dataset.done = "1";
          c.classList.add("approval-done");
          var form = c.querySelector("form");
          if (form) form.outerHTML = '<p class="approval-gone">该申请已不再等待您审批（可能已由他人审批或案件已结案）。</p>';
        });
        refreshCount();
      })
      .catch(function () { /* offline for a moment: the next round tries again */ });
  }
  window.setInterval(poll, POLL_MS);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
})();
