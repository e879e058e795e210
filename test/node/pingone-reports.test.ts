/**
 * The PingOne Reports node run through n8n-core's real engine (WorkflowExecute) against the
 * PingOne simulator on loopback: real HTTP, real credential authentication, real zips by 7-Zip.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { PingOneApi } from '../../credentials/PingOneApi.credentials';
import { startSimulator, type Simulator, type SimulatorOptions } from '../simulator';
import { chain, runWorkflow, type ChainNode, type RunResult } from './harness';
import { TYPE, create, credentialsFor, download, json, loadNode, node } from './hostile-scenarios';

const { PingOneReports } = loadNode();

// Unlike the hostile scenarios' wait, this one keeps the node's default timeout (600 s).
const wait = (options: IDataObject = {}) =>
	node('Wait', { operation: 'waitUntilReady', reportId: '={{ $json.id }}', options: { pollInterval: 1, ...options } });

async function run(sim: Simulator, nodes: ChainNode[], inputItems?: INodeExecutionData[], more: object = {}): Promise<RunResult> {
	return await runWorkflow({
		nodeTypes: { [TYPE]: new PingOneReports() },
		credentialTypes: [new PingOneApi()],
		credentials: credentialsFor(sim),
		workflow: chain(nodes),
		inputItems,
		...more,
	});
}

async function withSimulator(options: SimulatorOptions, fn: (sim: Simulator) => Promise<void>) {
	const sim = await startSimulator({ createRateLimit: false, pollsBeforeSuccess: 1, ...options });
	try {
		await fn(sim);
	} finally {
		await sim.close();
	}
}

describe('PingOne Reports node through n8n-core WorkflowExecute', () => {
	let sim: Simulator;
	before(async () => {
		sim = await startSimulator({ createRateLimit: false, pollsBeforeSuccess: 2, rows: 137 });
	});
	after(async () => {
		await sim.close();
	});

	test('Create → Wait Until Ready → Download (CSV) outputs exactly the report rows, paired with the input item', async () => {
		const result = await run(sim, [create(), wait(), download()]);
		assert.equal(result.error, undefined, String(result.error));
		const created = json(result, 'Create')[0];
		assert.equal(created.status, 'IN_PROGRESS');
		assert.equal((created.dataExplorationTemplate as IDataObject).id, 'db632bfd-7054-4bde-b108-a384aac2d513');
		const waited = json(result, 'Wait')[0];
		assert.equal(waited.status, 'SUCCESS');
		assert.equal(waited.zipPassword, undefined, 'no zip password unless asked for');
		assert.equal(waited.csvPresignedUrl, undefined, 'no links unless asked for');
		assert.match(String(waited.linksExpireAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
		const rows = json(result, 'Download');
		const expected = sim.expectedRows(String(created.id));
		assert.equal(rows.length, 137);
		assert.deepEqual(rows, expected);
		for (const item of result.outputs.Download[0]) assert.deepEqual(item.pairedItem, { item: 0 });
		const downloads = sim.log.filter((e) => e.kind === 'download');
		assert.ok(downloads.length >= 1);
		assert.ok(downloads.every((e) => e.authorization === 'none'), 'the download host never gets a token');
	});

	test('Download in JSON format keeps the rows', async () => {
		const result = await run(sim, [create(), download({ format: 'json' })]);
		assert.equal(result.error, undefined, String(result.error));
		const id = String(json(result, 'Create')[0].id);
		const rows = json(result, 'Download');
		assert.equal(rows.length, 137);
		assert.deepEqual(rows, JSON.parse(sim.plaintext(id, 'json').toString('utf8')));
	});

	test('Download with output "binary" gives one item holding the extracted CSV file', async () => {
		const result = await run(sim, [create(), download({ output: 'binary', options: { binaryPropertyName: 'report', pollInterval: 1 } })]);
		assert.equal(result.error, undefined, String(result.error));
		const id = String(json(result, 'Create')[0].id);
		const items = result.outputs.Download[0];
		assert.equal(items.length, 1);
		const binary = items[0].binary?.report;
		assert.ok(binary, 'binary property "report" exists');
		assert.match(String(binary.fileName), /\.csv$/);
		assert.equal(binary.mimeType, 'text/csv');
		assert.deepEqual(Buffer.from(binary.data, 'base64'), sim.plaintext(id, 'csv'));
	});

	test('Download honours Max Rows', async () => {
		const result = await run(sim, [create(), download({ options: { maxRows: 10, pollInterval: 1 } })]);
		assert.equal(result.error, undefined, String(result.error));
		const id = String(json(result, 'Create')[0].id);
		assert.deepEqual(json(result, 'Download'), sim.expectedRows(id).slice(0, 10));
	});

	test('Get leaves download secrets out unless Include Download Secrets is on', async () => {
		const plain = await run(sim, [create(), wait(), node('Get', { operation: 'get', reportId: '={{ $json.id }}' })]);
		assert.equal(plain.error, undefined, String(plain.error));
		const report = json(plain, 'Get')[0];
		assert.equal(report.status, 'SUCCESS');
		assert.equal(report.zipPassword, undefined);
		assert.equal(report.jsonPresignedUrl, undefined);
		const secret = await run(sim, [
			create(),
			wait(),
			node('Get', { operation: 'get', reportId: '={{ $json.id }}', options: { includeDownloadSecrets: true } }),
		]);
		const full = json(secret, 'Get')[0];
		assert.match(String(full.zipPassword), /^[a-z]{10}$/);
		assert.match(String(full.csvPresignedUrl), /X-Amz-Expires=300/);
		const amzDate = /X-Amz-Date=(\d{8}T\d{6}Z)/.exec(String(full.csvPresignedUrl))![1];
		const issued = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
		assert.equal(Date.parse(String(full.linksExpireAt)), issued + 300_000);
	});

	test('Create sends fields and filter; the simulator applies them', async () => {
		const result = await run(sim, [
			create({ fields: ['userId', 'deviceType, deviceStatus'], filter: '(deviceType eq "SMS")' }),
			download(),
		]);
		assert.equal(result.error, undefined, String(result.error));
		const created = json(result, 'Create')[0];
		assert.deepEqual(created.fields, [{ name: 'userId' }, { name: 'deviceType' }, { name: 'deviceStatus' }]);
		const rows = json(result, 'Download');
		assert.ok(rows.length > 0);
		assert.deepEqual(Object.keys(rows[0]), ['userId', 'deviceType', 'deviceStatus']);
		assert.ok(rows.every((r) => r.deviceType === 'SMS'));
	});

	test('Continue On Fail: a failing item becomes an error item and the other items still download', async () => {
		const first = await run(sim, [create()]);
		const goodId = String(json(first, 'Create')[0].id);
		const result = await run(
			sim,
			[download({ reportId: '={{ $json.reportId }}' }, { onError: 'continueRegularOutput' })],
			[{ json: { reportId: 'does-not-exist' } }, { json: { reportId: goodId } }],
		);
		assert.equal(result.error, undefined, String(result.error));
		const items = result.outputs.Download[0];
		assert.match(String(items[0].json.error), /404/);
		assert.match(String(items[0].json.error), /NOT_FOUND/);
		assert.deepEqual(items[0].pairedItem, { item: 0 });
		const rows = items.slice(1);
		assert.equal(rows.length, 137);
		assert.deepEqual(rows.map((i) => i.json), sim.expectedRows(goodId));
		assert.ok(rows.every((i) => (i.pairedItem as { item: number }).item === 1));
	});

	test('without Continue On Fail an unknown report fails the run with PingOne\'s code and message', async () => {
		const result = await run(sim, [node('Get', { operation: 'get', reportId: 'nope' })]);
		assert.ok(result.error);
		assert.equal(result.error.constructor.name, 'NodeApiError');
		assert.match(result.error.message, /404 NOT_FOUND/);
	});
});

describe('Wait Until Ready ends clearly', () => {
	test('a status other than IN_PROGRESS or SUCCESS ends the wait with an error naming it', async () => {
		await withSimulator({ finalStatus: 'FAILED' }, async (sim) => {
			const result = await run(sim, [create(), wait()]);
			assert.ok(result.error);
			assert.match(result.error.message, /ended with status FAILED/);
		});
	});

	test('a timeout ends with the time waited and the last status', async () => {
		await withSimulator({ pollsBeforeSuccess: 1000 }, async (sim) => {
			const result = await run(sim, [create(), wait({ timeout: 2 })]);
			assert.ok(result.error);
			assert.match(result.error.message, /not ready after 2 s \(last status IN_PROGRESS\)/);
		});
	});

	test('a cancelled execution stops the wait promptly', async () => {
		await withSimulator({ pollsBeforeSuccess: 1000 }, async (sim) => {
			const started = Date.now();
			const result = await run(sim, [create(), wait({ pollInterval: 5, timeout: 600 })], undefined, {
				cancelAfterMs: 1500,
			});
			const elapsed = Date.now() - started;
			assert.ok(result.cancelled, 'the run was cancelled');
			assert.ok(elapsed < 8000, `stopped after ${elapsed} ms`);
			const gets = sim.log.filter((e) => e.method === 'GET' && e.kind === 'api').length;
			await new Promise((r) => setTimeout(r, 6000));
			assert.equal(sim.log.filter((e) => e.method === 'GET' && e.kind === 'api').length, gets, 'no polls after the cancel');
		});
	});
});

describe('Download refuses what it cannot verify', () => {
	test('a wrong zip password ends the Download with "The zip password is wrong" and outputs no rows', async () => {
		await withSimulator({ faults: { wrongZipPassword: true } }, async (sim) => {
			const result = await run(sim, [create(), download()]);
			assert.ok(result.error, 'the run failed');
			assert.equal(result.error.constructor.name, 'NodeOperationError');
			assert.match(result.error.message, /The zip password is wrong/);
			assert.doesNotMatch(result.error.message, /wrongwrong/, 'the password is not in the message');
			assert.equal(result.outputs.Download, undefined);
		});
	});

	test('a corrupted zip ends the Download with "integrity check failed" and outputs no rows', async () => {
		await withSimulator({ faults: { corruptDownloads: 1 } }, async (sim) => {
			const result = await run(sim, [create(), download()]);
			assert.ok(result.error, 'the run failed');
			assert.match(result.error.message, /integrity check failed/i);
			assert.equal(result.outputs.Download, undefined);
		});
	});

	test('with Continue On Fail the wrong password becomes an error item, not garbage rows', async () => {
		await withSimulator({ faults: { wrongZipPassword: true } }, async (sim) => {
			const result = await run(sim, [create(), download({}, { onError: 'continueRegularOutput' })]);
			assert.equal(result.error, undefined);
			const items = result.outputs.Download[0];
			assert.equal(items.length, 1);
			assert.match(String(items[0].json.error), /The zip password is wrong/);
		});
	});

	test('a download answered 403 (expired link) gets fresh links once and succeeds', async () => {
		await withSimulator({ faults: { expireDownloads: 1 } }, async (sim) => {
			const result = await run(sim, [create(), download()]);
			assert.equal(result.error, undefined, String(result.error));
			const id = String(json(result, 'Create')[0].id);
			assert.deepEqual(json(result, 'Download'), sim.expectedRows(id));
			const downloads = sim.log.filter((e) => e.kind === 'download');
			assert.deepEqual(downloads.map((e) => e.status), [403, 200]);
		});
	});

	test('a download refused twice ends with the S3 error made readable', async () => {
		await withSimulator({ faults: { expireDownloads: 2 } }, async (sim) => {
			const result = await run(sim, [create(), download()]);
			assert.ok(result.error);
			assert.match(result.error.message, /answered 403 \(AccessDenied: Request has expired\)/);
			assert.doesNotMatch(result.error.message, /X-Amz-Signature/);
		});
	});
});

describe('Token failures during a run', () => {
	test('a wrong client secret ends the run with the credential\'s own message, not a network error', async () => {
		await withSimulator({}, async (sim) => {
			const result = await runWorkflow({
				nodeTypes: { [TYPE]: new PingOneReports() },
				credentialTypes: [new PingOneApi()],
				credentials: credentialsFor(sim, {
					authentication: 'clientCredentials',
					clientId: 'sim-client',
					clientSecret: 'not-the-secret',
					tokenEndpointAuthMethod: 'basic',
				}),
				workflow: chain([create()]),
			});
			assert.ok(result.error);
			assert.match(result.error.message, /^Create report: Wrong client ID or client secret/);
			assert.doesNotMatch(result.error.message, /could not be reached/);
			assert.doesNotMatch(result.error.message, /not-the-secret/);
			assert.equal(sim.log.filter((e) => e.kind === 'api').length, 0, 'no API call without a token');
		});
	});
});
