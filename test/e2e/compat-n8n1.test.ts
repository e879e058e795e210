/**
 * Compatibility with the n8n 1.x line: the main job (Manual Trigger → Create → Wait Until Ready →
 * Download, 10,000 rows, AES-256 zip) in a real n8n 1.123.x on Node 24, the package loaded
 * through N8N_CUSTOM_EXTENSIONS. The first run installs that n8n into the cache (about 11 minutes
 * on 2 cores; scripts/install-n8n.sh). N8N1_VERSION picks another 1.x version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { runMainJob } from './main-job';

/** The newest 1.123 patch on the registry when this was written (`npm view n8n@1.123 version`). */
const N8N1_VERSION = process.env.N8N1_VERSION ?? '1.123.81';

test(`a real n8n ${N8N1_VERSION} (Node 24) runs the main job and outputs every row of a 10,000-row report`, { timeout: 40 * 60_000 }, async () => {
	const result = await runMainJob({ n8nVersion: N8N1_VERSION, rows: 10_000, log: (line) => console.log(`# ${line}`) });
	console.log(`# n8n ${N8N1_VERSION}: the Download node output ${result.rows.length} items in a ${(result.run.durationMs / 1000).toFixed(1)} s run`);
	for (const w of result.run.warnings) console.log(`# warning: ${w}`);
	assert.equal(result.expectedRows.length, 10_000);
	assert.equal(result.rows.length, 10_000);
	assert.deepEqual(result.rows, result.expectedRows);
	const downloads = result.requestLog.filter((e) => e.kind === 'download');
	assert.ok(downloads.length >= 1, 'the zip was downloaded');
	assert.ok(downloads.every((e) => e.authorization === 'none'), 'no Authorization header on the download');
	assert.ok(result.requestLog.filter((e) => e.kind === 'api').every((e) => e.authorization === 'bearer'));
});
