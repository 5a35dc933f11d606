// Drives the console's review workspace in headless Chromium the way a
// reviewer does: sign in, open a call, add it to a review queue from the
// call page, then review it with the keyboard only (number keys, y/n,
// Enter), and read a hypercare window's report. It also checks that the
// main pages do not scroll sideways on a phone (375 px wide).
// internal/app/browser_review_test.go starts a gateway, sends the call and
// runs this script; it reads everything it needs from the environment:
//
//   HG_CONSOLE_URL    base URL of the admin listener (the console is at /)
//   HG_EMAIL          an admin user's email
//   HG_PASSWORD       that user's password
//   HG_CALL_ID        the call to add to the queue and review
//   HG_QUEUE          the review queue (dimensions: a yes/no score, then a 1–5 one)
//   HG_HYPERCARE      a hypercare window's name
//   HG_SCREENSHOTS    directory the screenshots are written to
//   HG_CHROMIUM       the browser binary (default /usr/bin/chromium)
//
// Any failed check throws; the script then prints the reason and exits 1.
import { join } from 'node:path';
import { baseURL, check, env, run, screenshotsDir, signIn } from './lib.mjs';

const base = baseURL('HG_CONSOLE_URL');
const email = env('HG_EMAIL');
const password = env('HG_PASSWORD');
const callID = env('HG_CALL_ID');
const queue = env('HG_QUEUE');
const windowName = env('HG_HYPERCARE');
const shots = screenshotsDir();

await run('review.mjs', async ({ open, step }) => {
  const page = await open({ width: 1280, height: 900 });

  step('sign in');
  await page.goto(`${base}/signin`);
  await signIn(page, email, password, `${base}/`);

  step('add the call to the review queue from the call page');
  await page.goto(`${base}/calls/${callID}`);
  await page.getByLabel('Queue', { exact: true }).selectOption(queue);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Add to review queue' }).click()]);
  const notice = await page.locator('p.notice').innerText();
  check(notice.includes(`Added to review queue ${queue}.`), `after adding, the call page says ${JSON.stringify(notice)}`);
  await Promise.all([page.waitForURL(`${base}/review/${queue}`), page.getByRole('link', { name: `Open review queue ${queue}` }).click()]);

  step('take the item with the keyboard');
  await page.getByRole('button', { name: 'Review the next item' }).focus();
  await Promise.all([page.waitForURL(/\/review\/[^/]+\/items\//), page.keyboard.press('Enter')]);
  const itemURL = page.url();
  check((await page.locator('.review-call').innerText()).includes(callID), `the item page does not show call ${callID}`);
  check((await page.locator('p.progress').innerText()).includes('0 of 1'), `progress: ${await page.locator('p.progress').innerText()}`);

  step('score with shortcut keys');
  const help = page.locator('#shortcuts');
  check(!(await help.evaluate((d) => d.open)), 'the shortcut help is open before ? was pressed');
  await page.keyboard.press('?');
  check(await help.evaluate((d) => d.open), '? did not open the shortcut help');
  await page.keyboard.press('n'); // the yes/no score: no
  await page.keyboard.press('2'); // the 1–5 score: 2
  const checked = await page.locator('input[type=radio]:checked').evaluateAll((els) => els.map((e) => `${e.name}=${e.value}`));
  check(checked.length === 2 && checked.includes('score.correct=false') && checked.includes('score.rating=2'),
    `after n and 2 the chosen options are ${JSON.stringify(checked)}`);
  // The last score answered, focus is on Submit; Shift+Tab reaches the
  // comment box, where keys are text, not shortcuts.
  check(await page.evaluate(() => document.activeElement.id) === 'review-submit', 'focus did not move to Submit after the last score');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.type('n 1 sent 2 answers');
  const still = await page.locator('input[type=radio]:checked').evaluateAll((els) => els.map((e) => `${e.name}=${e.value}`));
  check(still.includes('score.rating=2') && still.includes('score.correct=false') && still.length === 2,
    `typing a comment changed the scores: ${JSON.stringify(still)}`);
  await page.screenshot({ path: join(shots, 'review.png') });
  await page.keyboard.press('Tab');
  await Promise.all([page.waitForURL((u) => u.toString() !== itemURL), page.keyboard.press('Enter')]);
  check(new URL(page.url()).pathname === `/review/${queue}`, `after submitting, the browser is at ${page.url()}`);
  check((await page.locator('p.notice').innerText()).includes('No item is left'), 'the queue page does not say the queue is done');

  step('hypercare report');
  await page.goto(`${base}/hypercare`);
  await Promise.all([page.waitForURL(`${base}/hypercare/${windowName}`), page.getByRole('link', { name: windowName }).click()]);
  check(await page.locator('table.hc-metrics tbody tr').count() >= 5, 'the report has too few metrics');
  await page.screenshot({ path: join(shots, 'hypercare.png'), fullPage: true });

  step('phone widths');
  await page.setViewportSize({ width: 375, height: 800 });
  const pages = ['/', '/calls', `/calls/${callID}`, '/incidents', '/alerts', '/review', `/review/${queue}`, '/hypercare', `/hypercare/${windowName}`];
  // An incident's page too, when the board lists one.
  await page.goto(`${base}/incidents`);
  const incident = await page.locator('table.incidents a[href^="/incidents/"]').first().getAttribute('href').catch(() => null);
  if (incident) pages.push(incident);
  for (const p of pages) {
    await page.goto(`${base}${p}`);
    const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    check(over <= 0, `${p} scrolls sideways by ${over}px at 375 px wide`);
  }
});
