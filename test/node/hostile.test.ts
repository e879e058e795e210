/**
 * The node through n8n-core's engine against a hostile simulator: 429s (Retry-After in seconds and
 * as an HTTP date), 503s, dropped connections, slow answers, expired links and slow polls. Every
 * run must complete with every row, and each wait the node logs ("retrying in X s") must really
 * have been waited (the next attempt reaches the simulator no earlier). Continue On Fail over
 * several items keeps the good items' rows with the right pairedItem.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startSimulator, type Simulator } from '../simulator';
import { harnessLogs } from './harness';
import {
	ROWS,
	assertWaitsHonoured,
	create,
	download,
	hostileScenarios,
	json,
	loggedWaits,
	node,
	run,
	runScenario,
} from './hostile-scenarios';

describe('hostile servers: every run completes with every row, and the logged waits are honoured', () => {
	for (const s of hostileScenarios) {
		test(s.name, { timeout: 120_000 }, async (t) => {
			const sim = await startSimulator({ createRateLimit: false, pollsBeforeSuccess: 1, rows: ROWS, ...s.options });
			try {
				const mark = harnessLogs.length;
				const result = await runScenario(s, sim);
				assert.equal(result.error, undefined, String(result.error?.message));
				const id = String(json(result, 'Create')[0].id);
				const rows = json(result, 'Download');
				assert.equal(rows.length, ROWS);
				assert.deepEqual(rows, sim.expectedRows(id));
				for (const item of result.outputs.Download[0]) assert.deepEqual(item.pairedItem, { item: 0 });
				// the faults were used up, none left over
				for (const [k, v] of Object.entries(sim.faults)) {
					const left = typeof v === 'number' ? v : typeof v === 'object' && v ? (v as { count: number }).count : 0;
					assert.equal(left, 0, `fault ${k} was fully injected`);
				}
				s.check?.(sim, result);
				const honoured = assertWaitsHonoured(sim, mark);
				for (const h of honoured) t.diagnostic(`${h.fault} on ${h.path}: node logged ${h.waited} s, next attempt ${h.gapMs} ms later`);
				for (const l of loggedWaits(mark)) t.diagnostic(`log: ${l.line}`);
			} finally {
				await sim.close();
			}
		});
	}

	test('Retry-After is capped: a 429 asking for 120 s is retried after at most 30 s', { timeout: 120_000 }, async () => {
		const sim = await startSimulator({ createRateLimit: false, pollsBeforeSuccess: 1, rows: 5 });
		try {
			const mark = harnessLogs.length;
			sim.faults.tooManyRequests = { count: 1, on: 'get', retryAfter: 120 };
			const result = await run(sim, [create(), node('Get', { operation: 'get', reportId: '={{ $json.id }}' })]);
			assert.equal(result.error, undefined, String(result.error?.message));
			const waits = loggedWaits(mark);
			assert.equal(waits.length, 1);
			assert.equal(waits[0].seconds, 30);
		} finally {
			await sim.close();
		}
	});

	test('a 429 that never ends fails after a bounded number of attempts with PingOne\'s code', { timeout: 300_000 }, async () => {
		const sim = await startSimulator({ createRateLimit: false, pollsBeforeSuccess: 1, rows: 5 });
		try {
			sim.faults.tooManyRequests = { count: 1000, on: 'get', retryAfter: 0 };
			const result = await run(sim, [create(), node('Get', { operation: 'get', reportId: '={{ $json.id }}' })]);
			assert.ok(result.error);
			assert.match(result.error.message, /429 REQUEST_LIMITED/);
			const gets = sim.log.filter((e) => e.method === 'GET' && e.kind === 'api');
			assert.ok(gets.length >= 2 && gets.length <= 10, `${gets.length} attempts`);
		} finally {
			await sim.close();
		}
	});

	test('a 400 is never retried', async () => {
		const sim = await startSimulator({ createRateLimit: false, pollsBeforeSuccess: 1, rows: 5 });
		try {
			const mark = harnessLogs.length;
			const result = await run(sim, [create({ filter: '(nonsense' })]);
			assert.ok(result.error);
			assert.match(result.error.message, /400 INVALID_DATA/);
			assert.equal(sim.log.filter((e) => e.method === 'POST').length, 1);
			assert.equal(loggedWaits(mark).length, 0);
		} finally {
			await sim.close();
		}
	});
});

describe('Continue On Fail over several items', () => {
	let sim: Simulator;
	before(async () => {
		sim = await startSimulator({ createRateLimit: false, pollsBeforeSuccess: 1, rows: ROWS });
	});
	after(async () => {
		await sim.close();
	});

	test('one failing item (unknown report) among three: the others output all their rows, pairedItem right', { timeout: 120_000 }, async () => {
		const made = await run(sim, [create()], [{ json: {} }, { json: {} }]);
		assert.equal(made.error, undefined, String(made.error?.message));
		const [a, b] = json(made, 'Create').map((r) => String(r.id));
		sim.faults.tooManyRequests = { count: 1, on: 'get', retryAfter: 1 };
		sim.faults.dropConnections = { count: 1, on: 'download' };
		const result = await run(
			sim,
			[download({ reportId: '={{ $json.reportId }}' }, { onError: 'continueRegularOutput' })],
			[{ json: { reportId: a } }, { json: { reportId: 'no-such-report' } }, { json: { reportId: b } }],
		);
		assert.equal(result.error, undefined, String(result.error?.message));
		const items = result.outputs.Download[0];
		assert.equal(items.length, ROWS + 1 + ROWS);
		const first = items.slice(0, ROWS);
		const failed = items[ROWS];
		const third = items.slice(ROWS + 1);
		assert.deepEqual(first.map((i) => i.json), sim.expectedRows(a));
		assert.ok(first.every((i) => (i.pairedItem as { item: number }).item === 0));
		assert.match(String(failed.json.error), /404 NOT_FOUND/);
		assert.deepEqual(failed.pairedItem, { item: 1 });
		assert.deepEqual(third.map((i) => i.json), sim.expectedRows(b));
		assert.ok(third.every((i) => (i.pairedItem as { item: number }).item === 2));
	});

	test('one failing item (damaged zip) among three: the others keep their rows', { timeout: 120_000 }, async () => {
		// The damage fault counts downloads: arm it when the first download has been answered, so
		// item 0 downloads cleanly, item 1 gets a damaged zip, and item 2 is clean again.
		let armed = false;
		const own: Simulator = await startSimulator({
			createRateLimit: false,
			pollsBeforeSuccess: 1,
			rows: ROWS,
			onLog: (e) => {
				if (!armed && e.kind === 'download' && e.status === 200) {
					armed = true;
					own.faults.corruptDownloads = 1;
				}
			},
		});
		try {
			const made = await run(own, [create()], [{ json: {} }, { json: {} }, { json: {} }]);
			const ids = json(made, 'Create').map((r) => String(r.id));
			assert.equal(ids.length, 3);
			const result = await run(
				own,
				[download({ reportId: '={{ $json.id }}' }, { onError: 'continueRegularOutput' })],
				ids.map((id) => ({ json: { id } })),
			);
			assert.equal(result.error, undefined, String(result.error?.message));
			const items = result.outputs.Download[0];
			const errors = items.filter((i) => i.json.error !== undefined);
			assert.equal(errors.length, 1, 'exactly one item failed');
			assert.match(String(errors[0].json.error), /integrity check failed/i);
			assert.deepEqual(errors[0].pairedItem, { item: 1 });
			assert.deepEqual(items.filter((i) => (i.pairedItem as { item: number }).item === 1), [errors[0]], 'the failing item outputs only its error');
			for (const k of [0, 2]) {
				const mine = items.filter((i) => (i.pairedItem as { item: number }).item === k);
				assert.deepEqual(mine.map((i) => i.json), own.expectedRows(ids[k]));
			}
		} finally {
			await own.close();
		}
	});
});
