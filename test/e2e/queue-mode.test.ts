/**
 * Queue mode: Redis (Debian's redis-server), an n8n main instance with EXECUTIONS_MODE=queue and
 * one `n8n worker`, sharing one user folder (SQLite) and encryption key. A published workflow
 * "Webhook → Create → Wait Until Ready → Download" is called over HTTP on the main instance; in
 * queue mode the main enqueues production webhook executions and the worker runs them. The test
 * checks the rows in the webhook's response, the worker's log ("Worker started/finished
 * execution <id>"), and the execution stored in n8n's database (status, mode, the Download
 * node's items). Two calls one after the other: the second one reuses the access token the
 * worker stored in the credential (client credentials; one token request in all), and its
 * create is paced by the simulator's one-create-per-5-s limit (429 + Retry-After) or by the node.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { startSimulator, type Simulator } from '../simulator';
import { mainJobWorkflow, simulatorCredential } from './main-job';
import { ROOT } from './pack';
import { startQueueCluster, type QueueCluster } from './queue';

const ROWS = 3_000;
const WEBHOOK_PATH = 'pingone-devices-report';

function webhookWorkflow() {
	const base = mainJobWorkflow('csv');
	const trigger = base.nodes[0]!;
	const nodes = [
		{
			id: 'q1',
			name: 'Webhook',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2,
			position: [0, 0],
			webhookId: '7d3c6a1e-0b5f-4c59-9e0a-5b1f2a7c8d90',
			parameters: { httpMethod: 'GET', path: WEBHOOK_PATH, responseMode: 'lastNode', responseData: 'allEntries', options: {} },
		},
		...base.nodes.slice(1),
	];
	const connections: Record<string, unknown> = { ...base.connections };
	connections.Webhook = connections[trigger.name];
	delete connections[trigger.name];
	return { ...base, id: 'pingOneQueueJob1', name: 'PingOne devices report (webhook)', nodes, connections };
}

describe('queue mode: main + worker + Redis', { timeout: 30 * 60_000 }, () => {
	let sim: Simulator;
	let cluster: QueueCluster | undefined;

	before(async () => {
		sim = await startSimulator({ rows: ROWS, zipEncryption: 'aes256', pollsBeforeSuccess: 2 });
		cluster = await startQueueCluster({
			customExtensions: [path.join(ROOT, 'dist')],
			credentials: [simulatorCredential(sim, { clientId: 'sim-client', clientSecret: 'sim-secret' })],
			workflows: [webhookWorkflow()],
		});
	});
	after(async () => {
		await cluster?.stop();
		await sim?.close();
	});

	test('a production webhook call runs the report workflow on the worker, twice, with one token', async () => {
		const c = cluster!;
		const url = `${c.url}/webhook/${WEBHOOK_PATH}`;
		const responses: Array<Record<string, unknown>[]> = [];
		for (let call = 1; call <= 2; call++) {
			const started = Date.now();
			const res = await fetch(url, { signal: AbortSignal.timeout(5 * 60_000) });
			const text = await res.text();
			assert.equal(res.status, 200, `webhook call ${call}: HTTP ${res.status}: ${text.slice(0, 500)}\nworker: ${c.worker.log().slice(-3000)}`);
			const rows = JSON.parse(text) as Record<string, unknown>[];
			console.log(`# call ${call}: ${rows.length} rows in the webhook response after ${((Date.now() - started) / 1000).toFixed(1)} s`);
			responses.push(rows);
		}

		const executions = await c.query('SELECT id, status, mode, finished, workflowId FROM execution_entity ORDER BY id');
		assert.equal(executions.length, 2, JSON.stringify(executions));
		const workerLog = c.worker.log();
		const mainLog = c.main.log();
		for (const [i, execution] of executions.entries()) {
			const id = String(execution.id);
			assert.equal(execution.status, 'success');
			assert.equal(execution.mode, 'webhook');
			assert.equal(execution.workflowId, 'pingOneQueueJob1');
			assert.match(workerLog, new RegExp(`Worker started execution ${id} \\(job \\d+\\)`));
			assert.match(workerLog, new RegExp(`Worker finished execution ${id} \\(job \\d+\\)`));
			assert.doesNotMatch(mainLog, new RegExp(`Worker started execution ${id}\\b`));

			const data = await c.executionData(id);
			const runData = data.resultData.runData;
			const created = runData['Create Report'].at(-1).data.main[0].map((item: { json: unknown }) => item.json);
			const reportId = String(created[0].id);
			const downloaded = runData.Download.at(-1).data.main[0].map((item: { json: unknown }) => item.json);
			const expected = sim.expectedRows(reportId);
			assert.equal(expected.length, ROWS);
			assert.equal(downloaded.length, ROWS, `execution ${id}: the Download node's items in the stored execution`);
			assert.deepEqual(downloaded, expected);
			assert.deepEqual(responses[i], expected, `call ${i + 1}: the webhook response holds every row`);
		}
		const tokenRequests = sim.log.filter((e) => e.kind === 'token');
		assert.equal(tokenRequests.length, 1, 'the second execution reused the token the worker stored in the credential');
		const creates = sim.log.filter((e) => e.kind === 'api' && e.method === 'POST' && e.status < 300);
		assert.equal(creates.length, 2);
		assert.ok(sim.log.filter((e) => e.kind === 'download').every((e) => e.authorization === 'none'));
		console.log(`# simulator: ${sim.log.length} requests, ${sim.log.filter((e) => e.status === 429).length} answered 429`);
	});
});
