/**
 * The main job in a real n8n 2.x: Manual Trigger → Create → Wait Until Ready → Download against
 * the PingOne simulator (10,000 rows, AES-256 zip made by 7-Zip). The same run as `npm run demo`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { runMainJob } from './main-job';

test('a real n8n runs Create → Wait Until Ready → Download and outputs every row of a 10,000-row report', { timeout: 40 * 60_000 }, async () => {
	const result = await runMainJob({ rows: 10_000, log: (line) => console.log(`# ${line}`) });
	console.log(`# n8n's Download node output ${result.rows.length} items in a ${(result.run.durationMs / 1000).toFixed(1)} s run`);
	assert.equal(result.expectedRows.length, 10_000);
	assert.equal(result.rows.length, 10_000);
	assert.deepEqual(result.rows, result.expectedRows);
	const downloads = result.requestLog.filter((e) => e.kind === 'download');
	assert.ok(downloads.length >= 1, 'the zip was downloaded');
	assert.deepEqual(
		downloads.map((e) => e.authorization),
		downloads.map(() => 'none'),
		'no Authorization header ever reached the download path',
	);
	const api = result.requestLog.filter((e) => e.kind === 'api');
	assert.ok(api.every((e) => e.authorization === 'bearer'), 'every API call carried the bearer token');
});
