/* Spreekuur's own script: small enhancements on top of pages that work without it.
   No inline scripts or handlers anywhere (the Content-Security-Policy forbids them): the
   templates mark elements with data- attributes and this file gives them their behaviour. */
(function () {
  "use strict";

  /* Run init(element) for the page, and with htmx for each piece of content it swaps in. */
  function onContent(init) {
    if (window.htmx) {
      window.htmx.onLoad(init);
    } else if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () { init(document.body); });
    } else {
      init(document.body);
    }
  }

  /* After a boosted page change the old focus is gone with the old page: put it on the new
     content, as a page load would start there (unless the new page focused something itself). */
  document.addEventListener("htmx:afterSettle", function (event) {
    var main = document.getElementById("main");
    if (event.detail.boosted && document.activeElement === document.body && main) {
      main.focus();
    }
  });

  /* <button data-print>: the browser's print dialog. */
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) {
      window.print();
    }
  });

  /* <button data-refresh-shown="selector">: once what the button shows (selector) is on the
     page, a change anywhere in the button's form sends it a "refresh" event, for its
     hx-trigger; before that, filling in the form asks nothing of the server. */
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (!form) return;
    form.querySelectorAll("[data-refresh-shown]").forEach(function (button) {
      if (document.querySelector(button.getAttribute("data-refresh-shown"))) {
        button.dispatchEvent(new CustomEvent("refresh"));
      }
    });
  });

  /* <button data-copy="input id" hidden>: shown only where copying can work; copies the
     field's value and says so in the element "<id>-copied", in the words of its data-done and
     data-failed attributes. */
  onContent(function (root) {
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById(button.getAttribute("data-copy") + "-copied");
      if (!input || !status || !navigator.clipboard || button.dataset.copyReady) return;
      button.dataset.copyReady = "true";
      button.hidden = false;
      button.addEventListener("click", function () {
        document.querySelectorAll("[data-copied]").forEach(function (other) {
          other.textContent = "";
        });
        input.select();
        navigator.clipboard.writeText(input.value).then(function () {
          status.textContent = status.getAttribute("data-done");
        }, function () {
          status.textContent = status.getAttribute("data-failed");
        });
      });
    });
  });
})();
