/* 阳光执行 工作台: what htmx (api/static/htmx) leaves to the pages.
 * - A live part of a page ([data-live], refreshed out of band) is not replaced while the user edits in it: a form
 *   typed in (console.js marks it data-dirty) or the focused field. The next refresh tries again.
 * - A partial update that could not be sent or got a server error says so where its form asked for it
 *   ([data-failed]); a page's refresh ([data-retry]) tries again after that many seconds. */
(function () {
  "use strict";

  function editing(el) {
    if (el.querySelector("form[data-dirty]")) return true;
    var active = document.activeElement;
    return !!(active && el.contains(active) && active.matches("input, textarea, select"));
  }

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    if (target.hasAttribute("data-live") && editing(target)) event.detail.shouldSwap = false;
  });

  function note(elt, failed) {
    var place = elt.querySelector && elt.querySelector("[data-failed]");
    if (place) place.textContent = failed ? place.dataset.failed : "";
  }

  function failed(event) {
    var elt = event.detail.elt;
    note(elt, true);
    if (elt.dataset.retry) setTimeout(function () { htmx.trigger(elt, "retry"); }, Number(elt.dataset.retry) * 1000);
  }

  document.addEventListener("htmx:beforeRequest", function (event) { note(event.detail.elt, false); });
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:responseError", failed);
})();
