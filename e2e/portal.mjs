// Drives the developer portal and the console's approval page in headless
// Chromium: an application's developer signs in to the portal on the data
// plane, searches the catalog, reads a service's documentation, answers
// "was this page helpful?" and subscribes the application; an approver of
// the service's team approves it in the console; the developer sees it
// approved, creates a key (shown once) and calls the service with "try it".
// internal/app/browser_portal_test.go starts the gateway and runs this
// script; it reads everything it needs from the environment:
//
//   HG_PORTAL_URL     the portal's base URL on the data plane (…/portal)
//   HG_CONSOLE_URL    base URL of the admin listener (the console is at /)
//   HG_DEV_EMAIL      a user who may subscribe HG_APP and make its keys
//   HG_APPROVER_EMAIL a team_admin of the team that owns HG_SERVICE
//   HG_PASSWORD       both users' password
//   HG_APP            the application to subscribe
//   HG_SERVICE        a service with manual approval and an OpenAPI document
//   HG_SCREENSHOTS    directory the screenshots are written to
//   HG_CHROMIUM       the browser binary (default /usr/bin/chromium)
//
// Any failed check throws; the script then prints the reason and exits 1.
import { join } from 'node:path';
import { baseURL, check, env, run, screenshotsDir, signIn } from './lib.mjs';

const portal = baseURL('HG_PORTAL_URL');
const consoleURL = baseURL('HG_CONSOLE_URL');
const devEmail = env('HG_DEV_EMAIL');
const approverEmail = env('HG_APPROVER_EMAIL');
const password = env('HG_PASSWORD');
const app = env('HG_APP');
const service = env('HG_SERVICE');
const shots = screenshotsDir();

await run('portal.mjs', async (t) => {
  const { open, step } = t;
  const dev = await open({ width: 1280, height: 900 });

  step('sign in to the portal');
  let resp = await dev.goto(`${portal}/`);
  check(new URL(dev.url()).pathname.endsWith('/signin'), `the portal did not send an anonymous user to sign in: ${dev.url()}`);
  const csp = resp.headers()['content-security-policy'] || '';
  check(csp.includes("script-src 'self'") && !csp.includes('unsafe-inline'), `portal Content-Security-Policy: ${JSON.stringify(csp)}`);
  check(await dev.getByText("ask the API's owners").count() === 1, 'the sign-in page does not say how to get an account');
  await signIn(dev, devEmail, password);
  check(new URL(dev.url()).pathname === new URL(`${portal}/`).pathname, `after sign-in the browser is at ${dev.url()}`);

  step('search the catalog');
  await dev.getByLabel('Search').fill('orders');
  await Promise.all([dev.waitForURL(/\?.*q=orders/), dev.getByRole('button', { name: 'Search' }).click()]);
  const entries = dev.locator('ul.catalog li.entry');
  check(await entries.count() === 1, `searching "orders" lists ${await entries.count()} services, want 1`);
  check(await entries.first().getByText(service).count() > 0, `the search result is not ${service}`);
  await dev.screenshot({ path: join(shots, 'portal-catalog.png') });

  step('read the documentation');
  await Promise.all([dev.waitForURL(new RegExp(`/services/${service}$`)), entries.first().locator('h2 a').click()]);
  await dev.getByRole('heading', { name: 'Documentation' }).waitFor();
  check(await dev.locator('article.operation').count() >= 2, 'the service page lists no operations');
  check(await dev.locator('ul.fields li').count() > 0, 'the service page shows no schema fields');

  step('was this page helpful?');
  await dev.getByLabel('Comment (optional)').fill('clear examples, from the browser test');
  await Promise.all([dev.waitForURL(/done=feedback/), dev.getByRole('button', { name: 'Yes' }).click()]);
  await dev.getByText('Thank you for your feedback').waitFor();

  step('subscribe the application');
  await dev.getByLabel('Application', { exact: true }).selectOption(app);
  await Promise.all([dev.waitForURL(/done=subscribed/), dev.getByRole('button', { name: 'Subscribe' }).click()]);
  const stateCell = dev.locator('table.subscriptions tr', { hasText: app }).locator('.sub-state');
  check((await stateCell.innerText()).trim() === 'pending', `the subscription shows ${JSON.stringify(await stateCell.innerText())}, want pending`);

  step('approve it in the console as the service team');
  const approver = await open({ width: 1280, height: 800 });
  await approver.goto(`${consoleURL}/subscriptions`);
  check(new URL(approver.url()).pathname === '/signin', `the console did not ask the approver to sign in: ${approver.url()}`);
  await signIn(approver, approverEmail, password);
  check(new URL(approver.url()).pathname === '/subscriptions', `after sign-in the approver is at ${approver.url()}`);
  const row = approver.locator('table.subscriptions tbody tr', { hasText: app }).filter({ hasText: service });
  check(await row.count() === 1, `the approval page lists ${await row.count()} rows for ${app} → ${service}`);
  await approver.screenshot({ path: join(shots, 'subscriptions.png') });
  await Promise.all([approver.waitForNavigation(), row.getByRole('button', { name: /^Approve/ }).click()]);
  check((await row.locator('.state').innerText()).trim() === 'approved', 'the approval page does not show the subscription approved');

  step('follow the approval in the portal');
  t.current = dev;
  await dev.goto(`${portal}/apps/${app}`);
  const subRow = dev.locator('tr', { hasText: service }).locator('.sub-state');
  check((await subRow.innerText()).trim() === 'approved', `the application page shows ${JSON.stringify(await subRow.innerText())}, want approved`);

  step('create a key, shown once');
  await dev.getByLabel('Key name').fill('from-the-browser');
  await Promise.all([dev.waitForNavigation(), dev.getByRole('button', { name: 'Create key' }).click()]);
  const secret = await dev.locator('#secret').inputValue();
  check(secret.length > 20, `the new key is ${JSON.stringify(secret)}`);
  check(await dev.getByText('only time').count() === 1, 'the new key comes without its warning');
  await dev.screenshot({ path: join(shots, 'portal-app.png') });
  await dev.goto(`${portal}/apps/${app}`);
  check(!(await dev.content()).includes(secret), 'the key is shown again on a later page');
  check(await dev.locator('section[aria-labelledby="keys"] tbody td:first-child', { hasText: 'from-the-browser' }).count() === 1, 'the new key is not listed');

  step('try it with the key');
  await dev.goto(`${portal}/services/${service}`);
  const op = dev.locator('article.operation', { has: dev.locator('h4 code', { hasText: '/orders/{id}' }) }).filter({ hasText: 'Read an order' });
  check(await op.count() === 1, 'the service page lacks GET /orders/{id}');
  await op.locator('summary', { hasText: 'Try it' }).click();
  await op.getByLabel('API key').fill(secret);
  await op.getByLabel(/^id/).fill('42');
  await op.getByRole('button', { name: 'Send' }).click();
  await op.locator('.try-status', { hasText: /^200/ }).waitFor();
  const body = await op.locator('.try-response').innerText();
  check(body.includes('/orders/42'), `try it answered ${body}`);
  await op.scrollIntoViewIfNeeded();
  await dev.screenshot({ path: join(shots, 'portal-service.png') });
});
