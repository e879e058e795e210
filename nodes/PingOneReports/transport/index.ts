import type {
	IDataObject,
	IExecuteFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { redactUrl } from '../lib/links';
import { CredentialSettingsError, resolveHosts, type PingOneHosts } from '../lib/regions';
import { retryDelayMs, sleep } from '../lib/retry';

export const CREDENTIAL_TYPE = 'pingOneApi';

/** The API and auth hosts of the credential; a wrong setting becomes a NodeOperationError. */
export async function getHosts(this: IExecuteFunctions, itemIndex: number): Promise<PingOneHosts> {
	const credentials = await this.getCredentials(CREDENTIAL_TYPE, itemIndex);
	try {
		return resolveHosts(credentials);
	} catch (error) {
		throw new NodeOperationError(
			this.getNode(),
			error instanceof CredentialSettingsError ? `PingOne API credential: ${error.message}` : (error as Error),
			{ itemIndex },
		);
	}
}

export function cancelSignal(ctx: IExecuteFunctions): AbortSignal | undefined {
	return typeof ctx.getExecutionCancelSignal === 'function' ? ctx.getExecutionCancelSignal() : undefined;
}

interface FailedResponse {
	/** The credential could not get a token (its message says why, without secrets). */
	credentialMessage?: string;
	status?: number;
	headers: Record<string, unknown>;
	data: unknown;
	networkCode?: string;
	networkMessage?: string;
}

/** Finds the HTTP response (or network failure) behind an error thrown by n8n's request helpers. */
function failedResponse(error: unknown): FailedResponse {
	// eslint-disable-next-line @typescript-eslint/no-explicit-any -- walks the unknown shape of HTTP client errors
	let current = error as Record<string, any> | undefined;
	for (let depth = 0; current && depth < 5; depth++) {
		if (current.name === 'PingOneCredentialError' && typeof current.message === 'string') {
			return { headers: {}, data: undefined, credentialMessage: current.message };
		}
		if (current.response && typeof current.response === 'object' && current.response.status) {
			return {
				status: Number(current.response.status),
				headers: current.response.headers ?? {},
				data: current.response.data,
			};
		}
		if (typeof current.code === 'string' && /^E[A-Z_]+$|^UND_ERR/.test(current.code)) {
			return { headers: {}, data: undefined, networkCode: current.code, networkMessage: current.message };
		}
		current = current.cause;
	}
	const err = error as { httpCode?: string; message?: string } | undefined;
	const status = err?.httpCode ? Number(err.httpCode) : undefined;
	return { status, headers: {}, data: undefined, networkMessage: err?.message };
}

function parseBody(data: unknown): unknown {
	if (Buffer.isBuffer(data)) data = data.toString('utf8');
	if (typeof data === 'string') {
		try {
			return JSON.parse(data);
		} catch {
			return data;
		}
	}
	return data;
}

function redirectTarget(failure: FailedResponse): string {
	const location = failure.headers.location;
	if (typeof location !== 'string') return '';
	try {
		return ` to ${new URL(location).host}`;
	} catch {
		return '';
	}
}

/** Builds the NodeApiError for a PingOne error body `{ id, code, message, details[] }`. */
export function pingOneApiError(
	ctx: IExecuteFunctions,
	failure: FailedResponse,
	what: string,
	itemIndex: number,
	isCreate = false,
): NodeApiError {
	const mayExist = isCreate
		? ' PingOne may have created the report anyway: look for it before creating another.'
		: '';
	const body = parseBody(failure.data);
	const obj = (typeof body === 'object' && body !== null ? body : {}) as IDataObject;
	const code = typeof obj.code === 'string' ? obj.code : undefined;
	const message = typeof obj.message === 'string' ? obj.message : undefined;
	const details = Array.isArray(obj.details) ? (obj.details as IDataObject[]) : [];
	const detailText = details
		.map((d) => [d.code, d.target ? `(${String(d.target)})` : '', d.message].filter(Boolean).join(' '))
		.join('; ');
	if (failure.credentialMessage !== undefined) {
		return new NodeApiError(ctx.getNode(), { message: failure.credentialMessage } as JsonObject, {
			message: `${what}: ${failure.credentialMessage}`,
			description: 'Check the PingOne API credential (the Test button in its dialog tells what is wrong).',
			itemIndex,
		});
	}
	if (failure.status === undefined) {
		return new NodeApiError(
			ctx.getNode(),
			{ message: failure.networkMessage ?? 'network error' } as JsonObject,
			{
				message: `${what}: PingOne could not be reached (${failure.networkCode ?? failure.networkMessage ?? 'network error'})`,
				description: `Check the Region of the PingOne API credential and the network of the n8n host.${mayExist}`,
				itemIndex,
			},
		);
	}
	let hint = '';
	if (failure.status === 401) hint = 'The access token is missing, wrong or expired. Check the PingOne API credential.';
	else if (failure.status === 403)
		hint = "The worker application's roles do not allow this call (it needs a role that can read reports, e.g. Environment Admin).";
	else if (failure.status === 404)
		hint = 'The report does not exist in this environment, or it expired (reports live about 30 minutes).';
	else if (failure.status === 429) hint = 'PingOne rate limit: at most one report per 5 seconds per environment.';
	else if (failure.status >= 300 && failure.status < 400)
		hint = `PingOne answered with a redirect${redirectTarget(failure)}; it is not followed, so the token never goes to another host. Check the API URL of the credential.`;
	else if (failure.status >= 500) hint = `PingOne had a server error.${mayExist}`;
	return new NodeApiError(
		ctx.getNode(),
		{ code: code ?? '', message: message ?? '', details: detailText } as JsonObject,
		{
			message: `${what}: PingOne answered ${failure.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`,
			description: [detailText, hint].filter(Boolean).join(' ') || undefined,
			httpCode: String(failure.status),
			itemIndex,
		},
	);
}

export interface ApiRequestOptions {
	method: IHttpRequestMethods;
	/** A path below the environment, e.g. `/dataExplorations`, or an absolute URL on the API host (paging links). */
	path: string;
	body?: IDataObject;
	qs?: IDataObject;
	itemIndex: number;
	/** Words for errors, e.g. "Get report". */
	what: string;
	/** Epoch ms after which no retry is started (a wait's timeout). */
	deadline?: number;
}

/** No single PingOne call may take longer than this. */
export const REQUEST_TIMEOUT_MS = 60_000;
/** A download that sends nothing for this long is given up. */
export const DOWNLOAD_IDLE_TIMEOUT_MS = 60_000;

interface RetryOptions {
	/** Which failures may be retried at all (default: every one the retry policy retries). */
	retryable?: (failure: FailedResponse) => boolean;
	deadline?: number;
}

async function withRetries<T>(
	ctx: IExecuteFunctions,
	what: string,
	send: () => Promise<T>,
	onFinal: (failure: FailedResponse) => Error,
	options: RetryOptions = {},
): Promise<T> {
	const signal = cancelSignal(ctx);
	const cancelled = () => new NodeOperationError(ctx.getNode(), `${what}: the execution was cancelled`);
	for (let attempt = 1; ; attempt++) {
		if (signal?.aborted) throw cancelled();
		try {
			return await send();
		} catch (error) {
			if (signal?.aborted) throw cancelled();
			// Our own verdicts (e.g. a download over the size limit) are final as they are.
			if (error instanceof NodeOperationError) throw new NodeOperationError(ctx.getNode(), error);
			const failure = failedResponse(error);
			const delay = retryDelayMs({
				attempt,
				status: failure.status,
				retryAfter: failure.headers['retry-after'],
				networkCode: failure.networkCode,
				networkMessage: failure.networkMessage,
			});
			if (delay === undefined) throw onFinal(failure);
			if (options.retryable && !options.retryable(failure)) throw onFinal(failure);
			if (options.deadline !== undefined && Date.now() + delay > options.deadline) throw onFinal(failure);
			ctx.logger.info(
				`PingOne Reports: ${what} answered ${failure.status ?? failure.networkCode ?? 'a network error'}; retrying in ${(delay / 1000).toFixed(1)} s (attempt ${attempt + 1})`,
			);
			await sleep(delay, signal).catch(() => {
				throw cancelled();
			});
		}
	}
}

/** PingOne allows one report create per 5 seconds per environment; a little margin for clocks. */
export const CREATE_INTERVAL_MS = 5_250;
// Per process, not per credential secret: it only spaces out creates (n8n workers in queue mode
// each keep their own, and a 429 from PingOne is still honoured through Retry-After).
const lastCreateAt = new Map<string, number>();

/** Waits until a create for this environment keeps to PingOne's one-per-5-seconds rule. */
async function paceCreate(ctx: IExecuteFunctions, key: string): Promise<void> {
	const last = lastCreateAt.get(key);
	const wait = last === undefined ? 0 : last + CREATE_INTERVAL_MS - Date.now();
	if (wait > 0) {
		ctx.logger.info(
			`PingOne Reports: waiting ${(wait / 1000).toFixed(1)} s before creating the next report (one create per 5 s per environment)`,
		);
		await sleep(wait, cancelSignal(ctx));
	}
}

/** One call to the PingOne API with the credential's token, retried where that is safe. */
export async function apiRequest<T = IDataObject>(this: IExecuteFunctions, options: ApiRequestOptions): Promise<T> {
	const hosts = await getHosts.call(this, options.itemIndex);
	const base = `${hosts.apiUrl}/environments/${hosts.environmentId}`;
	let url: string;
	if (/^https?:\/\//i.test(options.path)) {
		// Paging links come from PingOne; the token may only ever go to the API host.
		if (new URL(options.path).origin !== new URL(hosts.apiUrl).origin) {
			throw new NodeOperationError(
				this.getNode(),
				`${options.what}: PingOne returned a link to another host (${redactUrl(options.path)}); refusing to send the token there.`,
				{ itemIndex: options.itemIndex },
			);
		}
		url = options.path;
	} else {
		url = `${base}${options.path}`;
	}
	const request: IHttpRequestOptions = {
		method: options.method,
		url,
		json: true,
		headers: { Accept: 'application/json' },
		// A redirect would carry the token to wherever it points: PingOne's API does not redirect.
		disableFollowRedirect: true,
		sendCredentialsOnCrossOriginRedirect: false,
		timeout: REQUEST_TIMEOUT_MS,
	};
	if (options.body) request.body = options.body;
	if (options.qs) request.qs = options.qs;
	const isCreate = options.method === 'POST' && options.path === '/dataExplorations';
	return await withRetries(
		this,
		options.what,
		async () => {
			const paceKey = `${hosts.apiUrl}/${hosts.environmentId}`;
			if (isCreate) await paceCreate(this, paceKey);
			try {
				return (await this.helpers.httpRequestWithAuthentication.call(this, CREDENTIAL_TYPE, {
					...request,
				})) as T;
			} finally {
				// Counted from the answer: PingOne counts from when it took the previous create.
				if (isCreate) lastCreateAt.set(paceKey, Date.now());
			}
		},
		(failure) => pingOneApiError(this, failure, options.what, options.itemIndex, isCreate),
		{
			deadline: options.deadline,
			// A create that failed on the way may have been carried out: only retry what PingOne
			// says it did not take (429 rate limit, 503 unavailable), so no duplicate reports.
			retryable: isCreate ? (failure) => failure.status === 429 || failure.status === 503 : undefined,
		},
	);
}

export interface DownloadResult {
	status: number;
	body: Buffer;
	/** For errors: S3's XML `<Code>`/`<Message>` made readable. */
	errorText?: string;
}

function describeS3Error(body: Buffer): string | undefined {
	const text = body.subarray(0, 4096).toString('utf8');
	const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
	const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
	if (!code && !message) return undefined;
	return [code, message].filter(Boolean).join(': ');
}

/**
 * Reads a response body into one Buffer. With a Content-Length the bytes go straight into a
 * buffer of that size, so a large zip is not held twice (chunks plus their concatenation).
 */
export class DownloadTooLargeError extends Error {
	constructor(readonly maxBytes: number) {
		super(`the report file is larger than ${Math.round(maxBytes / 1024 / 1024)} MB`);
		this.name = 'DownloadTooLargeError';
	}
}

/** Fails a body that goes silent for longer than DOWNLOAD_IDLE_TIMEOUT_MS. */
async function* withIdleTimeout(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
	const iterator = stream[Symbol.asyncIterator]();
	try {
		for (;;) {
			let timer: NodeJS.Timeout | undefined;
			const idle = new Promise<never>((_, reject) => {
				timer = setTimeout(() => {
					const error = new Error('the download host sent nothing for 60 s') as Error & { code: string };
					error.code = 'ETIMEDOUT';
					reject(error);
				}, DOWNLOAD_IDLE_TIMEOUT_MS);
			});
			try {
				const next = await Promise.race([iterator.next(), idle]);
				if (next.done) return;
				yield next.value;
			} finally {
				clearTimeout(timer);
			}
		}
	} finally {
		await iterator.return?.();
	}
}

async function readBody(source: AsyncIterable<Buffer>, contentLength: number, maxBytes: number): Promise<Buffer> {
	if (Number.isSafeInteger(contentLength) && contentLength > maxBytes) {
		await (source as { destroy?: () => void }).destroy?.();
		throw new DownloadTooLargeError(maxBytes);
	}
	const stream = withIdleTimeout(source);
	if (!Number.isSafeInteger(contentLength) || contentLength < 0) {
		const chunks: Buffer[] = [];
		let total = 0;
		for await (const chunk of stream) {
			total += chunk.length;
			if (total > maxBytes) throw new DownloadTooLargeError(maxBytes);
			chunks.push(chunk);
		}
		return Buffer.concat(chunks);
	}
	const out = Buffer.allocUnsafe(contentLength);
	let length = 0;
	const extra: Buffer[] = [];
	for await (const chunk of stream) {
		const room = contentLength - length;
		if (chunk.length <= room) {
			chunk.copy(out, length);
			length += chunk.length;
		} else {
			// More than announced: keep every byte (the zip reader then judges the file).
			if (room > 0) chunk.copy(out, length, 0, room);
			extra.push(chunk.subarray(Math.max(0, room)));
			length = contentLength;
			if (contentLength + extra.reduce((n, b) => n + b.length, 0) > maxBytes) {
				throw new DownloadTooLargeError(maxBytes);
			}
		}
	}
	// Fewer bytes than announced (a cut connection): hand over only what arrived.
	return extra.length ? Buffer.concat([out, ...extra]) : out.subarray(0, length);
}

/**
 * Downloads a presigned link with a plain request: no credential, no PingOne token (the link carries
 * its own signature, and the token must never leave PingOne's API host). Returns 403s to the caller,
 * which fetches fresh links; retries 429/5xx/dropped connections.
 */
export async function downloadFile(
	this: IExecuteFunctions,
	url: string,
	itemIndex: number,
	maxBytes: number,
): Promise<DownloadResult> {
	const signal = cancelSignal(this);
	const what = 'Download report file';
	const result = await withRetries(
		this,
		what,
		async () => {
			const response = (await this.helpers.httpRequest({
				method: 'GET',
				url,
				encoding: 'stream',
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
				abortSignal: signal,
				timeout: REQUEST_TIMEOUT_MS,
			})) as { statusCode: number; headers: Record<string, unknown>; body: AsyncIterable<Buffer> };
			let body: Buffer;
			try {
				body = await readBody(response.body, Number(response.headers['content-length']), maxBytes);
			} catch (error) {
				if (error instanceof DownloadTooLargeError) {
					throw new NodeOperationError(this.getNode(), `${what}: ${error.message}`, {
						itemIndex,
						description: 'Raise the Max Unzipped Size option if the report is really that large.',
					});
				}
				// A broken or silent body goes to withRetries, which reads its code and retries it.
				// eslint-disable-next-line @n8n/community-nodes/require-node-api-error
				throw error;
			}
			if (response.statusCode === 429 || response.statusCode >= 500) {
				// Let withRetries decide; shaped like an HTTP client error.
				throw { response: { status: response.statusCode, headers: response.headers, data: body } };
			}
			return { status: response.statusCode, body };
		},
		(failure) => {
			if (failure.status === undefined) {
				return new NodeOperationError(
					this.getNode(),
					`${what}: the download host could not be reached (${failure.networkCode ?? failure.networkMessage ?? 'network error'})`,
					{ itemIndex },
				);
			}
			const body = Buffer.isBuffer(failure.data) ? failure.data : Buffer.alloc(0);
			return new NodeApiError(this.getNode(), { message: `HTTP ${failure.status}` } as JsonObject, {
				message: `${what}: the download host answered ${failure.status}${describeS3Error(body) ? ` (${describeS3Error(body)})` : ''}`,
				httpCode: String(failure.status),
				itemIndex,
			});
		},
	);
	if (result.status >= 300) {
		return { ...result, errorText: describeS3Error(result.body) };
	}
	return result;
}
