// Fieldsync console: keyboard shortcuts for a fast review, and the live queue.
// No inline scripts anywhere (the pages' Content-Security-Policy allows only this file and htmx).
(function () {
  "use strict";

  function cards() { return Array.prototype.slice.call(document.querySelectorAll("article.card")); }
  function selected() { return document.querySelector("article.card.selected"); }
  function select(card, focus) {
    cards().forEach(function (c) { c.classList.remove("selected"); });
    if (card) {
      card.classList.add("selected");
      // Not on a click: moving the focus off a clicked button would make htmx forget which
      // button submitted the form.
      if (focus) { card.focus(); card.scrollIntoView({ block: "nearest" }); }
    }
  }
  function move(step) {
    var all = cards(); if (all.length === 0) { return; }
    var i = all.indexOf(selected());
    select(all[Math.max(0, Math.min(all.length - 1, i + step))], true);
  }
  // The decision form a shortcut acts on: the selected card's, else the page's own.
  function form() {
    var card = selected() || document.activeElement && document.activeElement.closest && document.activeElement.closest("article.card");
    return (card || document).querySelector("form.decision");
  }
  function press(shortcut) {
    var f = form(); if (!f) { return; }
    var button = f.querySelector('button[data-shortcut="' + shortcut + '"]');
    var comment = f.querySelector("textarea");
    // Rejecting needs a comment: type it first, then press r again (or click).
    if (shortcut === "r" && comment && comment.value.trim() === "") { comment.focus(); return; }
    if (button) { button.click(); }
  }
  function help() {
    var d = document.getElementById("shortcut-help");
    if (!d) {
      d = document.createElement("dialog");
      d.id = "shortcut-help"; d.className = "help";
      d.setAttribute("aria-label", "Keyboard shortcuts");
      d.innerHTML = "<h2>Keyboard shortcuts 快捷键</h2><ul>" +
        "<li><kbd>j</kbd> / <kbd>k</kbd>: next / previous visit</li>" +
        "<li><kbd>Enter</kbd> or <kbd>o</kbd>: open the selected visit</li>" +
        "<li><kbd>a</kbd>: approve (the comment typed is kept)</li>" +
        "<li><kbd>r</kbd>: reject: type the comment, then <kbd>r</kbd> again or <kbd>Ctrl</kbd>+<kbd>Enter</kbd></li>" +
        "<li><kbd>c</kbd>: write a comment</li><li><kbd>Esc</kbd>: leave the comment field</li></ul>" +
        "<form method=dialog><button>Close</button></form>";
      document.body.appendChild(d);
    }
    d.showModal();
  }

  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.metaKey) { return; }
    var typing = e.target.matches && e.target.matches("input, textarea, select");
    if (typing) {
      if (e.key === "Escape") { e.target.blur(); }
      if (e.key === "Enter" && e.ctrlKey && e.target.matches("textarea")) {
        e.preventDefault();
        var f = e.target.closest("form.decision");
        var b = f && f.querySelector('button[data-shortcut="r"]');
        if (b) { b.click(); }
      }
      return;
    }
    if (e.ctrlKey) { return; }
    switch (e.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a": press("a"); break;
      case "r": press("r"); break;
      case "c": { var f = form(); var t = f && f.querySelector("textarea"); if (t) { e.preventDefault(); t.focus(); } break; }
      case "o": case "Enter": {
        var card = selected();
        if (card && card.dataset.href && e.target === card) { window.location = card.dataset.href; }
        else if (card && card.dataset.href && e.key === "o") { window.location = card.dataset.href; }
        break;
      }
      case "?": help(); break;
      default: return;
    }
  });

  // Live queue: the server's stream says the feed advanced; refresh the list through htmx,
  // unless a comment is being written (then offer the refresh instead of losing the text).
  function busy() {
    return Array.prototype.some.call(document.querySelectorAll("#queue textarea"), function (t) {
      return t === document.activeElement || t.value.trim() !== "";
    });
  }
  function subscribe() {
    var page = document.querySelector("[data-live]");
    if (!page || !window.EventSource || !window.htmx) { return; }
    var stream = new EventSource(page.dataset.live);
    stream.addEventListener("changes", function () {
      var note = document.getElementById("live-note");
      if (busy()) { if (note) { note.hidden = false; } return; }
      if (note) { note.hidden = true; }
      window.htmx.trigger(document.body, "live-refresh");
    });
  }
  document.addEventListener("htmx:afterSwap", function (e) {
    var note = document.getElementById("live-note");
    if (note && e.detail && e.detail.target && e.detail.target.id === "queue") { note.hidden = true; }
  });
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", subscribe); } else { subscribe(); }

  document.addEventListener("click", function (e) {
    var card = e.target.closest && e.target.closest("article.card");
    if (card) { select(card, false); }
  });
})();
