/* Small behaviours of the staff pages without inline script (the Content-Security-Policy allows none):
   buttons that print the page, and forms that ask before doing something that cannot be undone. */
(function () {
  "use strict";
  // data-print="a-class": while printing, the body carries that class (e.g. to print only the receipt)
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      var only = button.getAttribute("data-print");
      if (only) { document.body.classList.add(only); }
      window.print();
      if (only) { document.body.classList.remove(only); }
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
})();
