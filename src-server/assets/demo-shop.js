// The demo shop's own script: its order button opens the support panel on
// that order. Calls made before /widget.js has loaded are queued
// (window.Mostrador.q) and run when it loads.
(function () {
  "use strict";
  var M = window.Mostrador || (window.Mostrador = { q: [] });
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-mostrador-order]");
    if (!button) return;
    var order = { order: button.getAttribute("data-mostrador-order") };
    if (window.Mostrador.open) window.Mostrador.open(order);
    else M.q.push(["open", order]);
  });
})();
