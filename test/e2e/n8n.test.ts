/**
 * Smoke test of the real-n8n runner: n8n's own nodes only (Manual Trigger → Code → No-Op, and a
 * credential import), checked through the parsed `n8n execute --rawOutput` run data.
 * The first run installs n8n into the cache (10–15 minutes); later runs take seconds.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { cleanupRun, ensureN8n, parseRunOutput, runN8nWorkflow } from './n8n';
import type { N8nInstall } from './n8n';

const INSTALL_TIMEOUT = 40 * 60_000;
const RUN_TIMEOUT = 5 * 60_000;

function smokeWorkflow(jsCode: string, extra: Record<string, unknown> = {}) {
	return {
		id: 'harnessSmoke0001',
		name: 'Runner smoke test',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			{
				id: '6f0c1a52-0000-4000-8000-000000000001',
				name: 'Manual',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: '6f0c1a52-0000-4000-8000-000000000002',
				name: 'Code',
				type: 'n8n-nodes-base.code',
				typeVersion: 2,
				position: [220, 0],
				parameters: { jsCode },
				...extra,
			},
			{
				id: '6f0c1a52-0000-4000-8000-000000000003',
				name: 'Done',
				type: 'n8n-nodes-base.noOp',
				typeVersion: 1,
				position: [440, 0],
				parameters: {},
			},
		],
		connections: {
			Manual: { main: [[{ node: 'Code', type: 'main', index: 0 }]] },
			Code: { main: [[{ node: 'Done', type: 'main', index: 0 }]] },
		},
	};
}

describe('real n8n runner', () => {
	let install: N8nInstall;

	before(async () => {
		install = await ensureN8n();
	}, { timeout: INSTALL_TIMEOUT });

	test('ensureN8n gives an n8n 2.x on Node 24', () => {
		assert.match(install.version, /^2\./);
		assert.ok(install.nodeBin.endsWith('/bin/node'));
	});

	test('a Manual Trigger → Code → No-Op workflow returns its 3 items', { timeout: RUN_TIMEOUT }, async () => {
		const result = await runN8nWorkflow({
			install,
			workflow: smokeWorkflow('return [1, 2, 3].map((n) => ({ json: { n, square: n * n } }));'),
		});
		assert.equal(result.error, undefined, `${result.error}\n${result.stderr.slice(-2000)}`);
		assert.equal(result.ok, true);
		assert.equal(result.exitCode, 0);
		assert.equal(result.runData.status, 'success');
		assert.deepEqual(result.nodeOutput('Code'), [
			{ n: 1, square: 1 },
			{ n: 2, square: 4 },
			{ n: 3, square: 9 },
		]);
		assert.deepEqual(result.nodeOutput('Done'), result.nodeOutput('Code'));
		assert.throws(() => result.nodeOutput('Nope'), /did not run/);
		cleanupRun(result);
	});

	test('an imported credential is decrypted and used by n8n (HTTP Request + Header Auth)', { timeout: RUN_TIMEOUT }, async () => {
		const seen: Array<string | undefined> = [];
		const server: Server = createServer((req, res) => {
			seen.push(req.headers['x-test'] as string | undefined);
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ path: req.url, gotHeader: req.headers['x-test'] === 'secret-value' }));
		});
		await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
		try {
			const port = (server.address() as AddressInfo).port;
			const result = await runN8nWorkflow({
				install,
				credentials: [
					{ id: 'smokeCred1', name: 'Smoke header auth', type: 'httpHeaderAuth', data: { name: 'X-Test', value: 'secret-value' } },
				],
				workflow: {
					id: 'harnessSmoke0002',
					name: 'Runner credential smoke test',
					nodes: [
						{ id: '6f0c1a52-0000-4000-8000-000000000011', name: 'Manual', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
						{
							id: '6f0c1a52-0000-4000-8000-000000000012',
							name: 'HTTP',
							type: 'n8n-nodes-base.httpRequest',
							typeVersion: 4.2,
							position: [220, 0],
							parameters: {
								url: `http://127.0.0.1:${port}/echo`,
								authentication: 'genericCredentialType',
								genericAuthType: 'httpHeaderAuth',
								options: {},
							},
							credentials: { httpHeaderAuth: { id: 'smokeCred1', name: 'Smoke header auth' } },
						},
					],
					connections: { Manual: { main: [[{ node: 'HTTP', type: 'main', index: 0 }]] } },
				},
			});
			assert.equal(result.ok, true, `${result.error}\n${result.stderr.slice(-2000)}`);
			assert.deepEqual(result.nodeOutput('HTTP'), [{ path: '/echo', gotHeader: true }]);
			assert.deepEqual(seen, ['secret-value']);
			cleanupRun(result);
		} finally {
			await new Promise<void>((r) => server.close(() => r()));
		}
	});

	test('a node loaded through customExtensions runs as CUSTOM.<name>', { timeout: RUN_TIMEOUT }, async () => {
		const ext = mkdtempSync(path.join(tmpdir(), 'n8n-ext-'));
		mkdirSync(path.join(ext, 'nodes', 'Shout'), { recursive: true });
		writeFileSync(
			path.join(ext, 'nodes', 'Shout', 'Shout.node.js'),
			`"use strict";
class Shout {
	constructor() {
		this.description = {
			displayName: 'Shout', name: 'shout', group: ['transform'], version: 1,
			description: 'Upper-cases a field', defaults: { name: 'Shout' },
			inputs: ['main'], outputs: ['main'],
			properties: [{ displayName: 'Text', name: 'text', type: 'string', default: '' }],
		};
	}
	async execute() {
		const items = this.getInputData();
		return [items.map((item, i) => ({ json: { shouted: String(this.getNodeParameter('text', i)).toUpperCase() }, pairedItem: { item: i } }))];
	}
}
exports.Shout = Shout;
`,
		);
		try {
			const result = await runN8nWorkflow({
				install,
				customExtensions: [ext],
				workflow: {
					id: 'harnessSmoke0003',
					name: 'Runner custom node smoke test',
					nodes: [
						{ id: '6f0c1a52-0000-4000-8000-000000000021', name: 'Manual', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
						{ id: '6f0c1a52-0000-4000-8000-000000000022', name: 'Shout', type: 'CUSTOM.shout', typeVersion: 1, position: [220, 0], parameters: { text: 'hello' } },
					],
					connections: { Manual: { main: [[{ node: 'Shout', type: 'main', index: 0 }]] } },
				},
			});
			assert.equal(result.ok, true, `${result.error}\n${result.stderr.slice(-2000)}`);
			assert.deepEqual(result.nodeOutput('Shout'), [{ shouted: 'HELLO' }]);
			cleanupRun(result);
		} finally {
			rmSync(ext, { recursive: true, force: true });
		}
	});

	test('a failing node gives ok=false with the error message', { timeout: RUN_TIMEOUT }, async () => {
		const result = await runN8nWorkflow({
			install,
			workflow: smokeWorkflow("throw new Error('smoke test failure 42');"),
		});
		assert.equal(result.ok, false);
		assert.equal(result.exitCode, 1);
		assert.ok(result.runData, 'the failed run is still parsed');
		assert.match(result.error ?? '', /smoke test failure 42/);
		assert.equal(result.runData.data.resultData.lastNodeExecuted, 'Code');
		cleanupRun(result);
	});

	test('onError: continueRegularOutput keeps the run going', { timeout: RUN_TIMEOUT }, async () => {
		const result = await runN8nWorkflow({
			install,
			workflow: smokeWorkflow("throw new Error('handled failure');", { onError: 'continueRegularOutput' }),
		});
		assert.equal(result.ok, true, result.error);
		const done = result.nodeOutput('Done');
		assert.equal(done.length, 1);
		assert.match(String(done[0].error), /handled failure/);
		cleanupRun(result);
	});
});

describe('parseRunOutput', () => {
	test('finds the run between log lines and ignores other brace blocks', () => {
		const text = [
			'n8n Task Broker ready on 127.0.0.1, port 5679',
			'{',
			'  "not": "a run"',
			'}',
			'Registered runner "JS Task Runner"',
			'{',
			'  "data": { "resultData": { "runData": { "A": [] } } },',
			'  "status": "success"',
			'}',
			'trailing log line',
		].join('\n');
		assert.deepEqual(parseRunOutput(text), { data: { resultData: { runData: { A: [] } } }, status: 'success' });
		assert.equal(parseRunOutput('no json here'), undefined);
	});
});
