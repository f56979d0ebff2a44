(function () {
  "use strict";
  // Reasons on demand (large estates): cells name a row and a column; the embedded data holds each
  // distinct text once. Text is set with textContent only: names from the inventory never become markup.
  var node = document.getElementById("evckit-data");
  var data = null;  // parsed on the first press, not at load: it can be a megabyte
  var panel = document.getElementById("reasons");
  var title = panel.querySelector("h3");
  var body = panel.querySelector(".body");

  function el(tag, text) {
    var e = document.createElement(tag);
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function reason(item) {
    var s = data.strings[item[0]];
    return item[1] >= 0 ? s + " on " + data.strings[item[1]] : s;
  }

  function show(button) {
    var row = Number(button.closest("tr").getAttribute("data-row"));
    var col = Number(button.getAttribute("data-col"));
    var clusters = data.columns[col];
    var head = button.closest("tr").querySelector("th .first");
    title.textContent = button.textContent + ": " + (head ? head.textContent : "VM group") +
      " \u2192 " + clusters.length + (clusters.length === 1 ? " cluster" : " clusters");
    body.textContent = "";
    clusters.forEach(function (j) {
      var id = data.cells[row][j];
      var h = el("h4", data.clusters[j]);
      body.appendChild(h);
      var ul = el("ul");
      (id >= 0 ? data.sets[id] : []).forEach(function (item) { ul.appendChild(el("li", reason(item))); });
      body.appendChild(ul);
    });
    panel.hidden = false;
    panel.focus();
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    var button = target.closest("button.why");
    if (button && node) {
      data = data || JSON.parse(node.textContent);
      show(button);
      return;
    }
    if (target.closest("#reasons .close")) { panel.hidden = true; }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { panel.hidden = true; }
  });

  // Printing: open the reasons and short name lists (marked "p"), close them again afterwards.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.p:not([open])").forEach(function (d) { d.open = true; opened.push(d); });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
}());
