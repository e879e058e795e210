/**
 * Get Entries through n8n-core's engine against the PingOne simulator: Create with Deliver As
 * ENTRIES (sync, or followed by Wait Until Ready), then page through `_embedded.entries`
 * following `_links.next.href`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { PingOneApi } from '../../credentials/PingOneApi.credentials';
import { DEFAULT_ENVIRONMENT_ID, startSimulator, type Simulator } from '../simulator';
import { chain, runWorkflow, type ChainNode, type RunResult } from './harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { PingOneReports } = require('../../dist/nodes/PingOneReports/PingOneReports.node.js') as typeof import('../../nodes/PingOneReports/PingOneReports.node');
const TYPE = 'pingOneReports';
const ROWS = 2345; // three pages of at most 1000

function node(name: string, parameters: IDataObject, extra: Partial<ChainNode> = {}): ChainNode {
	return { name, type: TYPE, parameters: { resource: 'report', ...parameters }, credentials: { pingOneApi: { id: '1', name: 'PingOne' } }, ...extra };
}
const createEntries = (sync = true) => node('Create', { operation: 'create', deliverAs: 'ENTRIES', options: sync ? { sync: true } : {} });
const getEntries = (parameters: IDataObject, extra: Partial<ChainNode> = {}) =>
	node('Entries', { operation: 'getEntries', reportId: '={{ $json.id }}', ...parameters }, extra);

async function run(apiUrl: string, authUrl: string, nodes: ChainNode[], inputItems?: INodeExecutionData[]): Promise<RunResult> {
	return await runWorkflow({
		nodeTypes: { [TYPE]: new PingOneReports() },
		credentialTypes: [new PingOneApi()],
		credentials: {
			pingOneApi: {
				region: 'custom',
				apiUrl,
				authUrl,
				environmentId: DEFAULT_ENVIRONMENT_ID,
				authentication: 'clientCredentials',
				clientId: 'sim-client',
				clientSecret: 'sim-secret',
			},
		},
		workflow: chain(nodes),
		inputItems,
	});
}

const json = (result: RunResult, name: string): IDataObject[] => (result.outputs[name]?.[0] ?? []).map((i) => i.json);

describe('Get Entries', () => {
	// Reports are created once (the node spaces creates 5 s apart per API URL and environment);
	// tests that need their own create start their own simulator.
	let sim: Simulator;
	let ids: string[] = [];
	before(async () => {
		sim = await startSimulator({ createRateLimit: false, rows: ROWS, pollsBeforeSuccess: 1 });
		// two different reports: all devices, and SMS devices only
		const create = node('Create', { operation: 'create', deliverAs: 'ENTRIES', filter: '={{ $json.filter }}', options: { sync: true } });
		const created = await run(sim.apiUrl, sim.authUrl, [create], [{ json: { filter: '' } }, { json: { filter: '(deviceType eq "SMS")' } }]);
		assert.equal(created.error, undefined, String(created.error));
		assert.deepEqual(json(created, 'Create').map((r) => r.status), ['SUCCESS', 'SUCCESS'], 'a sync ENTRIES report is ready at once');
		ids = json(created, 'Create').map((r) => String(r.id));
	});
	after(async () => {
		await sim?.close();
	});

	function entryPages(from: number): number {
		return sim.log.slice(from).filter((e) => e.kind === 'api' && e.path.endsWith('/entries')).length;
	}
	const entriesOf = async (parameters: IDataObject) => {
		const from = sim.log.length;
		const result = await run(sim.apiUrl, sim.authUrl, [getEntries(parameters)], [{ json: { id: ids[0] } }]);
		assert.equal(result.error, undefined, String(result.error));
		return { rows: json(result, 'Entries'), pages: entryPages(from), result };
	};

	test('Return All: exactly the report rows, in order, from three pages of 1000', async () => {
		const expected = sim.expectedRows(ids[0]);
		assert.equal(expected.length, ROWS);
		const { rows, pages, result } = await entriesOf({ returnAll: true });
		assert.deepEqual(rows, expected);
		assert.equal(pages, 3);
		assert.ok(result.outputs.Entries[0].every((i) => JSON.stringify(i.pairedItem) === '{"item":0}'));
	});

	test('without Return All a Limit above two pages: the first Limit rows, from three pages', async () => {
		const { rows, pages } = await entriesOf({ returnAll: false, limit: 2100 });
		assert.deepEqual(rows, sim.expectedRows(ids[0]).slice(0, 2100));
		assert.equal(pages, 3);
	});

	test('the default Limit is 50: one page of 50', async () => {
		const { rows, pages } = await entriesOf({});
		assert.deepEqual(rows, sim.expectedRows(ids[0]).slice(0, 50));
		assert.equal(pages, 1);
	});

	test('Limit 7: seven rows from one request', async () => {
		const { rows, pages } = await entriesOf({ limit: 7 });
		assert.deepEqual(rows, sim.expectedRows(ids[0]).slice(0, 7));
		assert.equal(pages, 1);
	});

	test('Limit equal to the row count, and above it: every row, nothing more', async () => {
		assert.deepEqual((await entriesOf({ limit: ROWS })).rows, sim.expectedRows(ids[0]));
		assert.deepEqual((await entriesOf({ limit: ROWS + 500 })).rows, sim.expectedRows(ids[0]));
	});

	test('one Get Entries per input item, each row paired with its item', async () => {
		const result = await run(sim.apiUrl, sim.authUrl, [getEntries({ limit: 3 })], ids.map((id) => ({ json: { id } })));
		assert.equal(result.error, undefined, String(result.error));
		const items = result.outputs.Entries[0];
		assert.notDeepEqual(sim.expectedRows(ids[0]).slice(0, 3), sim.expectedRows(ids[1]).slice(0, 3), 'two different reports');
		assert.deepEqual(items.map((i) => i.json), [...sim.expectedRows(ids[0]).slice(0, 3), ...sim.expectedRows(ids[1]).slice(0, 3)]);
		assert.deepEqual(items.map((i) => (i.pairedItem as { item: number }).item), [0, 0, 0, 1, 1, 1]);
	});

	test('Limit below 1 is refused before any request', async () => {
		const from = sim.log.length;
		const result = await run(sim.apiUrl, sim.authUrl, [getEntries({ limit: 0 })], [{ json: { id: 'x' } }]);
		assert.ok(result.error);
		assert.equal(result.error.message, 'Limit must be a whole number of at least 1');
		assert.equal(sim.log.slice(from).filter((e) => e.kind === 'api').length, 0);
	});
});

describe('Get Entries after other creates', () => {
	test('Create (ENTRIES, not sync) → Wait Until Ready → Get Entries (Return All)', async () => {
		const sim = await startSimulator({ createRateLimit: false, rows: 1500, pollsBeforeSuccess: 1 });
		try {
			const result = await run(sim.apiUrl, sim.authUrl, [
				createEntries(false),
				node('Wait', { operation: 'waitUntilReady', reportId: '={{ $json.id }}', options: { pollInterval: 1 } }),
				getEntries({ returnAll: true }),
			]);
			assert.equal(result.error, undefined, String(result.error));
			assert.equal(json(result, 'Create')[0].status, 'IN_PROGRESS');
			const expected = sim.expectedRows(String(json(result, 'Create')[0].id));
			assert.equal(expected.length, 1500);
			assert.deepEqual(json(result, 'Entries'), expected);
		} finally {
			await sim.close();
		}
	});

	test("on a file report, PingOne's 400 with its code and details fails the node", async () => {
		const sim = await startSimulator({ createRateLimit: false, rows: 10 });
		try {
			const result = await run(sim.apiUrl, sim.authUrl, [node('Create', { operation: 'create', deliverAs: 'ASYNC_FILE' }), getEntries({ returnAll: true })]);
			assert.ok(result.error);
			assert.match(result.error.message, /^Get report entries: PingOne answered 400 INVALID_REQUEST/);
			assert.match(String((result.error as { description?: string }).description), /Entries are only available for reports delivered as ENTRIES/);
		} finally {
			await sim.close();
		}
	});
});

describe('Get Entries follows next links only on the API host', () => {
	let server: http.Server;
	let base = '';
	const hits: string[] = [];
	before(async () => {
		// a fake API whose second page links to another host (the token must never go there)
		server = http.createServer((req, res) => {
			hits.push(`${req.method} ${req.url} ${req.headers.authorization ? 'auth' : 'no-auth'}`);
			const url = new URL(req.url ?? '/', base);
			res.setHeader('content-type', 'application/json');
			if (url.pathname.endsWith('/as/token')) {
				res.end(JSON.stringify({ access_token: 'fake-token', token_type: 'Bearer', expires_in: 3600 }));
				return;
			}
			const cursor = url.searchParams.get('cursor');
			const page = cursor === null
				? { _embedded: { entries: [{ n: 1 }, { n: 2 }] }, _links: { next: { href: `${base}/v1/environments/${DEFAULT_ENVIRONMENT_ID}/dataExplorations/r1/entries?cursor=2` } } }
				: { _embedded: { entries: [{ n: 3 }] }, _links: { next: { href: 'http://evil.example/steal?cursor=3' } } };
			res.end(JSON.stringify(page));
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
		base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	after(async () => {
		server.closeAllConnections();
		await new Promise<void>((resolve) => server.close(() => resolve()));
	});

	test('a next link to another host ends the node with an error; nothing is sent there', async () => {
		const result = await run(`${base}/v1`, `${base}/auth`, [getEntries({ returnAll: true })], [{ json: { id: 'r1' } }]);
		assert.ok(result.error);
		assert.match(result.error.message, /returned a link to another host \(http:\/\/evil\.example\/steal\b.*refusing to send the token there/);
		assert.doesNotMatch(result.error.message, /cursor=3/);
		assert.equal(hits.filter((h) => h.includes('/entries')).length, 2);
	});
});
