/*
 * The polling schedule for "wait until the report is ready".
 *
 * - IN_PROGRESS: wait, then poll again. SUCCESS: resolve with that report. Any other status, or
 *   none: ReportFailedError naming it (PingOne documents no failure status, so nothing else loops).
 * - The wait starts at intervalMs and grows ×1.5 per poll up to maxIntervalMs (default 30 s).
 * - Never sleeps past the deadline: the last wait is shortened so the final poll happens at the
 *   deadline; a poll that is still IN_PROGRESS at or after the deadline ends in PollTimeoutError.
 *   So at most about 1 + log1.5(cap / interval) + timeout / cap polls happen.
 * - fetchReport may throw RetryLaterError (e.g. on 429 with Retry-After): the next poll then comes
 *   after that many ms (still capped by the deadline), without growing the interval.
 * - An abort signal ends it promptly with PollCancelledError, also mid-sleep, and mid-fetch (the
 *   fetch gets the signal; if it ignores it, the wait for its answer is abandoned).
 */

import { CancelledError, sleep as cancellableSleep } from './retry';

export class ReportFailedError extends Error {
	status: string;
	constructor(status: string | undefined) {
		const shown = status === undefined || status === '' ? '(none)' : status;
		super(`The report ended with status ${shown}, not SUCCESS`);
		this.name = 'ReportFailedError';
		this.status = shown;
	}
}

export class PollTimeoutError extends Error {
	waitedMs: number;
	lastStatus?: string;
	constructor(waitedMs: number, lastStatus?: string) {
		super(
			`Timed out after ${Math.round(waitedMs / 1000)} s waiting for the report; last status ${lastStatus ?? 'unknown'}`,
		);
		this.name = 'PollTimeoutError';
		this.waitedMs = waitedMs;
		if (lastStatus !== undefined) this.lastStatus = lastStatus;
	}
}

export class PollCancelledError extends Error {
	constructor(message = 'Waiting for the report was cancelled') {
		super(message);
		this.name = 'PollCancelledError';
	}
}

/** Thrown by a fetchReport that was told to come back later (e.g. HTTP 429 with Retry-After). */
export class RetryLaterError extends Error {
	retryAfterMs: number;
	constructor(retryAfterMs: number, message = `Asked to retry after ${Math.round(retryAfterMs / 1000)} s`) {
		super(message);
		this.name = 'RetryLaterError';
		this.retryAfterMs = Math.max(0, Number.isFinite(retryAfterMs) ? retryAfterMs : 0);
	}
}

export interface PollInfo {
	/** 1-based number of the poll just made */
	attempt: number;
	/** status of that poll; undefined when it was told to retry later */
	status?: string;
	elapsedMs: number;
	/** the wait before the next poll; undefined when there is none */
	nextDelayMs?: number;
}

export interface PollOptions {
	/** first wait between polls */
	intervalMs: number;
	/** give up after this long */
	timeoutMs: number;
	/** back-off cap, default 30000 (never below intervalMs) */
	maxIntervalMs?: number;
	signal?: AbortSignal;
	onPoll?: (info: PollInfo) => void;
	now?: () => number;
	sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const BACKOFF_FACTOR = 1.5;
export const DEFAULT_MAX_INTERVAL_MS = 30_000;

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
	return cancellableSleep(ms, signal).catch((error: unknown) => {
		throw error instanceof CancelledError ? new PollCancelledError() : error;
	});
}

/** Resolves/rejects as `promise`, or rejects with PollCancelledError as soon as `signal` aborts. */
function unlessAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
	if (!signal) return promise;
	if (signal.aborted) {
		promise.catch(() => undefined);
		return Promise.reject(new PollCancelledError());
	}
	return new Promise<T>((resolve, reject) => {
		const onAbort = () => reject(new PollCancelledError());
		signal.addEventListener('abort', onAbort, { once: true });
		promise.then(
			(value) => {
				signal.removeEventListener('abort', onAbort);
				resolve(value);
			},
			(error) => {
				signal.removeEventListener('abort', onAbort);
				reject(signal.aborted ? new PollCancelledError() : error);
			},
		);
	});
}

export async function pollUntilReady<T extends { status?: string }>(
	fetchReport: (signal?: AbortSignal) => Promise<T>,
	options: PollOptions,
): Promise<T> {
	const now = options.now ?? Date.now;
	const sleep = options.sleep ?? defaultSleep;
	const { signal, onPoll } = options;
	const intervalMs = Math.max(0, options.intervalMs);
	const cap = Math.max(intervalMs, options.maxIntervalMs ?? DEFAULT_MAX_INTERVAL_MS);
	const start = now();
	const deadline = start + Math.max(0, options.timeoutMs);

	let interval = intervalMs;
	let attempt = 0;
	let lastStatus: string | undefined;

	for (;;) {
		if (signal?.aborted) throw new PollCancelledError();
		attempt++;
		let report: T | undefined;
		let retryAfterMs: number | undefined;
		try {
			report = await unlessAborted(Promise.resolve().then(() => fetchReport(signal)), signal);
		} catch (error) {
			if (signal?.aborted) throw new PollCancelledError();
			if (!(error instanceof RetryLaterError)) throw error;
			retryAfterMs = error.retryAfterMs;
		}
		const at = now();
		const elapsedMs = at - start;

		let status: string | undefined;
		if (report !== undefined) {
			status = report.status;
			lastStatus = status;
			if (status === 'SUCCESS') {
				onPoll?.({ attempt, status, elapsedMs });
				return report;
			}
			if (status !== 'IN_PROGRESS') {
				onPoll?.({ attempt, status, elapsedMs });
				throw new ReportFailedError(status);
			}
		}

		const remaining = deadline - at;
		if (remaining <= 0) {
			onPoll?.({ attempt, status, elapsedMs });
			throw new PollTimeoutError(elapsedMs, lastStatus);
		}
		const delay = Math.min(retryAfterMs ?? interval, remaining);
		onPoll?.({ attempt, status, elapsedMs, nextDelayMs: delay });
		try {
			await sleep(delay, signal);
		} catch (error) {
			if (signal?.aborted || error instanceof PollCancelledError) throw new PollCancelledError();
			throw error;
		}
		if (retryAfterMs === undefined) interval = Math.min(interval * BACKOFF_FACTOR, cap);
	}
}
