/* 阳光执行 工作台: a small script, no framework, no CDN. Every page works without it; with it:
 * - a form being sent says so (button disabled, "正在提交…") and cannot be sent twice by a double click;
 * - the filing form adds and removes rows of applicants, agents and respondents;
 * - a form with data-draft keeps its text in this browser (localStorage) until it is sent. */
(function () {
  "use strict";

  // ------------------------------------------------------------ forms that are being submitted
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || (form.method || "get").toLowerCase() !== "post") return;
    if (event.defaultPrevented) return;  // sent by htmx (hx-post): it disables the buttons itself
    if (form.getAttribute("action") === "/logout") forgetDrafts();  // a court computer is shared
    if (form.dataset.submitting === "1") { event.preventDefault(); return; }
    form.dataset.submitting = "1";
    // The button's own name=value (预览 or 发送) is kept in a hidden field: a disabled button sends none.
    var submitter = event.submitter;
    if (submitter && submitter.name) {
      var kept = document.createElement("input");
      kept.type = "hidden";
      kept.name = submitter.name;
      kept.value = submitter.value;
      kept.setAttribute("data-submitter", "");
      form.appendChild(kept);
    }
    var buttons = form.querySelectorAll("button[type=submit], button:not([type])");
    setTimeout(function () {
      buttons.forEach(function (b) {
        b.dataset.label = b.textContent;
        b.textContent = "正在提交…";
        b.disabled = true;
        b.setAttribute("aria-busy", "true");
      });
    }, 0);
  });
  // Back to a page kept by the browser: its forms may be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      delete form.dataset.submitting;
      form.querySelectorAll("input[data-submitter]").forEach(function (i) { i.remove(); });
      form.querySelectorAll("button[aria-busy]").forEach(function (b) {
        b.textContent = b.dataset.label || b.textContent;
        b.disabled = false;
        b.removeAttribute("aria-busy");
      });
    });
  });

  // ------------------------------------------------------------ typing marks a form as being edited (live.js)
  document.addEventListener("input", function (event) {
    var form = event.target && event.target.form;
    if (form) form.dataset.dirty = "1";
  });

  // ------------------------------------------------------------ rows of parties on the filing form
  function renumber(list) {
    var rows = list.querySelectorAll(".party-row");
    rows.forEach(function (row, i) {
      var n = row.querySelector("[data-row-number]");
      if (n) n.textContent = String(i + 1);
      var box = row.querySelector("input[type=checkbox][data-row-value]");
      if (box) box.value = String(i);
      var remove = row.querySelector("[data-remove-row]");
      if (remove) remove.hidden = rows.length <= Number(list.dataset.min || 0);
    });
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest && event.target.closest("[data-add-row]");
    if (add) {
      event.preventDefault();  // without this script the button posts the form and the server adds the row
      var list = document.getElementById(add.dataset.addRow);
      var template = document.getElementById(add.dataset.addRow + "-template");
      if (!list || !template) return;
      var row = template.content.firstElementChild.cloneNode(true);
      list.appendChild(row);
      var none = list.parentElement.querySelector(".empty-rows");
      if (none) none.remove();
      renumber(list);
      var first = row.querySelector("input[type=text]");
      if (first) first.focus();
      return;
    }
    var remove = event.target.closest && event.target.closest("[data-remove-row]");
    if (remove) {
      event.preventDefault();
      var row2 = remove.closest(".party-row");
      var list2 = row2 && row2.parentElement;
      if (row2 && list2) { row2.remove(); renumber(list2); }
    }
  });

  // ------------------------------------------------------------ drafts kept in this browser
  function forgetDrafts() {
    try {
      Object.keys(localStorage).forEach(function (k) { if (k.indexOf("feedback:") === 0) localStorage.removeItem(k); });
    } catch (e) { /* nothing kept */ }
  }

  function draftFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.tagName === "TEXTAREA";
    });
  }

  function stamp(form, text) {
    var note = form.querySelector("[data-draft-note]");
    if (note) note.textContent = text;
  }

  function saveDraft(form) {
    var data = {};
    draftFields(form).forEach(function (el) { data[el.name] = el.value; });
    data.savedAt = new Date().toISOString();
    try {
      localStorage.setItem(form.dataset.draft, JSON.stringify(data));
      var t = new Date();
      stamp(form, "草稿已保存在本机（" + String(t.getHours()).padStart(2, "0") + ":" +
        String(t.getMinutes()).padStart(2, "0") + "）");
    } catch (e) {
      stamp(form, "本浏览器不能保存草稿");
    }
  }

  function setUpDraft(form) {
    var key = form.dataset.draft;
    var kept = null;
    try { kept = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { kept = null; }
    if (kept && form.dataset.fresh === "1") {  // a page drawn from the server's draft: the handler's own wins
      draftFields(form).forEach(function (el) { if (typeof kept[el.name] === "string") el.value = kept[el.name]; });
      stamp(form, "已恢复您上次保存在本机、尚未发送的草稿");
      var details = form.closest("details");
      if (details) details.open = true;
    }
    var timer = null;
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { saveDraft(form); }, 600);
    });
    form.querySelectorAll("[data-save-draft], [data-discard-draft]").forEach(function (b) { b.hidden = false; });
    form.querySelectorAll("[data-save-draft]").forEach(function (b) {
      b.addEventListener("click", function () { saveDraft(form); });
    });
    form.querySelectorAll("[data-discard-draft]").forEach(function (b) {
      b.addEventListener("click", function () {
        try { localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
        window.location.reload();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // A draft that was sent is forgotten (the page after sending names it).
    document.querySelectorAll("[data-draft-sent]").forEach(function (el) {
      try { localStorage.removeItem(el.dataset.draftSent); } catch (e) { /* nothing kept */ }
    });
    document.querySelectorAll("form[data-draft]").forEach(setUpDraft);
    document.querySelectorAll("[data-rows]").forEach(renumber);
  });
})();
