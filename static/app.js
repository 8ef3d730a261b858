// The app's only script (the Content-Security-Policy allows no inline script).
// A button marked data-print prints the page (the quarterly report's 打印).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-print]");
  if (button) { window.print(); }
});

// A date is typed as YYYY-MM-DD in a text box (the browser's own date input would show the
// reader's locale, e.g. mm/dd/yyyy); the calendar beside it (input.date-picker, for the box
// named by data-date-for) opens on the box's day and writes the picked day into the box.
document.addEventListener("focusin", function (event) {
  var picker = event.target.closest && event.target.closest("input.date-picker");
  if (!picker) { return; }
  var box = document.getElementById(picker.dataset.dateFor);
  if (box && /^\d{4}-\d{2}-\d{2}$/.test(box.value)) { picker.value = box.value; }
});
document.addEventListener("change", function (event) {
  var picker = event.target.closest && event.target.closest("input.date-picker");
  if (!picker || !picker.value) { return; }
  var box = document.getElementById(picker.dataset.dateFor);
  if (box) {
    box.value = picker.value;  // the date input's value is always YYYY-MM-DD
    box.dispatchEvent(new Event("change", { bubbles: true }));
  }
});

// A wide table scrolls sideways inside its own box, not the page (static/style.css
// .table-scroll): each outermost table of the page is wrapped once.
document.querySelectorAll("main table").forEach(function (table) {
  var parent = table.parentElement;
  if (table.parentElement.closest("table") || parent.classList.contains("table-scroll")) { return; }
  var box = document.createElement("div");
  box.className = "table-scroll";
  parent.insertBefore(box, table);
  box.appendChild(table);
});
