/**
 * Creating reports for several items keeps to PingOne's one-create-per-5-seconds rule (the
 * simulator enforces it with 429s), instead of running into the limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { PingOneApi } from '../../credentials/PingOneApi.credentials';
import { startSimulator } from '../simulator';
import { chain, runWorkflow } from './harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { PingOneReports } = require('../../dist/nodes/PingOneReports/PingOneReports.node.js') as typeof import('../../nodes/PingOneReports/PingOneReports.node');

test('Create over three items spaces the creates 5 s apart and never meets a 429', async () => {
	const sim = await startSimulator({ createRateLimit: true, createRateLimitSeconds: 5 });
	try {
		const result = await runWorkflow({
			nodeTypes: { pingOneReports: new PingOneReports() },
			credentialTypes: [new PingOneApi()],
			credentials: {
				pingOneApi: {
					region: 'custom',
					apiUrl: sim.apiUrl,
					authUrl: sim.authUrl,
					environmentId: sim.environmentId,
					authentication: 'accessToken',
					accessToken: 'sim-static-token',
				},
			},
			workflow: chain([
				{
					name: 'Create',
					type: 'pingOneReports',
					parameters: { resource: 'report', operation: 'create', deliverAs: 'ASYNC_FILE' },
					credentials: { pingOneApi: { id: '1', name: 'PingOne' } },
				},
			]),
			inputItems: [{ json: { n: 1 } }, { json: { n: 2 } }, { json: { n: 3 } }],
		});
		assert.equal(result.error, undefined, String(result.error));
		const created = result.outputs.Create[0];
		assert.equal(created.length, 3);
		assert.deepEqual(created.map((i) => i.pairedItem), [{ item: 0 }, { item: 1 }, { item: 2 }]);
		const creates = sim.log.filter((e) => e.method === 'POST' && e.kind === 'api');
		assert.deepEqual(creates.map((e) => e.status), [201, 201, 201], 'no 429 from the simulator');
		const times = creates.map((e) => Date.parse(e.at));
		for (let i = 1; i < times.length; i++) {
			assert.ok(times[i] - times[i - 1] >= 4900, `create ${i + 1} came ${times[i] - times[i - 1]} ms after the one before`);
		}
	} finally {
		await sim.close();
	}
});
