// "Try it" on the developer portal's service pages: sends an operation
// to this gateway's data plane (same origin) with the key the user types,
// and shows the answer. Nothing is sent anywhere else, and the key is kept
// only in the page's fields.
'use strict';
(function () {
  document.documentElement.classList.add('js');

  function buildURL(form) {
    let path = form.dataset.path;
    const query = new URLSearchParams();
    const headers = {};
    let missing = '';
    form.querySelectorAll('.try-param').forEach(function (input) {
      const v = input.value;
      if (v === '') {
        if (input.required && !missing) missing = input.dataset.name;
        return;
      }
      switch (input.dataset.in) {
        case 'path':
          path = path.split('{' + input.dataset.name + '}').join(encodeURIComponent(v));
          break;
        case 'query':
          query.append(input.dataset.name, v);
          break;
        case 'header':
          headers[input.dataset.name] = v;
          break;
      }
    });
    const qs = query.toString();
    return { url: path + (qs ? '?' + qs : ''), headers: headers, missing: missing };
  }

  async function send(form) {
    const result = form.querySelector('.try-result');
    const status = form.querySelector('.try-status');
    const headersOut = form.querySelector('.try-headers');
    const bodyOut = form.querySelector('.try-response');
    const req = buildURL(form);
    result.hidden = false;
    headersOut.textContent = '';
    bodyOut.textContent = '';
    if (req.missing) {
      status.textContent = 'fill in ' + req.missing + ' first';
      return;
    }
    const key = form.querySelector('.try-key').value.trim();
    if (key) req.headers['Authorization'] = 'Bearer ' + key;
    const init = { method: form.dataset.method, headers: req.headers, credentials: 'omit', redirect: 'manual' };
    const body = form.querySelector('.try-body');
    if (body && body.value.trim() !== '' && init.method !== 'GET' && init.method !== 'HEAD') {
      init.body = body.value;
      req.headers['Content-Type'] = body.dataset.type || 'application/json';
    }
    status.textContent = 'sending…';
    try {
      const resp = await fetch(req.url, init);
      let lines = '';
      resp.headers.forEach(function (v, k) { lines += k + ': ' + v + '\n'; });
      status.textContent = resp.status + ' ' + resp.statusText;
      headersOut.textContent = lines;
      let text = await resp.text();
      try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON: shown as it is */ }
      bodyOut.textContent = text;
    } catch (e) {
      status.textContent = 'the request failed: ' + e.message;
    }
  }

  function init() {
    const keys = document.querySelectorAll('.try-key');
    keys.forEach(function (k) {
      // One key for every operation of the page: typed once.
      k.addEventListener('input', function () {
        keys.forEach(function (other) { if (other !== k) other.value = k.value; });
      });
    });
    document.querySelectorAll('form.try').forEach(function (form) {
      form.addEventListener('submit', function (ev) { ev.preventDefault(); send(form); });
      form.querySelector('.try-send').addEventListener('click', function () { send(form); });
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
