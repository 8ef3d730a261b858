// Report and forecast jobs (web/reports.py, web/forecast.py): a form marked data-job-form starts the job without leaving the
// page, then its progress is polled from the job's JSON status until the file can be
// downloaded. A job page (data-job) polls the same way. No inline script: the CSP forbids it.
(function () {
  "use strict";
  var texts = {
    zh: { queued: "排队中", done: "已完成", failed: "失败" },
    en: { queued: "queued", done: "done", failed: "failed" }
  };
  var lang = (document.documentElement.lang || "zh").slice(0, 2) === "en" ? "en" : "zh";

  function show(box, status) {
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-job-text]");
    var link = box.querySelector("[data-job-download]");
    box.hidden = false;
    if (status.total > 0) { bar.max = status.total; bar.value = status.done; }
    else { bar.removeAttribute("value"); }
    if (status.state === "queued") { text.textContent = texts[lang].queued; }
    else if (status.state === "running") {
      text.textContent = status.done.toLocaleString() + " / " + status.total.toLocaleString() + " " + status.label;
    } else if (status.state === "done") {
      bar.max = 1; bar.value = 1;
      text.textContent = texts[lang].done;
      if (link && status.download_url) { link.href = status.download_url; link.hidden = false; }
    } else { text.textContent = texts[lang].failed + ": " + (status.error || ""); }
  }

  function follow(box, url, thenDownload, thenReload) {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        show(box, status);
        if (status.state === "queued" || status.state === "running") {
          setTimeout(function () { follow(box, url, thenDownload, thenReload); }, 700);
        } else if (status.state === "done" && thenDownload) { window.location.href = status.download_url; }
        else if (status.state === "done" && thenReload) { window.location.reload(); }
      });
  }

  function start(url, body, box, thenDownload) {
    fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        if (status.error && !status.id) { box.hidden = false; box.querySelector("[data-job-text]").textContent = status.message || status.error; return; }
        show(box, status);
        if (status.state === "queued" || status.state === "running") { follow(box, status.status_url, thenDownload); }
        else if (status.state === "done" && thenDownload) { window.location.href = status.download_url; }
      });
  }

  // a form (the reports screen): start the job, show its bar, offer the download when done
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-job-form]");
    if (!form) { return; }
    event.preventDefault();
    start(form.action, new FormData(form), form.querySelector("[data-job-progress]"), false);
  });

  // a download link (the report page): the same, and the download starts by itself when done
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-job-start]");
    if (!link) { return; }
    var token = document.querySelector("input[name=csrf_token]");
    if (!token) { return; }  // no token on the page: let the plain link do it
    event.preventDefault();
    var body = new FormData();
    body.append("csrf_token", token.value);
    ["fund", "quarter", "format", "index", "unit"].forEach(function (name) {
      body.append(name, link.getAttribute("data-" + name) || "");
    });
    start(link.getAttribute("data-job-start"), body, document.querySelector("[data-job-progress]"), true);
  });

  // a job's page: follow it; with data-job-go, open its result when done (an upload's preview)
  document.querySelectorAll("[data-job]").forEach(function (page) {
    // a page whose content is the job's result (data-job-reload) shows it when the job is done
    follow(page.querySelector("[data-job-progress]"), page.getAttribute("data-job-status-url"),
           page.hasAttribute("data-job-go"), page.hasAttribute("data-job-reload"));
  });
}());
