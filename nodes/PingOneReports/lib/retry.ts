/**
 * When and how long to wait before retrying a call (pure; the transport applies it).
 * 429/503 honour Retry-After (seconds or HTTP date); 408/500/502/504 and dropped connections back off
 * exponentially with full jitter; every wait is capped; other statuses are never retried.
 */
export interface RetryPolicy {
	/** Attempts in all, the first included. */
	maxAttempts: number;
	baseDelayMs: number;
	maxDelayMs: number;
	/** Attempts in all for network errors (a wrong host should fail fast). */
	maxNetworkAttempts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
	maxAttempts: 6,
	baseDelayMs: 500,
	maxDelayMs: 30_000,
	maxNetworkAttempts: 4,
};

const RETRY_AFTER_STATUSES = new Set([429, 503]);
const BACKOFF_STATUSES = new Set([408, 500, 502, 504]);
const RETRIED_NETWORK_CODES = new Set([
	'ECONNRESET',
	'EPIPE',
	'ETIMEDOUT',
	'ECONNABORTED',
	'ESOCKETTIMEDOUT',
	'EAI_AGAIN',
	'ERR_SOCKET_CONNECTION_TIMEOUT',
	'UND_ERR_SOCKET',
]);

/** Parses a Retry-After header: delta seconds or an HTTP date. Returns ms, or undefined. */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
	const text = Array.isArray(value) ? value[0] : value;
	if (typeof text === 'number' && Number.isFinite(text)) return Math.max(0, text * 1000);
	if (typeof text !== 'string' || !text.trim()) return undefined;
	const trimmed = text.trim();
	if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.max(0, Number(trimmed) * 1000);
	const date = Date.parse(trimmed);
	if (Number.isNaN(date)) return undefined;
	return Math.max(0, date - now);
}

export function isRetriedNetworkError(code: unknown, message?: string): boolean {
	if (typeof code === 'string' && RETRIED_NETWORK_CODES.has(code)) return true;
	return typeof message === 'string' && /socket hang up|other side closed/i.test(message);
}

export interface RetryInput {
	/** 1 for the first failed attempt. */
	attempt: number;
	status?: number;
	retryAfter?: unknown;
	networkCode?: string;
	networkMessage?: string;
	random?: () => number;
	now?: number;
}

/** Returns the delay before the next attempt, or undefined when the failure is final. */
export function retryDelayMs(input: RetryInput, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number | undefined {
	const random = input.random ?? Math.random;
	const backoff = () =>
		Math.round(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (input.attempt - 1)));
	if (input.status === undefined) {
		if (!isRetriedNetworkError(input.networkCode, input.networkMessage)) return undefined;
		if (input.attempt >= policy.maxNetworkAttempts) return undefined;
		return Math.max(policy.baseDelayMs / 2, backoff());
	}
	if (input.attempt >= policy.maxAttempts) return undefined;
	if (RETRY_AFTER_STATUSES.has(input.status)) {
		const hinted = parseRetryAfter(input.retryAfter, input.now);
		if (hinted !== undefined) return Math.min(policy.maxDelayMs, hinted);
		return Math.max(policy.baseDelayMs, backoff());
	}
	if (BACKOFF_STATUSES.has(input.status)) return Math.max(policy.baseDelayMs / 2, backoff());
	return undefined;
}

export class CancelledError extends Error {
	constructor(message = 'The execution was cancelled') {
		super(message);
		this.name = 'CancelledError';
	}
}

/** Sleeps, ending early with CancelledError when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) {
			reject(new CancelledError());
			return;
		}
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', onAbort);
			resolve();
		}, Math.max(0, ms));
		const onAbort = () => {
			clearTimeout(timer);
			reject(new CancelledError());
		};
		signal?.addEventListener('abort', onAbort, { once: true });
	});
}
