// What every browser test (console.mjs, models.mjs, review.mjs, portal.mjs)
// needs besides its own steps: reading its environment, launching Chromium,
// failing on any error a page reports, signing in, and exiting with a
// status the Go test that runs the script can read (0 ok, 1 failed).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

// env returns a required variable: the Go test sets them all, so a
// missing one is a mistake to stop at, not to default.
export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

// check throws msg unless ok; run reports the first failed check.
export function check(ok, msg) {
  if (!ok) throw new Error(msg);
}

// baseURL reads a base URL from the environment without its trailing
// slash, so that scripts can append paths that start with one.
export function baseURL(name) {
  return env(name).replace(/\/$/, '');
}

// screenshotsDir returns HG_SCREENSHOTS, created if it is missing: the Go
// test chooses it (a temporary directory, or docs/screenshots).
export function screenshotsDir() {
  const dir = env('HG_SCREENSHOTS');
  mkdirSync(dir, { recursive: true });
  return dir;
}

// signIn fills the sign-in form the console and the portal share and
// submits it, resolving once the browser reached next (a URL or pattern,
// as page.waitForURL takes) or, without next, the page the form led to.
export async function signIn(page, email, password, next) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  const arrived = next ? page.waitForURL(next) : page.waitForNavigation();
  await Promise.all([arrived, page.getByRole('button', { name: 'Sign in' }).click()]);
}

// run launches headless Chromium, calls body(t) and exits: 0 when body
// returned and no page reported a problem, 1 otherwise, after printing why
// and what the page in hand showed (usually an error paragraph says the
// reason). name prefixes every line the script prints. t holds:
//
//   step(s)    logs a step, so that a failure's place shows in the Go test's log
//   open(vp)   a new page in a new context (its own cookies) with viewport vp;
//              the run fails on the page's console errors (a CSP violation
//              shows there first), uncaught exceptions and 4xx/5xx responses
//              (the console message Chromium logs for those does not name
//              the request)
//   current    the page a failure reports: the last one opened; set it to
//              switch back to another
export async function run(name, body) {
  const browser = await chromium.launch({
    executablePath: process.env.HG_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // Chromium's sandbox refuses to start as root, which is how CI runs.
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
  const problems = [];
  const t = {
    current: null,
    step: (s) => console.log(`${name}: ${s}`),
    async open(viewport) {
      const page = await (await browser.newContext({ viewport })).newPage();
      page.setDefaultTimeout(15000);
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
      });
      t.current = page;
      return page;
    },
  };
  let failed = false;
  try {
    await body(t);
    check(problems.length === 0, `the pages reported errors:\n  ${problems.join('\n  ')}`);
    t.step('ok');
  } catch (err) {
    failed = true;
    console.error(`${name}: FAIL: ${err.message}`);
    if (t.current) console.error(`${name}: at ${t.current.url()}:\n${await t.current.locator('main').innerText().catch(() => '(no main element)')}`);
    if (problems.length) console.error(`${name}: errors seen:\n  ${problems.join('\n  ')}`);
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
