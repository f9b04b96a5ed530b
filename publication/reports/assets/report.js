/* The period report's tables: search (filter the rows) and sort (click a header). Inlined into
   the page; no library, no network request. Cells carry their raw value in data-v (numbers
   unformatted, dates ISO) so sorting is by value, not by the displayed text. */
(function () {
  "use strict";
  function cellValue(row, index, numeric) {
    var cell = row.cells[index];
    var raw = cell ? cell.getAttribute("data-v") : null;
    if (raw === null || raw === "") { return null; }
    if (numeric) { var n = parseFloat(raw); return isNaN(n) ? null : n; }
    return raw;
  }
  function sortBy(table, header, index) {
    var numeric = header.getAttribute("data-numeric") === "1";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
      if (x === null && y === null) { return 0; }
      if (x === null) { return 1; }          // empty cells last, both ways
      if (y === null) { return -1; }
      var c = numeric ? x - y : String(x).localeCompare(String(y), "vi");
      return ascending ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function fold(text) {  // search ignores case and Vietnamese diacritics ("ha noi" finds "Hà Nội")
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }
  function filter(table, query, counter) {
    var q = fold(query.trim());
    var shown = 0, rows = table.tBodies[0].rows;
    Array.prototype.forEach.call(rows, function (r) {
      var match = q === "" || fold(r.textContent).indexOf(q) >= 0;
      r.style.display = match ? "" : "none";
      if (match) { shown += 1; }
    });
    if (counter) { counter.textContent = shown + " of " + rows.length + " rows"; }
  }
  document.querySelectorAll("table.data").forEach(function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }  // a key-value table (provenance): nothing to sort
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.addEventListener("click", function () { sortBy(table, th, index); });
    });
    var input = document.querySelector('input[data-table="' + table.id + '"]');
    var counter = document.querySelector('span[data-count="' + table.id + '"]');
    if (input) { input.addEventListener("input", function () { filter(table, input.value, counter); }); }
  });
  // printing: every row, and the charts drawn at the A4 text width (186 mm, about 700 CSS px;
  // the print layout is not computed yet when beforeprint fires, so the width is set, not measured)
  var PRINT_WIDTH = 700;
  function plots() { return window.Plotly ? document.querySelectorAll(".js-plotly-plot") : []; }
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("table.data tbody tr").forEach(function (r) { r.style.display = ""; });
    plots().forEach(function (plot) { window.Plotly.relayout(plot, { width: PRINT_WIDTH }); });
  });
  window.addEventListener("afterprint", function () {
    plots().forEach(function (plot) {
      window.Plotly.relayout(plot, { width: null, autosize: true }).then(function () { window.Plotly.Plots.resize(plot); });
    });
  });
})();
