/* Hypergate feedback widget. No dependencies; safe under a strict CSP
   (script-src 'self'-style: no inline script, no eval, no inline style
   attributes — styles are set through a constructed stylesheet or CSSOM).
   Usage: <div data-hypergate-feedback data-request-id="…" data-key="pk_…"></div>
   (or data-page="/portal/…" instead of data-request-id; data-comment="off"
   hides the comment box; data-name names the score, "helpful" by default). */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script && script.src ? script.src : location.href;
  var ids = {};
  var css = ".hgf{font:14px/1.4 system-ui,sans-serif;display:flex;flex-wrap:wrap;gap:.5em;align-items:center}" +
    ".hgf button{font:inherit;cursor:pointer;border:1px solid #888;border-radius:4px;background:#fff;color:#111;padding:.2em .6em}" +
    ".hgf button[aria-pressed=true]{background:#1f6feb;border-color:#1f6feb;color:#fff}" +
    ".hgf button:focus-visible,.hgf textarea:focus-visible{outline:2px solid #1f6feb;outline-offset:2px}" +
    ".hgf textarea{font:inherit;width:100%;min-height:3em;box-sizing:border-box}" +
    ".hgf-c{flex-basis:100%;display:flex;flex-direction:column;gap:.3em}" +
    ".hgf-s{font-size:.9em;color:#555}";
  var styled = false;

  function style() {
    if (styled) return;
    styled = true;
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
    } catch (e) {
      // Older browsers: the widget works unstyled.
    }
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function newID() {
    var b = new Uint8Array(12), s = "hgw-";
    crypto.getRandomValues(b);
    for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
    return s;
  }

  // One feedback id per target and score, kept for the page's life (and
  // the tab's, when sessionStorage is there), so a second click changes
  // the feedback instead of adding another.
  function feedbackID(target, name) {
    var k = "hgf:" + name + ":" + target;
    if (ids[k]) return ids[k];
    try { ids[k] = sessionStorage.getItem(k); } catch (e) { /* storage blocked */ }
    if (!ids[k]) {
      ids[k] = newID();
      try { sessionStorage.setItem(k, ids[k]); } catch (e) { /* storage blocked */ }
    }
    return ids[k];
  }

  function mount(root) {
    if (root.getAttribute("data-hypergate-mounted")) return;
    var key = root.getAttribute("data-key") || "";
    var req = root.getAttribute("data-request-id") || "";
    var page = root.getAttribute("data-page") || "";
    var name = root.getAttribute("data-name") || "helpful";
    if (!key || (!req && !page)) return;
    root.setAttribute("data-hypergate-mounted", "1");
    style();
    var box = el("div", "hgf");
    box.setAttribute("role", "group");
    var q = el("span", "", root.getAttribute("data-question") || "Was this helpful?");
    q.id = feedbackID(req || page, name) + "-q";
    box.setAttribute("aria-labelledby", q.id);
    var yes = el("button", "", "\uD83D\uDC4D");
    var no = el("button", "", "\uD83D\uDC4E");
    yes.type = no.type = "button";
    yes.setAttribute("aria-label", "Yes, helpful");
    no.setAttribute("aria-label", "No, not helpful");
    yes.setAttribute("aria-pressed", "false");
    no.setAttribute("aria-pressed", "false");
    var status = el("span", "hgf-s");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    box.appendChild(q);
    box.appendChild(yes);
    box.appendChild(no);
    box.appendChild(status);

    var value = null, comment = null, send = null;
    if (root.getAttribute("data-comment") !== "off") {
      var c = el("div", "hgf-c");
      var label = el("label", "", "Tell us more (optional)");
      comment = el("textarea");
      comment.id = q.id.replace(/-q$/, "-c");
      comment.maxLength = 2000;
      label.htmlFor = comment.id;
      send = el("button", "", "Send comment");
      send.type = "button";
      c.appendChild(label);
      c.appendChild(comment);
      c.appendChild(send);
      c.hidden = true;
      box.appendChild(c);
      send.addEventListener("click", function () {
        if (value !== null) post(value, c);
      });
    }

    function post(v, commentBox) {
      var body = { id: feedbackID(req || page, name), name: name, value: v };
      if (req) body.request_id = req; else body.page = page;
      if (comment && comment.value) body.comment = comment.value;
      status.textContent = "Sending\u2026";
      fetch(new URL("/v1/feedback", base).href, {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        headers: { "Authorization": "Bearer " + key, "Content-Type": "application/json" },
        body: JSON.stringify(body)
      }).then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        status.textContent = "Thank you for your feedback.";
        if (commentBox) commentBox.hidden = false;
      }).catch(function () {
        status.textContent = "Your feedback could not be sent. Please try again.";
      });
    }

    function vote(v) {
      value = v;
      yes.setAttribute("aria-pressed", String(v));
      no.setAttribute("aria-pressed", String(!v));
      post(v, comment ? comment.parentNode : null);
    }
    yes.addEventListener("click", function () { vote(true); });
    no.addEventListener("click", function () { vote(false); });
    root.appendChild(box);
  }

  function scan() {
    var all = document.querySelectorAll("[data-hypergate-feedback]");
    for (var i = 0; i < all.length; i++) mount(all[i]);
  }

  // Pages that add feedback boxes later call HypergateFeedback.scan().
  window.HypergateFeedback = { scan: scan };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
})();
