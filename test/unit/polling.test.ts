import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
	pollUntilReady,
	PollCancelledError,
	PollTimeoutError,
	ReportFailedError,
	RetryLaterError,
	type PollInfo,
} from '../../nodes/PingOneReports/lib/polling';

/** A fake clock: sleep advances it instantly; fetches may take time too. */
function fakeClock(start = 1_000_000) {
	let t = start;
	const sleeps: number[] = [];
	return {
		now: () => t,
		advance: (ms: number) => {
			t += ms;
		},
		sleeps,
		sleep: async (ms: number, signal?: AbortSignal) => {
			if (signal?.aborted) throw new PollCancelledError();
			sleeps.push(ms);
			t += ms;
		},
		elapsed: () => t - start,
	};
}

function statuses(...list: Array<string | undefined | Error>) {
	let calls = 0;
	const fetch = async () => {
		const next = list[Math.min(calls, list.length - 1)];
		calls++;
		if (next instanceof Error) throw next;
		return { status: next, n: calls };
	};
	return { fetch, calls: () => calls };
}

describe('pollUntilReady', () => {
	test('IN_PROGRESS then SUCCESS resolves with the report; interval grows x1.5', async () => {
		const clock = fakeClock();
		const { fetch, calls } = statuses('IN_PROGRESS', 'IN_PROGRESS', 'IN_PROGRESS', 'SUCCESS');
		const polls: PollInfo[] = [];
		const report = await pollUntilReady(fetch, {
			intervalMs: 5000,
			timeoutMs: 600_000,
			now: clock.now,
			sleep: clock.sleep,
			onPoll: (info) => polls.push(info),
		});
		assert.deepEqual(report, { status: 'SUCCESS', n: 4 });
		assert.equal(calls(), 4);
		assert.deepEqual(clock.sleeps, [5000, 7500, 11250]);
		assert.deepEqual(polls, [
			{ attempt: 1, status: 'IN_PROGRESS', elapsedMs: 0, nextDelayMs: 5000 },
			{ attempt: 2, status: 'IN_PROGRESS', elapsedMs: 5000, nextDelayMs: 7500 },
			{ attempt: 3, status: 'IN_PROGRESS', elapsedMs: 12500, nextDelayMs: 11250 },
			{ attempt: 4, status: 'SUCCESS', elapsedMs: 23750 },
		]);
	});

	test('back-off is capped by maxIntervalMs (default 30 s)', async () => {
		const clock = fakeClock();
		const { fetch } = statuses(...Array(12).fill('IN_PROGRESS'), 'SUCCESS');
		await pollUntilReady(fetch, { intervalMs: 5000, timeoutMs: 3_600_000, now: clock.now, sleep: clock.sleep });
		assert.equal(Math.max(...clock.sleeps), 30_000);
		assert.deepEqual(clock.sleeps.slice(0, 6), [5000, 7500, 11250, 16875, 25312.5, 30000]);

		const capped = fakeClock();
		const again = statuses('IN_PROGRESS', 'IN_PROGRESS', 'IN_PROGRESS', 'SUCCESS');
		await pollUntilReady(again.fetch, {
			intervalMs: 1000,
			maxIntervalMs: 1200,
			timeoutMs: 60_000,
			now: capped.now,
			sleep: capped.sleep,
		});
		assert.deepEqual(capped.sleeps, [1000, 1200, 1200]);
	});

	test('FAILED or a missing status ends with ReportFailedError naming it', async () => {
		const clock = fakeClock();
		const failed = statuses('IN_PROGRESS', 'FAILED');
		await assert.rejects(
			pollUntilReady(failed.fetch, { intervalMs: 10, timeoutMs: 1000, now: clock.now, sleep: clock.sleep }),
			(e: ReportFailedError) =>
				e instanceof ReportFailedError &&
				e.status === 'FAILED' &&
				e.message === 'The report ended with status FAILED, not SUCCESS',
		);
		assert.equal(failed.calls(), 2);
		const missing = statuses(undefined);
		await assert.rejects(
			pollUntilReady(missing.fetch, { intervalMs: 10, timeoutMs: 1000, now: clock.now, sleep: clock.sleep }),
			(e: ReportFailedError) => e instanceof ReportFailedError && e.status === '(none)',
		);
	});

	test('timeout: never sleeps past the deadline, last poll at the deadline, bounded calls', async () => {
		const clock = fakeClock();
		const stuck = statuses('IN_PROGRESS');
		const polls: PollInfo[] = [];
		await assert.rejects(
			pollUntilReady(stuck.fetch, {
				intervalMs: 5000,
				timeoutMs: 600_000,
				now: clock.now,
				sleep: clock.sleep,
				onPoll: (i) => polls.push(i),
			}),
			(e: PollTimeoutError) =>
				e instanceof PollTimeoutError &&
				e.waitedMs === 600_000 &&
				e.lastStatus === 'IN_PROGRESS' &&
				e.message === 'Timed out after 600 s waiting for the report; last status IN_PROGRESS',
		);
		assert.equal(clock.elapsed(), 600_000);
		// 5 growing waits (5 + 7.5 + 11.25 + 16.875 + 25.3125 = 65.9375 s), then 30 s waits
		// (17 × 30 = 510 s), then one shortened wait of 24.0625 s to land on the deadline
		assert.equal(stuck.calls(), 24);
		assert.equal(clock.sleeps.length, 23);
		assert.equal(clock.sleeps.at(-1), 24_062.5);
		assert.ok(clock.sleeps.every((ms) => ms <= 30_000));
		assert.equal(polls.at(-1)?.nextDelayMs, undefined);
		assert.equal(polls.at(-1)?.elapsedMs, 600_000);
	});

	test('slow fetches count against the deadline', async () => {
		const clock = fakeClock();
		let calls = 0;
		const fetch = async () => {
			calls++;
			clock.advance(4000);
			return { status: 'IN_PROGRESS' };
		};
		await assert.rejects(
			pollUntilReady(fetch, { intervalMs: 5000, timeoutMs: 10_000, now: clock.now, sleep: clock.sleep }),
			PollTimeoutError,
		);
		// poll at 0 (ends 4 s), wait 5 s, poll at 9 s (ends 13 s ≥ deadline)
		assert.equal(calls, 2);
		assert.deepEqual(clock.sleeps, [5000]);
	});

	test('timeout 0: one poll, no sleep', async () => {
		const clock = fakeClock();
		const stuck = statuses('IN_PROGRESS');
		await assert.rejects(
			pollUntilReady(stuck.fetch, { intervalMs: 5000, timeoutMs: 0, now: clock.now, sleep: clock.sleep }),
			PollTimeoutError,
		);
		assert.equal(stuck.calls(), 1);
		assert.deepEqual(clock.sleeps, []);
	});

	test('RetryLaterError waits that long (capped by the deadline) without growing the interval', async () => {
		const clock = fakeClock();
		const polls: PollInfo[] = [];
		const { fetch, calls } = statuses('IN_PROGRESS', new RetryLaterError(12_000), 'IN_PROGRESS', 'SUCCESS');
		await pollUntilReady(fetch, {
			intervalMs: 1000,
			timeoutMs: 60_000,
			now: clock.now,
			sleep: clock.sleep,
			onPoll: (i) => polls.push(i),
		});
		assert.equal(calls(), 4);
		assert.deepEqual(clock.sleeps, [1000, 12_000, 1500]);
		assert.equal(polls[1].status, undefined);

		const short = fakeClock();
		const limited = statuses(new RetryLaterError(120_000));
		await assert.rejects(
			pollUntilReady(limited.fetch, { intervalMs: 1000, timeoutMs: 10_000, now: short.now, sleep: short.sleep }),
			(e: PollTimeoutError) => e instanceof PollTimeoutError && e.lastStatus === undefined,
		);
		assert.deepEqual(short.sleeps, [10_000]);
		assert.equal(limited.calls(), 2);
	});

	test('other fetch errors propagate unchanged', async () => {
		const clock = fakeClock();
		const boom = new Error('401 Unauthorized');
		const { fetch } = statuses('IN_PROGRESS', boom);
		await assert.rejects(
			pollUntilReady(fetch, { intervalMs: 10, timeoutMs: 1000, now: clock.now, sleep: clock.sleep }),
			(e) => e === boom,
		);
	});

	test('abort before start, mid-sleep (real timers) and mid-fetch ends with PollCancelledError', async () => {
		const pre = new AbortController();
		pre.abort();
		let calls = 0;
		await assert.rejects(
			pollUntilReady(
				async () => {
					calls++;
					return { status: 'IN_PROGRESS' };
				},
				{ intervalMs: 10, timeoutMs: 1000, signal: pre.signal },
			),
			PollCancelledError,
		);
		assert.equal(calls, 0);

		// mid-sleep with the built-in sleep: a 1 h interval must not hold it up
		const mid = new AbortController();
		const sleeping = pollUntilReady(async () => ({ status: 'IN_PROGRESS' }), {
			intervalMs: 3_600_000,
			timeoutMs: 7_200_000,
			signal: mid.signal,
			onPoll: () => setImmediate(() => mid.abort()),
		});
		await assert.rejects(sleeping, PollCancelledError);

		// mid-fetch: a fetch that never answers and ignores the signal is abandoned
		const fetchAbort = new AbortController();
		let seenSignal: AbortSignal | undefined;
		const hanging = pollUntilReady(
			(signal) => {
				seenSignal = signal;
				setImmediate(() => fetchAbort.abort());
				return new Promise<{ status: string }>(() => undefined);
			},
			{ intervalMs: 10, timeoutMs: 1000, signal: fetchAbort.signal },
		);
		await assert.rejects(hanging, PollCancelledError);
		assert.equal(seenSignal, fetchAbort.signal);
	});
});
