// Progressive enhancement for urlcheck's HTML reports: without this script every table is a
// plain table in the order urlcheck wrote it. With it, a table marked data-sortable sorts by
// any column (a cell's data-v, when it has one, is its sort key) and, when its section has a
// .tools bar, filters by text and outcome.
"use strict";
(function () {
  function key(row, i, numeric) {
    var cell = row.cells[i];
    var v = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent;
    return numeric ? (v === "" ? Infinity : parseFloat(v)) : v.toLowerCase();
  }
  function sortBy(table, th, i) {
    var numeric = th.classList.contains("num");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[aria-sort]").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, i, numeric), y = key(b, i, numeric);
      // Text compares with its numbers as numbers: list.txt:2 before list.txt:10.
      var c = numeric ? (x < y ? -1 : x > y ? 1 : 0) : x.localeCompare(y, undefined, {numeric: true});
      return ascending ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function sortable(table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      var b = document.createElement("button");
      b.type = "button";
      while (th.firstChild) { b.appendChild(th.firstChild); }
      th.appendChild(b);
      b.addEventListener("click", function () { sortBy(table, th, i); });
    });
  }
  function filterable(tools, table) {
    var text = tools.querySelector("input"), outcome = tools.querySelector("select");
    var count = tools.querySelector("output");
    function apply() {
      var needle = text.value.toLowerCase(), wanted = outcome ? outcome.value : "";
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        var ok = (!needle || r.textContent.toLowerCase().indexOf(needle) >= 0) &&
          (!wanted || r.getAttribute("data-outcome") === wanted);
        r.hidden = !ok;
        if (ok) { shown++; }
      });
      if (count) { count.textContent = shown + " shown"; }
    }
    text.addEventListener("input", apply);
    if (outcome) { outcome.addEventListener("change", apply); }
    tools.hidden = false;
  }
  document.querySelectorAll("table[data-sortable]").forEach(function (table) {
    sortable(table);
    var tools = table.parentNode.querySelector(".tools");
    if (tools) { filterable(tools, table); }
  });
  document.documentElement.setAttribute("data-js", "on");
})();
