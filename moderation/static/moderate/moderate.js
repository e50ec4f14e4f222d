// The moderators' page: keyboard shortcuts, claiming the open comment, live counts.
// Loaded from a static file (the page's Content-Security-Policy forbids inline script).
// Comment text is never inserted as HTML here: the server renders it escaped, and this
// script only writes numbers and fixed strings with textContent.
(function () {
  "use strict";

  var POLL_MS = 5000;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var comment = document.getElementById("comment");
  var liveStatus = document.getElementById("live-status");
  var rejectMode = false;

  function say(text) {
    if (liveStatus) liveStatus.textContent = text;
  }

  function api(method, path) {
    // Cookie-authenticated: state-changing calls carry the CSRF token in a header.
    var headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    return fetch(path, { method: method, headers: headers, credentials: "same-origin" });
  }

  // --- live counts -------------------------------------------------------------------------
  function refreshCounts() {
    if (document.hidden) return;
    api("GET", "/api/v1/moderation/counts")
      .then(function (r) {
        if (r.status === 401) { window.location.assign("/moderate/login"); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (data) {
        if (!data) return;
        document.querySelectorAll("[data-count-for]").forEach(function (el) {
          var n = data.views[el.getAttribute("data-count-for")];
          if (typeof n === "number" && el.textContent !== String(n)) {
            el.textContent = String(n);
            el.classList.add("count-changed");
            window.setTimeout(function () { el.classList.remove("count-changed"); }, 1500);
          }
        });
      })
      .catch(function () { /* offline for a moment: try again next tick */ });
  }
  window.setInterval(refreshCounts, POLL_MS);
  document.addEventListener("visibilitychange", refreshCounts);

  // --- claim the open comment --------------------------------------------------------------
  var indicator = document.getElementById("claim-indicator");
  function claim() {
    if (!comment || !indicator) return;
    api("POST", "/api/v1/moderation/comments/" + comment.dataset.id + "/claim")
      .then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); })
      .then(function (res) {
        if (res.status === 200) {
          var until = new Date(res.body.expires_at);
          indicator.textContent = "You are reviewing this until " +
            until.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) + ".";
          indicator.classList.remove("claim-other");
          indicator.classList.add("claim-mine");
        } else if (res.status === 409 && res.body.claim) {
          indicator.textContent = res.body.claim.moderator + " is reviewing this. Decisions are blocked until they finish.";
          indicator.classList.add("claim-other");
        }
      })
      .catch(function () {});
  }
  claim();

  // --- selection and navigation ------------------------------------------------------------
  var rows = Array.prototype.slice.call(document.querySelectorAll("#queue-items .item"));
  var current = rows.findIndex(function (row) { return row.classList.contains("is-selected"); });

  function go(delta) {
    if (!rows.length) return;
    var next = Math.min(rows.length - 1, Math.max(0, (current < 0 ? -1 : current) + delta));
    if (next === current) return;
    var link = rows[next].querySelector(".item-link");
    if (link) window.location.assign(link.getAttribute("href"));
  }

  function submit(id) {
    var form = document.getElementById(id);
    if (!form) return;
    var note = document.getElementById("note");
    form.querySelectorAll(".note-mirror").forEach(function (input) { input.value = note ? note.value : ""; });
    if (typeof form.requestSubmit === "function") form.requestSubmit(); else form.submit();
  }

  function setRejectMode(on) {
    rejectMode = on;
    var hint = document.getElementById("reject-hint");
    if (hint) hint.hidden = !on;
    var select = document.getElementById("reject-reason");
    if (on && select) select.focus();
  }

  function rejectWith(index) {
    var select = document.getElementById("reject-reason");
    if (!select || index < 1 || index >= select.options.length) return;
    select.selectedIndex = index;
    submit("reject-form");
  }

  // Keep the approve/spam forms' note in step with the note box.
  document.querySelectorAll("#approve-form, #spam-form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var note = document.getElementById("note");
      form.querySelectorAll(".note-mirror").forEach(function (input) { input.value = note ? note.value : ""; });
    });
  });

  // --- bulk selection ----------------------------------------------------------------------
  var checks = Array.prototype.slice.call(document.querySelectorAll(".item-check"));
  var selectAll = document.getElementById("select-all");
  var selectedCount = document.getElementById("selected-count");
  function updateSelected() {
    var n = checks.filter(function (c) { return c.checked; }).length;
    if (selectedCount) selectedCount.textContent = n + " selected";
    rows.forEach(function (row) {
      var box = row.querySelector(".item-check");
      row.classList.toggle("is-checked", !!(box && box.checked));
    });
  }
  checks.forEach(function (c) { c.addEventListener("change", updateSelected); });
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      checks.forEach(function (c) { c.checked = selectAll.checked; });
      updateSelected();
    });
  }

  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // --- help --------------------------------------------------------------------------------
  var help = document.getElementById("help");
  var helpOpen = document.getElementById("help-open");
  function toggleHelp() {
    if (!help) return;
    if (help.open) help.close(); else help.showModal();
  }
  if (helpOpen) helpOpen.addEventListener("click", toggleHelp);

  // --- keyboard ----------------------------------------------------------------------------
  function typing(target) {
    var tag = (target && target.tagName) || "";
    return tag === "INPUT" || tag === "TEXTAREA" || (target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      if (rejectMode) { setRejectMode(false); event.preventDefault(); }
      return;
    }
    if (typing(event.target)) return;
    if (rejectMode && /^[1-9]$/.test(event.key)) {
      event.preventDefault();
      rejectWith(parseInt(event.key, 10));
      return;
    }
    // A focused <select> keeps its own letter navigation, except in reject mode.
    if (event.target && event.target.tagName === "SELECT" && !rejectMode) return;
    switch (event.key) {
      case "j": event.preventDefault(); go(1); break;
      case "k": event.preventDefault(); go(-1); break;
      case "a": if (comment) { event.preventDefault(); say("Approving…"); submit("approve-form"); } break;
      case "s": if (comment) { event.preventDefault(); say("Rejecting as spam…"); submit("spam-form"); } break;
      case "r":
        if (!comment) break;
        event.preventDefault();
        var select = document.getElementById("reject-reason");
        if (rejectMode && select && select.value) submit("reject-form"); else setRejectMode(true);
        break;
      case "x":
        if (current >= 0 && checks[current]) {
          event.preventDefault();
          checks[current].checked = !checks[current].checked;
          updateSelected();
        }
        break;
      case "n": {
        var note = document.getElementById("note");
        if (note) { event.preventDefault(); note.focus(); }
        break;
      }
      case "?": event.preventDefault(); toggleHelp(); break;
      default: break;
    }
  });
})();
