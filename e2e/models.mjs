// Drives the console in headless Chromium the way a newcomer connects an
// upstream: sign in, connect a provider, create a model on it, create an
// application and a key, then (second phase) find the call made with that
// key in the explorer and open it. internal/app/browser_models_test.go
// starts the gateway, runs the "setup" phase, sends the call with the key
// the browser read, and runs the "explore" phase. It reads from the
// environment:
//
//   HG_PHASE          setup or explore
//   HG_CONSOLE_URL    base URL of the admin listener (the console is at /)
//   HG_EMAIL          an admin user's email
//   HG_PASSWORD       that user's password
//   HG_UPSTREAM_URL   base URL of the fake OpenAI-compatible upstream
//   HG_KEY_ENV        the environment variable holding the upstream's key
//   HG_PROVIDER       name of the provider to connect
//   HG_MODEL          name of the model to create
//   HG_UPSTREAM_MODEL the upstream's name for it
//   HG_APP            name of the application to create
//   HG_OUT            directory the new key is written to (file "key")
//   HG_CALL_ID        (explore) the call made with the key
//   HG_SCREENSHOTS    directory the screenshots are written to
//   HG_CHROMIUM       the browser binary (default /usr/bin/chromium)
//
// Any failed check throws; the script then prints the reason and exits 1.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseURL, check, env, run, screenshotsDir, signIn } from './lib.mjs';

const phase = env('HG_PHASE');
const base = baseURL('HG_CONSOLE_URL');
const model = env('HG_MODEL');
const shots = screenshotsDir();

// nav is a link of the console's navigation bar.
const nav = (page, name) => page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true });

// submit clicks a form's button and waits for the page it leads to.
async function submit(page, button) {
  const resp = (await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: button, exact: true }).click()]))[0];
  check(resp && resp.ok(), `${button} answered ${resp && resp.status()}: ${await page.locator('main').innerText()}`);
  return resp;
}

async function setup(page, step) {
  const provider = env('HG_PROVIDER');
  const keyEnv = env('HG_KEY_ENV');
  const app = env('HG_APP');

  step('connect a provider');
  await Promise.all([page.waitForURL(/\/models$/), nav(page, 'Models').click()]);
  await Promise.all([page.waitForURL(/\/providers$/), page.getByRole('link', { name: 'Providers', exact: true }).click()]);
  await page.getByLabel('Type').selectOption('openai');
  await page.getByLabel('Name', { exact: true }).fill(provider);
  await page.getByLabel('Base URL (optional)').fill(env('HG_UPSTREAM_URL'));
  await page.getByLabel('API key environment variable').fill(keyEnv);
  await submit(page, 'Connect provider');
  const row = page.locator('table.providers tbody tr', { hasText: provider });
  check(await row.count() === 1, `the providers list lacks ${provider}`);
  check((await row.innerText()).includes(`$${keyEnv}`), `the provider's key is not shown as $${keyEnv}: ${await row.innerText()}`);

  step('create a model');
  await Promise.all([page.waitForURL(/\/models$/), nav(page, 'Models').click()]);
  await page.getByLabel('Name', { exact: true }).fill(model);
  await page.getByLabel('Provider', { exact: true }).selectOption(provider);
  await page.getByLabel('Upstream model', { exact: true }).fill(env('HG_UPSTREAM_MODEL'));
  await submit(page, 'Create model');
  const mrow = page.locator('table.models tbody tr', { hasText: model });
  check(await mrow.count() === 1, `the models list lacks ${model}`);
  check((await mrow.innerText()).includes(`${provider} / ${env('HG_UPSTREAM_MODEL')}`), `model row reads ${await mrow.innerText()}`);
  await page.screenshot({ path: join(shots, 'models.png'), fullPage: true });

  step('create an application and a key');
  await Promise.all([page.waitForURL(/\/applications$/), nav(page, 'Applications').click()]);
  await page.getByLabel('Name', { exact: true }).fill(app);
  await submit(page, 'Create application');
  check(new URL(page.url()).pathname === `/applications/${app}`, `after creating the application the browser is at ${page.url()}`);
  await page.getByLabel('Key name').first().fill('browser');
  await submit(page, 'Create key');
  await page.getByText('This is the only time this key is shown').waitFor();
  const secret = await page.getByLabel(/^New key browser of/).inputValue();
  check(secret.length > 20, `the key shown is ${JSON.stringify(secret)}`);
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.locator('.copied').filter({ hasText: /\S/ }).waitFor();
  writeFileSync(join(env('HG_OUT'), 'key'), secret, { mode: 0o600 });
  await Promise.all([page.waitForURL(new RegExp(`/applications/${app}`)), page.getByRole('link', { name: /I have stored it/ }).click()]);
  const html = await page.content();
  check(!html.includes(secret), 'the application page shows the key after it was created');
  check(await page.locator('table.keys tbody tr', { hasText: 'browser' }).count() === 1, 'the application page lacks the new key');
  await page.screenshot({ path: join(shots, 'application.png'), fullPage: true });

  step('configuration and its revisions');
  await Promise.all([page.waitForURL(/\/config$/), nav(page, 'Configuration').click()]);
  const yaml = await page.getByLabel('Current configuration as YAML').innerText();
  check(yaml.includes(`api_key: env:${keyEnv}`) && yaml.includes(`name: ${model}`), 'the configuration lacks the new provider or model');
  const revs = page.locator('table.revisions tbody tr');
  check(await revs.count() >= 3, `only ${await revs.count()} revisions listed`);
  // Newest first: the application, the model, the provider.
  check((await revs.nth(1).innerText()).includes(`console: create model ${model}`), `second revision reads ${await revs.nth(1).innerText()}`);
  check((await revs.nth(2).innerText()).includes(`console: connect provider ${env('HG_PROVIDER')}`), `third revision reads ${await revs.nth(2).innerText()}`);
  await page.screenshot({ path: join(shots, 'config.png') });
  await Promise.all([page.waitForURL(/\/config\/revisions\/\d+$/), revs.nth(2).getByRole('link').click()]);
  // The configuration in service has the model the revision lacks.
  check(await page.locator('pre.diff .diff-del', { hasText: `name: ${model}` }).count() === 1, 'the older revision shows no line diff against the current one');
  check(await page.getByRole('button', { name: /^Restore revision/ }).count() === 1, 'no restore button on an older revision');
}

async function explore(page, step) {
  const callID = env('HG_CALL_ID');
  step('find the call in the explorer');
  await Promise.all([page.waitForURL(/\/calls$/), nav(page, 'Calls').click()]);
  await page.getByLabel('Model').fill(model);
  await Promise.all([page.waitForURL(/\/calls\?.*model=/), page.getByRole('button', { name: 'Filter' }).click()]);
  const link = page.locator(`a[href="/calls/${callID}"]`);
  check(await link.count() === 1, `the explorer filtered by ${model} lacks call ${callID}`);
  await Promise.all([page.waitForURL(`${base}/calls/${callID}`), link.click()]);
  await page.getByRole('heading', { name: 'Attempts' }).waitFor();
  check((await page.locator('main').innerText()).includes(model), 'the call page does not name the model');
}

await run(`models.mjs (${phase})`, async ({ open, step }) => {
  const page = await open({ width: 1280, height: 800 });
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });

  step('sign in');
  await page.goto(`${base}/`);
  await signIn(page, env('HG_EMAIL'), env('HG_PASSWORD'), `${base}/`);

  if (phase === 'setup') await setup(page, step);
  else if (phase === 'explore') await explore(page, step);
  else throw new Error(`unknown HG_PHASE ${phase}`);
});
