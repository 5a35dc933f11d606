// Keyboard shortcuts of the review workspace. The page works without this
// script: every option is a radio button and Submit and Skip are buttons.
// With it a reviewer clears a queue from the keyboard: 1–9 choose an
// option of the focused score (else the first one not answered), y and n
// answer a yes-or-no score, Enter (or Ctrl+Enter) submits, s skips and ?
// shows the list of shortcuts. Keys typed into a text box are left alone.
(function () {
  'use strict';
  var form = document.getElementById('review-form');
  if (!form) return;
  var help = document.getElementById('shortcuts');
  var submit = document.getElementById('review-submit');
  var skip = document.getElementById('review-skip');
  var scores = Array.prototype.slice.call(form.querySelectorAll('fieldset.score'));

  function typing(el) {
    if (!el) return false;
    if (el.isContentEditable || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
    return el.tagName === 'INPUT' && el.type !== 'radio' && el.type !== 'checkbox';
  }

  function answered(fs) {
    return fs.querySelector('input[type=radio]:checked') !== null;
  }

  // current is the score the keys act on: the focused one, else the first
  // not answered, else the first.
  function current(filter) {
    var list = scores.filter(filter || function () { return true; });
    var active = document.activeElement;
    for (var i = 0; i < list.length; i++) {
      if (list[i].contains(active)) return list[i];
    }
    for (var j = 0; j < list.length; j++) {
      if (!answered(list[j])) return list[j];
    }
    return list[0] || null;
  }

  // choose checks an option and moves focus to the next score not yet
  // answered, so that a reviewer can type one key per score.
  function choose(input) {
    input.checked = true;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    var fs = input.closest('fieldset.score');
    var next = null;
    for (var i = scores.indexOf(fs) + 1; i < scores.length; i++) {
      if (!answered(scores[i])) { next = scores[i]; break; }
    }
    var target = next ? next.querySelector('input') : submit;
    if (target) target.focus(); else input.focus();
  }

  function pickKey(key) {
    var fs = current(function (f) { return f.querySelector('input[data-key="' + key + '"]') !== null; });
    if (!fs) return false;
    var input = fs.querySelector('input[data-key="' + key + '"]');
    if (!input) return false;
    choose(input);
    return true;
  }

  document.addEventListener('keydown', function (e) {
    if (e.altKey || e.metaKey) return;
    var t = e.target;
    if (e.key === 'Enter' && e.ctrlKey) {
      e.preventDefault();
      form.requestSubmit(submit);
      return;
    }
    if (e.ctrlKey || typing(t)) return;
    if (e.key === 'Enter') {
      // A focused button or link does what Enter does to it.
      if (t && (t.tagName === 'BUTTON' || t.tagName === 'A' || t.tagName === 'SUMMARY')) return;
      e.preventDefault();
      form.requestSubmit(submit);
    } else if (e.key === 's' || e.key === 'S') {
      e.preventDefault();
      form.requestSubmit(skip);
    } else if (e.key === '?') {
      e.preventDefault();
      if (help) help.open = !help.open;
    } else if (/^[1-9]$/.test(e.key) || e.key === 'y' || e.key === 'n') {
      if (pickKey(e.key)) e.preventDefault();
    }
  });
})();
