// A form with data-submitting shows that it is submitting: its button is disabled and says so (no double submit).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.submitting || event.defaultPrevented) return;
    form.querySelectorAll("button[type=submit]").forEach(function (b) {
      b.disabled = true;
      b.textContent = form.dataset.submitting;
    });
    form.setAttribute("aria-busy", "true");
  });
})();
