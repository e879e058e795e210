/**
 * The package in a real n8n editor, driven by Debian's chromium through playwright-core: the same
 * setup as `npm run dev` (startDevEnvironment: n8n 2.x with dist/ loaded, the PingOne simulator
 * with 2,000 rows, the credential "PingOne (simulator)", the sample workflow, an owner account),
 * on a free port. It logs in, opens the sample workflow, checks the PingOne Reports nodes and the
 * Download node's parameters, runs the workflow and reads the rows in the Download node's output
 * panel. Screenshots go to docs/screenshots/ (the README shows them), or to $SCREENSHOT_DIR.
 *
 * Selectors are the data-test-id attributes n8n's own end-to-end tests use (n8n 2.40.x).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';

import { DEV_CREDENTIAL_NAME, DEV_WORKFLOW_ID, startDevEnvironment, type DevEnvironment } from './dev';
import { NODE_TYPE, ROOT } from './main-job';
import { freePort } from './n8n';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? path.join(ROOT, 'docs', 'screenshots');
const ROWS = 2000;
const STEP_MS = 60_000; // every single wait in the browser is bounded by this (or less)


describe('the PingOne Reports node in the n8n editor (chromium)', { timeout: 40 * 60_000 }, () => {
	let env: DevEnvironment | undefined;
	let context: BrowserContext | undefined;
	let page: Page;
	let profileDir: string | undefined;
	let reportId = '';

	const node = (name: string): Locator => page.locator(`[data-test-id="canvas-node"][data-node-name="${name}"]`);
	const shot = async (file: string, target?: Locator) => {
		const where = path.join(SCREENSHOT_DIR, file);
		if (target) await target.screenshot({ path: where, timeout: STEP_MS });
		else await page.screenshot({ path: where, timeout: STEP_MS });
		console.log(`# screenshot ${path.relative(ROOT, where)}`);
	};

	before(async () => {
		assert.ok(existsSync(CHROMIUM), `chromium not found at ${CHROMIUM} (scripts/install-system-deps.sh installs it)`);
		assert.ok(existsSync(path.join(ROOT, 'dist', 'nodes', 'PingOneReports', 'PingOneReports.node.js')), 'run `npm run build` first');
		mkdirSync(SCREENSHOT_DIR, { recursive: true });
		env = await startDevEnvironment({ port: await freePort(), rows: ROWS, log: (line) => console.log(`# ${line}`) });
		console.log(`# n8n editor at ${env.url}`);
		profileDir = mkdtempSync(path.join(tmpdir(), 'chromium-n8n-'));
		context = await chromium.launchPersistentContext(profileDir, {
			executablePath: CHROMIUM,
			headless: true,
			args: [
				'--headless',
				'--no-sandbox',
				'--disable-gpu',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
				'--no-first-run',
			],
			viewport: { width: 1600, height: 1000 },
			timeout: STEP_MS,
		});
		page = context.pages()[0] ?? (await context.newPage());
		page.setDefaultTimeout(STEP_MS);
		page.setDefaultNavigationTimeout(2 * STEP_MS);
	});

	after(async () => {
		await context?.close().catch(() => undefined);
		await env?.stop();
		if (profileDir) rmSync(profileDir, { recursive: true, force: true });
	});

	test('the owner logs in with the account `npm run dev` prints', async () => {
		assert.ok(env);
		await page.goto(`${env.url}/signin`);
		await page.locator('[data-test-id="emailOrLdapLoginId"] input').fill(env.login.email);
		await page.locator('[data-test-id="password"] input').fill(env.login.password);
		await page.locator('[data-test-id="form-submit-button"]').click();
		await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
	});

	test('the sample workflow shows the trigger and three PingOne Reports nodes', async () => {
		assert.ok(env);
		await page.goto(env.workflowUrl);
		await page.locator('[data-test-id="canvas-node"]').first().waitFor();
		assert.equal(await page.locator('[data-test-id="canvas-node"]').count(), 4);
		for (const name of ['Create Report', 'Wait Until Ready', 'Download']) {
			assert.equal(await node(name).getAttribute('data-node-type'), NODE_TYPE, `${name} is a PingOne Reports node`);
		}
		// each node shows its name and, as subtitle, its operation (waits until the canvas has laid them out)
		for (const [name, subtitle] of [
			['Create Report', 'Create report'],
			['Wait Until Ready', 'Wait until report is ready'],
			['Download', 'Download report'],
		]) {
			await node(name).getByText(subtitle, { exact: true }).waitFor();
		}
		assert.match(await page.locator('[data-test-id="workflow-name-input"]').innerText(), /PingOne devices report to items/);
		assert.ok(page.url().endsWith(`/workflow/${DEV_WORKFLOW_ID}`));
	});

	/** Opens a node's details view, runs `check` in it, and closes it again (also on failure). */
	async function inNodeView(name: string, check: (ndv: Locator) => Promise<void>): Promise<void> {
		await node(name).dblclick();
		const ndv = page.locator('[data-test-id="ndv"]');
		await ndv.waitFor();
		try {
			await check(ndv);
		} finally {
			await ndv.locator('[data-test-id="ndv-close-button"]').click();
			await ndv.waitFor({ state: 'hidden' });
		}
	}

	test("the Download node's parameters render: credential, Report ID, Format, Output", async () => {
		await inNodeView('Download', async (ndv) => {
			const params = ndv.locator('[data-test-id="node-parameters"]');
			await params.locator('[data-test-id="parameter-input-reportId"]').waitFor();
			assert.match(await params.locator('[data-test-id="credentials-label"]').innerText(), /Credential/);
			const labels = await params.locator('[data-test-id="input-label"]').allInnerTexts();
			for (const label of ['Resource', 'Operation', 'Report ID', 'Format', 'Output']) {
				assert.ok(
					labels.some((l) => l.trim().startsWith(label)),
					`label "${label}" in ${JSON.stringify(labels)}`,
				);
			}
			assert.equal(await params.locator('[data-test-id="node-credentials-select"] input').inputValue(), DEV_CREDENTIAL_NAME);
			assert.equal(await params.locator('[data-test-id="parameter-input-operation"] input').inputValue(), 'Download');
			assert.equal(await params.locator('[data-test-id="parameter-input-format"] input').inputValue(), 'CSV');
			assert.equal(await params.locator('[data-test-id="parameter-input-output"] input').inputValue(), 'One Item per Row');
			assert.match(await params.locator('[data-test-id="parameter-input-reportId"]').innerText(), /\{\{ \$json\.id \}\}/);
			await shot('download-node-parameters.png');
		});
	});

	test(`"Execute workflow" runs Create → Wait Until Ready → Download and the canvas shows ${ROWS} items`, async () => {
		await page.locator('[data-test-id="execute-workflow-button"]').click();
		const done = node('Download').locator('[data-test-id="canvas-node-status-success"]');
		const failed = page.locator('[data-test-id="canvas-node-status-error"]');
		// the Create → poll → download run takes a few seconds; allow for a slow machine
		await done
			.or(failed)
			.first()
			.waitFor({ timeout: 3 * STEP_MS });
		assert.equal(await failed.count(), 0, 'no node failed');
		for (const name of ['When clicking ‘Execute workflow’', 'Create Report', 'Wait Until Ready', 'Download']) {
			assert.equal(await node(name).locator('[data-test-id="canvas-node-status-success"]').count(), 1, `${name} succeeded`);
		}
		await node('Download').locator('[data-test-id="canvas-node-output-handle"]').getByText(`${ROWS} items`, { exact: true }).waitFor();
		// Let the run button and the success toast finish their transitions before the picture.
		await page.locator('[data-test-id="execute-workflow-button"]').getByText('Execute workflow').waitFor({ timeout: STEP_MS });
		await page.waitForTimeout(1000);
		await shot('workflow-canvas.png');
	});

	test('the output panel of the Download node lists the rows of the report', async () => {
		// the "Workflow executed successfully" toast would cover the output panel's pagination
		for (const close of await page.locator('.el-notification__closeBtn').all()) await close.click({ timeout: 5000 }).catch(() => undefined);
		await inNodeView('Download', async (ndv) => {
			assert.ok(env);
			const preview = ndv.locator('[data-test-id="parameter-expression-preview-reportId"]');
			reportId = (await preview.innerText()).trim();
			assert.match(reportId, /^[0-9a-f-]{36}$/, 'the Report ID expression resolves to the created report');
			const expected = env.sim.expectedRows(reportId);
			assert.equal(expected.length, ROWS);

			const output = ndv.locator('[data-test-id="output-panel"]');
			await output.locator('[data-test-id="run-data-item-count"]').getByText(`${ROWS} items`, { exact: true }).waitFor();
			await output.locator('[data-test-id="radio-button-table"]').click();
			const table = output.locator('table').first();
			await table.waitFor();
			const headers = (await table.locator('th').allInnerTexts()).map((h) => h.trim()).filter(Boolean);
			assert.deepEqual(headers.slice(0, 6), ['userId', 'username', 'phone', 'deviceType', 'deviceStatus', 'deviceId']);
			// the first rows of the table are the first rows of the report, in order
			const firstCells = await table.locator('tbody tr').first().locator('td').allInnerTexts();
			assert.equal(firstCells[0].trim(), expected[0].userId);
			assert.equal(firstCells[1].trim(), expected[0].username);
			assert.equal(firstCells[3].trim(), expected[0].deviceType);
			const secondCells = await table.locator('tbody tr').nth(1).locator('td').allInnerTexts();
			assert.equal(secondCells[1].trim(), expected[1].username);
			await shot('download-node-output.png');
		});
	});
});
