/**
 * A real n8n 2.x against a hostile PingOne simulator: 429s (Retry-After in seconds and as an HTTP
 * date), a 503, a dropped connection, an expired link and slow polls. The main job (Create → Wait
 * Until Ready → Download, the built package loaded through N8N_CUSTOM_EXTENSIONS) must complete
 * with every row, and n8n's own log must show each wait the node took, honoured (the next attempt
 * reached the simulator no earlier). Then a run over three items with Continue On Fail, one of
 * them failing, must output the other two items' rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { startSimulator, type RequestLogEntry, type Simulator } from '../simulator';
import { mainJobWorkflow, NODE_TYPE, ROOT, simulatorCredential } from './main-job';
import { cleanupRun, ensureN8n, runN8nWorkflow, type N8nRunResult } from './n8n';

const ROWS = 300;
const credentials = (sim: Parameters<typeof simulatorCredential>[0]) => [simulatorCredential(sim)];

/** What n8n printed (stdout file and stderr), read before the run's files are removed. */
function n8nLog(run: N8nRunResult): string {
	let stdout = '';
	try {
		stdout = readFileSync(run.stdoutFile, 'utf8');
	} catch {
		/* gone */
	}
	return `${stdout}\n${run.stderr}`;
}

function removeFiles(run: N8nRunResult): void {
	cleanupRun(run);
	rmSync(run.userFolder, { recursive: true, force: true });
}

const RETRY = /PingOne Reports: (.+?) answered (\S+); retrying in ([\d.]+) s \(attempt (\d+)\)/g;
const ms = (e: RequestLogEntry) => Date.parse(e.at);

test('a real n8n survives 429s, a 503, a dropped connection, an expired link and slow polls, with every row', { timeout: 40 * 60_000 }, async (t) => {
	const install = await ensureN8n();
	// a second 429, with Retry-After as an HTTP date, on the report GET right after the 503
	let dateFaultArmed = false;
	const sim: Simulator = await startSimulator({
		onLog: (e) => {
			if (!dateFaultArmed && e.fault === 'unavailable') {
				dateFaultArmed = true;
				sim.faults.tooManyRequests = { count: 1, on: 'get', retryAfter: 1, retryAfterAs: 'http-date' };
			}
		},
		rows: ROWS,
		zipEncryption: 'aes256',
		pollsBeforeSuccess: 1,
		createRateLimit: false,
		faults: {
			tooManyRequests: { count: 1, on: 'create', retryAfter: 2 },
			unavailable: { count: 1, on: 'get', retryAfter: 1 },
			dropConnections: { count: 1, on: 'download' },
			expireDownloads: 1,
			slowPolls: 2,
		},
	});
	let run: N8nRunResult | undefined;
	try {
		run = await runN8nWorkflow({
			install,
			customExtensions: [join(ROOT, 'dist')],
			credentials: credentials(sim),
			workflow: mainJobWorkflow('csv'),
			env: { N8N_LOG_LEVEL: 'info' },
			keepFiles: true,
			timeoutMs: 10 * 60_000,
		});
		const log = n8nLog(run);
		assert.ok(run.ok, `${run.error}\n${log.slice(-3000)}`);
		const created = run.nodeOutput('Create Report');
		const id = String(created[0].id);
		const rows = run.nodeOutput('Download');
		assert.equal(rows.length, ROWS);
		assert.deepEqual(rows, sim.expectedRows(id));

		// every fault was injected
		const faults = sim.log.filter((e) => e.fault).map((e) => `${e.fault} ${e.status}`);
		t.diagnostic(`injected: ${faults.join(', ')}`);
		for (const f of ['tooManyRequests 429', 'unavailable 503', 'dropConnection 0', 'expiredLink 403', 'slowPoll 200']) {
			assert.ok(faults.includes(f), `${f} was injected`);
		}
		assert.equal(sim.log.filter((e) => e.fault === 'tooManyRequests').length, 2);

		// n8n's log shows each wait, and each was honoured
		const waits = [...log.matchAll(RETRY)].map((m) => ({ line: m[0], what: m[1], cause: m[2], seconds: Number(m[3]) }));
		for (const w of waits) t.diagnostic(`n8n log: ${w.line}`);
		const retried = sim.log
			.filter((e) => e.fault === 'tooManyRequests' || e.fault === 'unavailable' || e.fault === 'dropConnection')
			.sort((a, b) => ms(a) - ms(b));
		assert.equal(waits.length, retried.length, 'one logged wait per retried fault');
		retried.forEach((f, i) => {
			const next = sim.log.find((e) => e !== f && e.method === f.method && e.path === f.path && ms(e) > ms(f));
			assert.ok(next, `the ${f.fault} ${f.method} ${f.path} was retried`);
			const gap = ms(next) - ms(f);
			t.diagnostic(`${f.fault} on ${f.method} ${f.path.split('/').slice(0, 5).join('/')}…: logged ${waits[i].seconds} s, next attempt after ${gap} ms`);
			if (f.fault === 'tooManyRequests') assert.equal(waits[i].cause, '429');
			if (f.fault === 'unavailable') assert.equal(waits[i].cause, '503');
			assert.ok(gap >= waits[i].seconds * 1000 - 100, `waited ${gap} ms, logged ${waits[i].seconds} s`);
		});
		assert.equal(waits[0].seconds, 2, 'the first wait is the 2 s of the 429 on create');
		assert.match(log, /the download link of report [0-9a-f-]+ was refused \(403\); getting fresh links/);
		assert.match(log, /report [0-9a-f-]+ is IN_PROGRESS after \d+ s \(check \d+\); next check in \d+ s/);
		assert.doesNotMatch(log, /X-Amz-Signature=[0-9a-f]{16}/, 'no link signature in the log');
	} finally {
		if (run) removeFiles(run);
		await sim.close();
	}
});

test('a real n8n run over three items with Continue On Fail, one failing, outputs the other two items\' rows', { timeout: 40 * 60_000 }, async () => {
	const install = await ensureN8n();
	const sim = await startSimulator({ rows: 40, pollsBeforeSuccess: 0, createRateLimit: false });
	let run: N8nRunResult | undefined;
	try {
		// two real reports, created straight on the simulator
		const ids: string[] = [];
		for (let i = 0; i < 2; i++) {
			const res = await fetch(`${sim.apiUrl}/environments/${sim.environmentId}/dataExplorations`, {
				method: 'POST',
				headers: { authorization: 'Bearer sim-static-token', 'content-type': 'application/json' },
				body: JSON.stringify({ dataExplorationTemplate: { id: 'db632bfd-7054-4bde-b108-a384aac2d513' }, deliverAs: 'ASYNC_FILE' }),
			});
			assert.equal(res.status, 201);
			ids.push(String(((await res.json()) as { id: string }).id));
		}
		const reportIds = [ids[0], 'no-such-report', ids[1]];
		const cred = { pingOneApi: { id: 'pingone-sim', name: 'PingOne (simulator)' } };
		sim.faults.tooManyRequests = { count: 1, on: 'get', retryAfter: 1 };
		run = await runN8nWorkflow({
			install,
			customExtensions: [join(ROOT, 'dist')],
			credentials: credentials(sim),
			workflow: {
				id: 'pingOneContinueOnFail1',
				name: 'PingOne downloads, Continue On Fail',
				settings: { executionOrder: 'v1' },
				nodes: [
					{ id: 'c1', name: 'Manual', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
					{
						id: 'c2',
						name: 'Report IDs',
						type: 'n8n-nodes-base.code',
						typeVersion: 2,
						position: [220, 0],
						parameters: { jsCode: `return ${JSON.stringify(reportIds)}.map((reportId) => ({ json: { reportId } }));` },
					},
					{
						id: 'c3',
						name: 'Download',
						type: NODE_TYPE,
						typeVersion: 1,
						position: [440, 0],
						onError: 'continueRegularOutput',
						parameters: {
							resource: 'report',
							operation: 'download',
							reportId: '={{ $json.reportId }}',
							format: 'csv',
							output: 'items',
							options: { pollInterval: 1 },
						},
						credentials: cred,
					},
				],
				connections: {
					Manual: { main: [[{ node: 'Report IDs', type: 'main', index: 0 }]] },
					'Report IDs': { main: [[{ node: 'Download', type: 'main', index: 0 }]] },
				},
			},
			keepFiles: true,
			timeoutMs: 10 * 60_000,
		});
		assert.ok(run.ok, `${run.error}\n${n8nLog(run).slice(-3000)}`);
		const tasks = run.runData.data.resultData.runData.Download;
		const items = tasks[tasks.length - 1].data.main[0] as Array<{ json: Record<string, unknown>; pairedItem?: { item: number } }>;
		assert.equal(items.length, 40 + 1 + 40);
		assert.deepEqual(items.slice(0, 40).map((i) => i.json), sim.expectedRows(ids[0]));
		assert.match(String(items[40].json.error), /404 NOT_FOUND/);
		assert.deepEqual(items.slice(41).map((i) => i.json), sim.expectedRows(ids[1]));
		assert.deepEqual(
			items.map((i) => i.pairedItem?.item),
			[...Array(40).fill(0), 1, ...Array(40).fill(2)],
		);
	} finally {
		if (run) removeFiles(run);
		await sim.close();
	}
});
