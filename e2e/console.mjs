// Drives the Hypergate console in headless Chromium the way an operator
// does: sign in, read the overview, find a call in the explorer, rate it,
// then acknowledge and resolve an incident from the triage board.
// internal/app/browser_test.go starts a gateway, sends the calls and runs
// this script; it reads everything it needs from the environment:
//
//   HG_CONSOLE_URL    base URL of the admin listener (the console is at /)
//   HG_EMAIL          an admin user's email
//   HG_PASSWORD       that user's password
//   HG_CALL_ID        a call made with HG_MODEL
//   HG_OTHER_CALL_ID  a call made with another model (must be filtered out)
//   HG_MODEL          the model to filter the explorer by
//   HG_INCIDENT_ID    an open incident, to acknowledge and resolve
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
const otherID = env('HG_OTHER_CALL_ID');
const model = env('HG_MODEL');
const incidentID = env('HG_INCIDENT_ID');
const shots = screenshotsDir();

await run('console.mjs', async ({ open, step }) => {
  const page = await open({ width: 1280, height: 800 });

  step('sign in');
  let resp = await page.goto(`${base}/`);
  check(new URL(page.url()).pathname === '/signin', `/ did not send an anonymous user to /signin: ${page.url()}`);
  const csp = resp.headers()['content-security-policy'] || '';
  check(csp.includes("script-src 'self'") && !csp.includes('unsafe-inline') && csp.includes("frame-ancestors 'none'"),
    `sign-in page Content-Security-Policy: ${JSON.stringify(csp)}`);
  await signIn(page, email, password, `${base}/`);

  step('overview');
  await page.getByRole('heading', { name: 'Traffic' }).waitFor();
  const requests = (await page.locator('dl.stats div', { hasText: 'Requests' }).locator('dd').innerText()).trim();
  check(parseFloat(requests) > 0, `overview shows ${JSON.stringify(requests)} requests, want a positive figure`);
  for (const label of ['Error rate', 'p95 latency', 'Tokens', 'Cost']) {
    const v = (await page.locator('dl.stats div', { hasText: label }).locator('dd').innerText()).trim();
    check(v !== '' && v !== '–', `overview shows no ${label}: ${JSON.stringify(v)}`);
  }
  check(await page.locator('svg polyline.line-requests').count() === 1, 'overview has no requests chart');
  check(await page.getByText(email).count() > 0, 'overview does not name the signed-in user');
  await page.screenshot({ path: join(shots, 'overview.png') });

  step('call explorer, filtered by model');
  await Promise.all([page.waitForURL(/\/calls$/), page.getByRole('link', { name: 'Calls' }).click()]);
  check(await page.locator(`a[href="/calls/${otherID}"]`).count() === 1, 'the unfiltered explorer lacks the other call');
  await page.getByLabel('Model').fill(model);
  await Promise.all([page.waitForURL(/\/calls\?.*model=/), page.getByRole('button', { name: 'Filter' }).click()]);
  check(await page.locator(`a[href="/calls/${callID}"]`).count() === 1, `the explorer filtered by ${model} lacks call ${callID}`);
  check(await page.locator(`a[href="/calls/${otherID}"]`).count() === 0, `the explorer filtered by ${model} shows call ${otherID}`);
  const models = await page.locator('table.calls tbody tr td:nth-child(4)').allInnerTexts();
  check(models.length > 0 && models.every((m) => m.trim() === model), `filtered rows have models ${JSON.stringify(models)}`);
  await page.screenshot({ path: join(shots, 'explorer.png') });

  step('call page');
  await Promise.all([page.waitForURL(`${base}/calls/${callID}`), page.locator(`a[href="/calls/${callID}"]`).click()]);
  await page.getByRole('heading', { name: 'Attempts' }).waitFor();
  check(await page.getByText('No feedback yet').count() === 1, 'the call page has feedback before any was given');

  step('feedback through the form');
  const comment = 'clear and correct, from the browser test';
  await page.getByLabel('Score').fill('helpful');
  await page.getByLabel('Value').selectOption('true');
  await page.getByLabel('Comment').fill(comment);
  resp = (await Promise.all([
    page.waitForNavigation(),
    page.getByRole('button', { name: 'Add feedback' }).click(),
  ]))[0];
  check(resp && resp.ok(), `feedback answered ${resp && resp.status()}`);
  check(new URL(page.url()).pathname === `/calls/${callID}`, `after feedback the browser is at ${page.url()}`);
  const fb = page.locator('section[aria-labelledby="feedback"] li', { hasText: comment });
  check(await fb.count() === 1, 'the feedback is not shown on the call page');
  const fbText = await fb.innerText();
  check(fbText.includes('helpful') && fbText.includes('true') && fbText.includes(email), `feedback reads ${JSON.stringify(fbText)}`);
  check(await page.getByText('No feedback yet').count() === 0, 'the call page still says "No feedback yet"');
  const callCSP = resp.headers()['content-security-policy'] || '';
  check(callCSP.includes("script-src 'self'") && !callCSP.includes('unsafe-inline'), `call page Content-Security-Policy: ${JSON.stringify(callCSP)}`);
  await page.screenshot({ path: join(shots, 'call.png'), fullPage: false });

  step('acknowledge and resolve an incident');
  await Promise.all([page.waitForURL(/\/incidents$/), page.getByRole('link', { name: 'Incidents' }).click()]);
  const row = page.locator(`a[href="/incidents/${incidentID}"]`);
  check(await row.count() === 1, `the triage board lacks incident ${incidentID}`);
  check(await page.locator('table.incidents tbody tr').count() > 0, 'the triage board has no rows');
  await page.screenshot({ path: join(shots, 'incidents.png') });
  await Promise.all([page.waitForURL(`${base}/incidents/${incidentID}`), row.click()]);
  const shownState = async () => (await page.locator('dl.facts .state').innerText()).trim();
  check(await shownState() === 'open', `the incident page shows state ${JSON.stringify(await shownState())}, want open`);
  check(await page.locator('section[aria-labelledby="samples"] a[href^="/calls/"]').count() > 0, 'the incident page lists no sample calls');
  for (const [button, want] of [['Acknowledge', 'acknowledged'], ['Resolve', 'resolved']]) {
    resp = (await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: button }).click()]))[0];
    check(resp && resp.ok(), `${button} answered ${resp && resp.status()}`);
    check(new URL(page.url()).pathname === `/incidents/${incidentID}`, `after ${button} the browser is at ${page.url()}`);
    check(await shownState() === want, `after ${button} the incident shows state ${JSON.stringify(await shownState())}, want ${want}`);
  }
  check(await page.getByRole('button', { name: 'Reopen' }).count() === 1, 'a resolved incident offers no Reopen');
  check(await page.getByRole('button', { name: 'Resolve' }).count() === 0, 'a resolved incident still offers Resolve');
});
