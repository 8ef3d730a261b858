// The app's only script (the Content-Security-Policy allows no inline script).
// A button marked data-print prints the page (the quarterly report's 打印).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-print]");
  if (button) { window.print(); }
});
