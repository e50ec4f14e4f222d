// Article page: post a comment through the public API, follow its moderation live,
// show crisis support at once, reply to and report published comments. No inline script.
(function () {
  "use strict";

  var OUTCOME = {
    pending: "Thanks! Your comment is awaiting moderation.",
    approved: "Your comment has been published.",
    flagged: "Your comment is held for review by a moderator.",
    rejected: "Your comment was not published."
  };

  function $(id) { return document.getElementById(id); }

  function showStatus(kind, text) {
    var box = $("comment-status");
    box.hidden = false;
    box.className = "status " + kind;
    box.setAttribute("data-status", kind);
    box.textContent = text;
  }

  function showSupport(support) {
    var box = $("support");
    if (!support || !box.hidden) { return; }
    $("support-message").textContent = support.message;
    var list = $("support-resources");
    list.textContent = "";
    support.resources.forEach(function (resource) {
      var li = document.createElement("li");
      var match = resource.match(/https?:\/\/\S+/);
      if (match) {
        li.appendChild(document.createTextNode(resource.slice(0, match.index)));
        var a = document.createElement("a");
        a.href = match[0];
        a.textContent = match[0];
        a.rel = "noopener";
        li.appendChild(a);
        li.appendChild(document.createTextNode(resource.slice(match.index + match[0].length)));
      } else {
        li.textContent = resource;
      }
      list.appendChild(li);
    });
    box.hidden = false;
    box.focus();
  }

  function appendPublished(status, author, parentId) {
    var li = document.createElement("li");
    li.className = "comment new";
    li.id = "comment-" + status.id;
    var art = document.createElement("article");
    var meta = document.createElement("p");
    meta.className = "meta";
    var who = document.createElement("span");
    who.className = "author";
    who.textContent = author;
    meta.appendChild(who);
    meta.appendChild(document.createTextNode("just now"));
    var body = document.createElement("p");
    body.className = "body";
    body.textContent = status.body || "";
    art.appendChild(meta);
    art.appendChild(body);
    li.appendChild(art);
    var parent = parentId && $("comment-" + parentId);
    var list;
    if (parent) {
      list = parent.querySelector(":scope > ol.thread");
      if (!list) { list = document.createElement("ol"); list.className = "thread"; parent.appendChild(list); }
    } else {
      list = document.querySelector("#comments > ol.thread");
      if (!list) {
        list = document.createElement("ol");
        list.className = "thread";
        var empty = document.querySelector("#comments .empty");
        if (empty) { empty.replaceWith(list); } else { $("comments").insertBefore(list, document.querySelector(".compose")); }
      }
    }
    list.appendChild(li);
    var count = document.querySelector("#comments-title .count");
    if (count) {
      var n = parseInt(count.textContent.replace(/\D/g, ""), 10) || 0;
      count.textContent = "(" + (n + 1) + ")";
    }
  }

  function follow(url, author, parentId) {
    var delay = 1000;
    function poll() {
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r); })
        .then(function (status) {
          showSupport(status.support);
          if (status.status === "pending") {
            delay = Math.min(delay * 1.5, 5000);
            window.setTimeout(poll, delay);
            return;
          }
          showStatus(status.status, OUTCOME[status.status] || status.message);
          if (status.status === "approved") { appendPublished(status, author, parentId); }
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    window.setTimeout(poll, 500);
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + "-" + String(Math.random()).slice(2);
  }

  function setupForm(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = form.elements.body.value;
      var author = form.elements.author_name.value.trim() || "Anonymous";
      if (!body.trim()) {
        showStatus("error", "Please write a comment first.");
        form.elements.body.focus();
        return;
      }
      var payload = { body: body, author_name: author };
      var email = form.elements.author_email.value.trim();
      if (email) { payload.author_email = email; }
      var parentId = form.elements.parent_id.value;
      if (parentId) { payload.parent_id = parentId; }
      var button = $("submit");
      button.disabled = true;
      fetch(form.getAttribute("data-endpoint"), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": newKey() },
        body: JSON.stringify(payload)
      })
        .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
        .then(function (result) {
          button.disabled = false;
          if (!result.ok) {
            showStatus("error", result.data.message || "Your comment could not be sent.");
            return;
          }
          showSupport(result.data.support);
          showStatus("pending", OUTCOME.pending);
          form.reset();
          clearReply();
          follow(result.data.status_url, author, parentId);
        })
        .catch(function () {
          button.disabled = false;
          showStatus("error", "Your comment could not be sent. Check your connection and try again.");
        });
    });
  }

  function clearReply() {
    var field = $("parent_id");
    if (field) { field.value = ""; }
    var box = $("replying");
    if (box) { box.hidden = true; }
  }

  function setupReplies(form) {
    document.querySelectorAll("button.reply").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        form.elements.parent_id.value = button.getAttribute("data-reply-to");
        $("replying-text").textContent = "Replying to " + button.getAttribute("data-author") + ".";
        $("replying").hidden = false;
        form.elements.body.focus();
      });
    });
    $("cancel-reply").addEventListener("click", clearReply);
  }

  function setupReports() {
    var template = $("report-template");
    document.querySelectorAll("button.report").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var holder = button.parentNode;
        var existing = holder.querySelector(".report-form");
        if (existing) {
          existing.remove();
          button.setAttribute("aria-expanded", "false");
          return;
        }
        var form = template.content.firstElementChild.cloneNode(true);
        holder.appendChild(form);
        button.setAttribute("aria-expanded", "true");
        form.elements.reason.focus();
        form.addEventListener("submit", function (event) {
          event.preventDefault();
          var status = form.querySelector(".report-status");
          var id = button.getAttribute("data-report");
          fetch("/api/v1/comments/" + id + "/reports", {
            method: "POST",
            headers: { "Content-Type": "application/json", Accept: "application/json" },
            body: JSON.stringify({ reason: form.elements.reason.value })
          }).then(function (r) {
            status.textContent = r.ok ? "Thank you. A moderator will look at this comment."
                                      : "The report could not be sent. Please try again later.";
            if (r.ok) { form.querySelector("button").disabled = true; }
          }).catch(function () { status.textContent = "The report could not be sent."; });
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = $("comment-form");
    if (form) {
      setupForm(form);
      setupReplies(form);
    }
    setupReports();
  });
})();
