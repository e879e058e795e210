/**
 * Regressions for what an attack review of the node found: each test plays a hostile or broken
 * server on loopback and checks the node stays safe (no token or secret elsewhere, no duplicate
 * creates, no endless loops, bounded waits and downloads, no plaintext zip accepted).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CredentialTestContext } from 'n8n-core';
import type { IDataObject } from 'n8n-workflow';

import { PingOneApi } from '../../credentials/PingOneApi.credentials';
import { pingOneApiTest } from '../../nodes/PingOneReports/credentialTest';
import { chain, runWorkflow, type ChainNode } from './harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { PingOneReports } = require('../../dist/nodes/PingOneReports/PingOneReports.node.js') as typeof import('../../nodes/PingOneReports/PingOneReports.node');

const ENV = '5f0c1e2a-9b3d-4c8e-a7f6-2d4b6e8a0c13';
const TOKEN = 'HOSTILE-TEST-TOKEN-1234';
const SECRET = 'HOSTILE-TEST-CLIENT-SECRET';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface TestServer {
	url: string;
	requests: Array<{ method: string; path: string; authorization?: string; body: string }>;
	handle: Handler;
	close(): Promise<void>;
}

async function serve(host: string): Promise<TestServer> {
	const state: TestServer = {
		url: '',
		requests: [],
		handle: (_req, res) => {
			res.writeHead(404).end();
		},
		close: async () => undefined,
	};
	const server: Server = createServer((req, res) => {
		let body = '';
		req.on('data', (c: Buffer) => (body += c.toString()));
		req.on('end', () => {
			state.requests.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization, body });
			state.handle(req, res, body);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, host, resolve));
	state.url = `http://${host}:${(server.address() as AddressInfo).port}`;
	state.close = () =>
		new Promise<void>((resolve) => {
			server.closeAllConnections();
			server.close(() => resolve());
		});
	return state;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
	res.writeHead(status, { 'content-type': 'application/json', ...headers });
	res.end(JSON.stringify(body));
};

let api: TestServer;
let elsewhere: TestServer;

before(async () => {
	api = await serve('127.0.0.1');
	elsewhere = await serve('127.0.0.2');
	elsewhere.handle = (_req, res) => json(res, 200, { id: 'stolen', status: 'SUCCESS' });
});
after(async () => {
	await api.close();
	await elsewhere.close();
});

function credentials(extra: IDataObject = {}) {
	return {
		pingOneApi: {
			region: 'custom',
			apiUrl: `${api.url}/v1`,
			authUrl: `${api.url}/auth`,
			environmentId: ENV,
			authentication: 'accessToken',
			accessToken: TOKEN,
			...extra,
		},
	};
}

function reportNode(parameters: IDataObject): ChainNode {
	return {
		name: 'PingOne',
		type: 'pingOneReports',
		parameters: { resource: 'report', ...parameters },
		credentials: { pingOneApi: { id: '1', name: 'PingOne' } },
	};
}

async function run(parameters: IDataObject, creds = credentials()) {
	return await runWorkflow({
		nodeTypes: { pingOneReports: new PingOneReports() },
		credentialTypes: [new PingOneApi()],
		credentials: creds,
		workflow: chain([reportNode(parameters)]),
	});
}

describe('hostile servers', () => {
	test('an API redirect to another host is not followed: the token stays with PingOne', async () => {
		elsewhere.requests.length = 0;
		api.handle = (_req, res) => {
			res.writeHead(302, { location: `${elsewhere.url}/steal` });
			res.end();
		};
		const result = await run({ operation: 'get', reportId: 'abc' });
		assert.ok(result.error);
		assert.match(result.error.message, /Get report: PingOne answered 302/);
		assert.match(String((result.error as { description?: string }).description), /redirect to 127\.0\.0\.2/);
		assert.equal(elsewhere.requests.length, 0, 'the other host got no request');
	});

	test('a token endpoint redirect is not followed: the client secret stays with PingOne', async () => {
		for (const method of ['basic', 'post']) {
			elsewhere.requests.length = 0;
			api.handle = (_req, res) => {
				res.writeHead(307, { location: `${elsewhere.url}/token` });
				res.end();
			};
			const result = await run(
				{ operation: 'get', reportId: 'abc' },
				credentials({ authentication: 'clientCredentials', clientId: 'app', clientSecret: SECRET, tokenEndpointAuthMethod: method }),
			);
			assert.ok(result.error, method);
			assert.equal(elsewhere.requests.length, 0, `${method}: the other host got nothing`);
			assert.doesNotMatch(result.error.message, new RegExp(SECRET));
		}
	});

	test('the credential test does not follow a redirect with the token, and does not call it a success', async () => {
		elsewhere.requests.length = 0;
		api.handle = (_req, res) => {
			res.writeHead(302, { location: `${elsewhere.url}/steal` });
			res.end();
		};
		const result = await pingOneApiTest.call(new CredentialTestContext(undefined as never), {
			id: 'c',
			name: 'PingOne API',
			type: 'pingOneApi',
			data: credentials().pingOneApi,
		});
		assert.equal(result.status, 'Error');
		assert.doesNotMatch(result.message, new RegExp(TOKEN));
		assert.equal(elsewhere.requests.length, 0, 'the other host got nothing');
	});

	test('a create answered 502 after PingOne took it is not sent again (no duplicate reports)', async () => {
		let creates = 0;
		api.handle = (req, res) => {
			if (req.method === 'POST') creates++;
			json(res, 502, { code: 'UNEXPECTED_ERROR', message: 'bad gateway' });
		};
		const result = await run({ operation: 'create', deliverAs: 'ASYNC_FILE' });
		assert.ok(result.error);
		assert.equal(creates, 1);
		assert.match(String((result.error as { description?: string }).description), /may have created the report/);
	});

	test('Get Entries stops at an empty page that still links on', async () => {
		let pages = 0;
		api.handle = (_req, res) => {
			pages++;
			json(res, 200, { _embedded: { entries: [] }, _links: { next: { href: `${api.url}/v1/environments/${ENV}/dataExplorations/r/entries?cursor=${pages}` } } });
		};
		const result = await run({ operation: 'getEntries', reportId: 'r', returnAll: true });
		assert.equal(result.error, undefined, String(result.error));
		assert.equal(pages, 1);
		assert.deepEqual(result.outputs.PingOne[0], []);
	});

	test('Wait Until Ready keeps its timeout when PingOne answers 429 Retry-After: 30 forever', { timeout: 30_000 }, async () => {
		api.handle = (_req, res) => json(res, 429, { code: 'REQUEST_LIMITED', message: 'slow down' }, { 'retry-after': '30' });
		const result = await run({ operation: 'waitUntilReady', reportId: 'r', options: { pollInterval: 1, timeout: 2 } });
		assert.ok(result.error);
		assert.match(result.error.message, /429 REQUEST_LIMITED/);
	});

	test('a Report ID of dots is refused before any request', async () => {
		const before = api.requests.length;
		for (const reportId of ['..', '.']) {
			const result = await run({ operation: 'get', reportId });
			assert.ok(result.error);
			assert.match(result.error.message, /is not a valid ID/);
		}
		assert.equal(api.requests.length, before);
	});
});

describe('hostile downloads', () => {
	let dir: string;
	let plainZip: Buffer;
	before(() => {
		dir = mkdtempSync(join(tmpdir(), 'attack-'));
		writeFileSync(join(dir, 'devices-report.csv'), 'userId,username\r\ninjected-1,attacker\r\n');
		execFileSync('zip', ['-q', '-j', join(dir, 'plain.zip'), join(dir, 'devices-report.csv')]);
		plainZip = readFileSync(join(dir, 'plain.zip'));
	});
	after(() => rmSync(dir, { recursive: true, force: true }));

	function reportWithLink(): IDataObject {
		return {
			id: 'r',
			status: 'SUCCESS',
			deliverAs: 'ASYNC_FILE',
			zipPassword: 'realpassword',
			csvPresignedUrl: `${elsewhere.url}/s3/report.csv.zip?X-Amz-Signature=abc`,
			jsonPresignedUrl: `${elsewhere.url}/s3/report.json.zip?X-Amz-Signature=abc`,
		};
	}

	test('an unencrypted zip where PingOne promised a password is refused, no rows', async () => {
		api.handle = (_req, res) => json(res, 200, reportWithLink());
		elsewhere.handle = (_req, res) => {
			res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(plainZip.length) });
			res.end(plainZip);
		};
		const result = await run({ operation: 'download', reportId: 'r', format: 'csv', output: 'items', options: { waitUntilReady: false } });
		assert.ok(result.error);
		assert.match(result.error.message, /not encrypted, although a zip password was given/);
		assert.equal(result.outputs.PingOne, undefined);
	});

	test('a download larger than Max Unzipped Size is cut off early', async () => {
		api.handle = (_req, res) => json(res, 200, reportWithLink());
		let sent = 0;
		elsewhere.handle = (_req, res) => {
			res.writeHead(200, { 'content-type': 'application/zip' });
			const chunk = Buffer.alloc(64 * 1024, 1);
			const pump = () => {
				while (sent < 64 * 1024 * 1024) {
					sent += chunk.length;
					if (!res.write(chunk)) return void res.once('drain', pump);
				}
				res.end();
			};
			res.on('error', () => undefined);
			pump();
		};
		const result = await run({
			operation: 'download',
			reportId: 'r',
			format: 'csv',
			output: 'items',
			options: { waitUntilReady: false, maxUnzippedSizeMb: 1 },
		});
		assert.ok(result.error);
		assert.match(result.error.message, /larger than 2 MB/);
		assert.ok(sent < 64 * 1024 * 1024, `the node stopped reading (server wrote ${sent} bytes)`);
	});
});
