// A loopback PingOne simulator: token endpoint, data-exploration ("report") API and an S3-like
// download host for the encrypted report zips. Test infrastructure only (plain HTTP, 127.0.0.1).
//
// Behaviour follows docs/reference/pingone-reports-api.md and the documented polling
// response: see test/simulator/README.md for the details and the deliberate simplifications.
import http from 'node:http';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
	DEFAULT_FIELDS,
	DEVICES_TEMPLATE_ID,
	DEVICES_TEMPLATE_NAME,
	FilterSyntaxError,
	csvChunks,
	isKnownField,
	jsonChunks,
	parseFilter,
	reportRowBatches,
	type FieldName,
	type FilterNode,
	type ReportShape,
} from './data';
import { makeEncryptedZip, type ZipEncryption } from './zip';

export { DEVICES_TEMPLATE_ID, DEVICES_TEMPLATE_NAME, KNOWN_FIELDS, DEFAULT_FIELDS } from './data';

/** Faults to inject; the object is live (`sim.faults`), so a test may change it between calls. */
export interface SimulatorFaults {
	/** SUCCESS bodies carry a zipPassword that does not open the zip. */
	wrongZipPassword?: boolean;
	/** The next N downloads have one byte in the middle of the zip flipped. */
	corruptDownloads?: number;
	/** The next N download requests answer 403 AccessDenied "Request has expired". */
	expireDownloads?: number;
	/** The next `count` matching requests answer 429 REQUEST_LIMITED with a Retry-After header. */
	tooManyRequests?: StatusFault;
	/** The next `count` matching requests answer 503 UNEXPECTED_ERROR with a Retry-After header. */
	unavailable?: StatusFault;
	/** The next `count` matching requests get their socket destroyed without any answer (logged as status 0). */
	dropConnections?: RequestFault;
	/** The next `count` matching requests are answered only after `delayMs`. */
	slowResponses?: RequestFault & { delayMs: number };
	/** The next N GETs of a report that is still in progress answer IN_PROGRESS without counting as a poll. */
	slowPolls?: number;
}

/**
 * Which requests a fault hits: `api` any /v1 path (default), `create` POST …/dataExplorations,
 * `get` GET …/dataExplorations/{id}, `entries` GET …/entries, `download` the S3-like host,
 * `token` the token endpoint, `any` every request.
 */
export type FaultTarget = 'api' | 'create' | 'get' | 'entries' | 'download' | 'token' | 'any';

export interface RequestFault {
	/** How many of the next matching requests get the fault; counts down to 0. */
	count: number;
	on?: FaultTarget;
}

export interface StatusFault extends RequestFault {
	/** Retry-After in seconds (default 1); omitted from the answer when null. */
	retryAfter?: number | null;
	/** `seconds` (default) or `http-date` (an IMF-fixdate that many seconds ahead, rounded up). */
	retryAfterAs?: 'seconds' | 'http-date';
}

export interface SimulatorClient {
	clientId: string;
	clientSecret: string;
	/** CLIENT_SECRET_BASIC (default) or CLIENT_SECRET_POST */
	authMethod?: 'basic' | 'post';
}

export interface SimulatorOptions {
	port?: number; // default 0 (any free port)
	host?: string; // default '127.0.0.1'
	environmentId?: string; // default DEFAULT_ENVIRONMENT_ID
	/** static bearer tokens that never expire; default ['sim-static-token'] */
	accessTokens?: string[];
	/** worker apps for client_credentials; default [{ clientId: 'sim-client', clientSecret: 'sim-secret', authMethod: 'basic' }] */
	clients?: SimulatorClient[];
	/** client ids whose tokens get 403 INSUFFICIENT_PERMISSIONS on every API call */
	deniedClients?: string[];
	tokenLifetimeSeconds?: number; // default 3600
	pollsBeforeSuccess?: number; // GETs answering IN_PROGRESS before the final status, default 2
	/** status reported once polling is done; default 'SUCCESS' (anything else: no files) */
	finalStatus?: string;
	linkTtlSeconds?: number; // default 300
	reportTtlSeconds?: number; // report objects live this long (expiresAt), default 1800
	rows?: number; // device rows in the environment (before any filter), default 25
	zipEncryption?: ZipEncryption; // default 'aes256'
	seed?: number; // default 1
	/** one create per createRateLimitSeconds per environment (429 REQUEST_LIMITED); default true */
	createRateLimit?: boolean;
	createRateLimitSeconds?: number; // default 5
	faults?: SimulatorFaults;
	/** called with every log entry as it is recorded (the CLI writes them to a file) */
	onLog?: (entry: RequestLogEntry) => void;
}

export interface RequestLogEntry {
	at: string;
	method: string;
	path: string; // never the query string
	status: number;
	authorization: 'none' | 'bearer' | 'basic' | 'other';
	kind: 'api' | 'token' | 'download';
	/** set when the answer was an injected fault (see SimulatorFaults) */
	fault?: 'tooManyRequests' | 'unavailable' | 'dropConnection' | 'slowResponse' | 'slowPoll' | 'expiredLink' | 'corruptDownload';
}

export interface Simulator {
	baseUrl: string;
	apiUrl: string; // baseUrl + '/v1'
	authUrl: string; // baseUrl + '/auth'; token endpoint = authUrl/{env}/as/token
	environmentId: string;
	log: RequestLogEntry[];
	/** the live fault settings (see SimulatorFaults) */
	faults: SimulatorFaults;
	/** the plaintext rows of that report, values exactly as they appear in the CSV */
	expectedRows(reportId: string): Record<string, string>[];
	plaintext(reportId: string, format: 'csv' | 'json'): Buffer;
	/** every secret handed out or accepted so far: access tokens, client secrets, zip passwords, link signatures and STS token */
	issuedSecrets(): string[];
	close(): Promise<void>;
}

export const DEFAULT_ENVIRONMENT_ID = '5f0c1e2a-9b3d-4c8e-a7f6-2d4b6e8a0c13';
export const DEFAULT_ACCESS_TOKEN = 'sim-static-token';
export const DEFAULT_CLIENT: Required<SimulatorClient> = { clientId: 'sim-client', clientSecret: 'sim-secret', authMethod: 'basic' };

type Format = 'csv' | 'json';

interface Report {
	id: string;
	fileId: string;
	createdAt: number;
	updatedAt: number;
	expiresAt: number;
	fields: FieldName[];
	filterText?: string;
	filter?: FilterNode;
	deliverAs: 'ASYNC_FILE' | 'ENTRIES';
	sync: boolean;
	zipPassword: string;
	polls: number;
	done: boolean;
	entriesCache?: Record<string, string>[];
}

interface IssuedLink {
	reportId: string;
	format: Format;
	fileName: string;
	issuedAt: number;
	ttlSeconds: number;
	amzDate: string;
}

interface TokenInfo {
	clientId?: string;
	expiresAt?: number; // undefined: static token
}

class HttpError extends Error {
	constructor(
		readonly status: number,
		readonly body: unknown,
		readonly headers: Record<string, string> = {},
	) {
		super(`HTTP ${status}`);
	}
}

const MSG = {
	ACCESS_FAILED: 'The request could not be completed. You do not have access to this resource.',
	NOT_FOUND: 'The request could not be completed. The requested resource was not found.',
	INVALID_DATA: 'The request could not be completed. One or more validation errors were in the request.',
	INVALID_REQUEST: 'The request could not be completed. The request was malformed or invalid.',
	REQUEST_LIMITED: 'The request could not be completed. Request limits have been exceeded.',
	UNEXPECTED_ERROR: 'The request could not be completed. An unexpected error occurred.',
} as const;

interface Detail {
	code: string;
	target?: string;
	message: string;
	innerError?: Record<string, unknown>;
	retryAfter?: number;
}

function p1(status: number, code: keyof typeof MSG, details?: Detail[], headers?: Record<string, string>): HttpError {
	const body: Record<string, unknown> = { id: randomUUID(), code, message: MSG[code] };
	if (details) body.details = details;
	return new HttpError(status, body, headers);
}
const notFound = (): HttpError => p1(404, 'NOT_FOUND');
const invalidData = (target: string, message: string, code = 'INVALID_VALUE', innerError?: Record<string, unknown>): HttpError =>
	p1(400, 'INVALID_DATA', [{ code, target, message, ...(innerError ? { innerError } : {}) }]);

function xmlEscape(s: string): string {
	return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}
function s3Error(status: number, code: string, message: string, extra: Record<string, string> = {}): HttpError {
	const parts = Object.entries(extra).map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`).join('');
	const xml =
		'<?xml version="1.0" encoding="UTF-8"?>\n' +
		`<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>${parts}` +
		`<RequestId>${randomBytes(8).toString('hex').toUpperCase()}</RequestId><HostId>${randomBytes(32).toString('base64')}</HostId></Error>`;
	return new HttpError(status, Buffer.from(xml, 'utf8'), { 'content-type': 'application/xml' });
}

function amzDate(ms: number): string {
	return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''); // yyyyMMddTHHmmssZ
}

function randomPassword(): string {
	let s = '';
	for (let i = 0; i < 10; i++) s += String.fromCharCode(97 + randomInt(26));
	return s;
}

function authKind(h: string | undefined): RequestLogEntry['authorization'] {
	if (h === undefined) return 'none';
	if (/^bearer\s/i.test(h)) return 'bearer';
	if (/^basic\s/i.test(h)) return 'basic';
	return 'other';
}

async function readBody(req: http.IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req) {
		size += (chunk as Buffer).length;
		if (size > limit) throw p1(400, 'INVALID_REQUEST', [{ code: 'INVALID_VALUE', message: 'Request body too large.' }]);
		chunks.push(chunk as Buffer);
	}
	return Buffer.concat(chunks);
}

function safeDecode(s: string): string {
	try {
		return decodeURIComponent(s.replace(/\+/g, ' '));
	} catch {
		return s;
	}
}

/** A fake STS token with characters that must stay percent-encoded (%2F %2B %3D) in the link. */
const FAKE_SECURITY_TOKEN = 'SimulatedSessionToken/for+tests+only/AbCdEfGh==';
const FAKE_CREDENTIAL_KEY = 'ASIASIMULATOR0000000';

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
	const host = options.host ?? '127.0.0.1';
	const environmentId = options.environmentId ?? DEFAULT_ENVIRONMENT_ID;
	const staticTokens = options.accessTokens ?? [DEFAULT_ACCESS_TOKEN];
	const clients = (options.clients ?? [DEFAULT_CLIENT]).map((c) => ({ ...c, authMethod: c.authMethod ?? 'basic' }));
	const denied = new Set(options.deniedClients ?? []);
	const tokenLifetime = options.tokenLifetimeSeconds ?? 3600;
	const pollsBeforeSuccess = options.pollsBeforeSuccess ?? 2;
	const finalStatus = options.finalStatus ?? 'SUCCESS';
	const linkTtl = options.linkTtlSeconds ?? 300;
	const reportTtl = options.reportTtlSeconds ?? 1800;
	const population = options.rows ?? 25;
	const encryption: ZipEncryption = options.zipEncryption ?? 'aes256';
	const seed = options.seed ?? 1;
	const rateLimitOn = options.createRateLimit ?? true;
	const rateLimitMs = (options.createRateLimitSeconds ?? 5) * 1000;
	const faults: SimulatorFaults = options.faults ?? {};

	const tokens = new Map<string, TokenInfo>();
	for (const t of staticTokens) tokens.set(t, {});
	const reports = new Map<string, Report>();
	const links = new Map<string, IssuedLink>(); // by signature
	const zips = new Map<string, Promise<string>>(); // `${reportId}.${format}` → zip path
	let lastCreateAt: number | undefined;
	const tmpRoot = await mkdtemp(join(tmpdir(), 'pingone-sim-'));
	const log: RequestLogEntry[] = [];
	/** the injected fault a request got, for its log entry */
	const requestFaults = new WeakMap<http.IncomingMessage, NonNullable<RequestLogEntry['fault']>>();

	let baseUrl = '';
	let apiUrl = '';
	let authUrl = '';

	const shapeOf = (r: Report): ReportShape => ({ seed, population, fields: r.fields, filter: r.filter });
	const allRows = (r: Report): Record<string, string>[] => {
		const out: Record<string, string>[] = [];
		for (const batch of reportRowBatches(shapeOf(r))) out.push(...batch);
		return out;
	};
	const fileName = (r: Report, f: Format): string => `devices-report-${environmentId}-${r.fileId}.${f}.zip`;

	function zipFor(r: Report, f: Format): Promise<string> {
		const key = `${r.id}.${f}`;
		let p = zips.get(key);
		if (!p) {
			const workDir = join(tmpRoot, r.id);
			const zipPath = join(workDir, fileName(r, f));
			p = makeEncryptedZip({
				workDir,
				entryName: `devices-report.${f}`,
				chunks: f === 'csv' ? csvChunks(shapeOf(r)) : jsonChunks(shapeOf(r)),
				password: r.zipPassword,
				encryption,
				zipPath,
			}).then(() => zipPath);
			p.catch(() => zips.delete(key)); // let a later request retry
			zips.set(key, p);
		}
		return p;
	}

	// ------------------------------------------------------------------ auth

	function bearer(req: http.IncomingMessage): TokenInfo {
		const h = req.headers.authorization;
		const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
		const info = m ? tokens.get(m[1]) : undefined;
		if (!info) throw p1(401, 'ACCESS_FAILED', undefined, { 'www-authenticate': 'Bearer' });
		if (info.expiresAt !== undefined && Date.now() >= info.expiresAt) {
			tokens.delete(m![1]);
			throw p1(401, 'ACCESS_FAILED', undefined, { 'www-authenticate': 'Bearer error="invalid_token"' });
		}
		if (info.clientId !== undefined && denied.has(info.clientId)) {
			throw p1(403, 'ACCESS_FAILED', [
				{ code: 'INSUFFICIENT_PERMISSIONS', message: 'The actor attempting to perform the request is not authorized.' },
			]);
		}
		return info;
	}

	function requireEnv(env: string): void {
		if (env !== environmentId) throw notFound();
	}

	// ------------------------------------------------------------------ token endpoint

	async function tokenEndpoint(req: http.IncomingMessage, env: string): Promise<[number, unknown, Record<string, string>?]> {
		if (env !== environmentId) throw notFound();
		if (req.method !== 'POST') throw notFound();
		const oauth = (status: number, error: string, description: string): HttpError =>
			new HttpError(status, { error, error_description: description }, { 'cache-control': 'no-store' });
		const ctype = req.headers['content-type'] ?? '';
		const raw = (await readBody(req)).toString('utf8');
		if (!/^application\/x-www-form-urlencoded/i.test(ctype)) {
			throw oauth(400, 'invalid_request', 'The request must be application/x-www-form-urlencoded.');
		}
		const form = new URLSearchParams(raw);
		let id: string | undefined;
		let secret: string | undefined;
		let method: 'basic' | 'post' | undefined;
		const h = req.headers.authorization;
		if (h && /^basic\s/i.test(h)) {
			const decoded = Buffer.from(h.replace(/^basic\s+/i, '').trim(), 'base64').toString('utf8');
			const colon = decoded.indexOf(':');
			if (colon < 0) throw oauth(401, 'invalid_client', 'Malformed HTTP Basic client authentication.');
			id = decoded.slice(0, colon);
			secret = decoded.slice(colon + 1);
			method = 'basic';
			if (form.has('client_secret')) throw oauth(400, 'invalid_request', 'Only one client authentication method may be used.');
		} else if (h) {
			throw oauth(401, 'invalid_client', 'Unsupported client authentication.');
		} else if (form.has('client_id')) {
			id = form.get('client_id') ?? undefined;
			secret = form.get('client_secret') ?? undefined;
			method = 'post';
		}
		const grant = form.get('grant_type');
		if (!grant) throw oauth(400, 'invalid_request', 'The grant_type parameter is required.');
		if (grant !== 'client_credentials') throw oauth(400, 'unsupported_grant_type', 'Only client_credentials is supported here.');
		if (id === undefined) throw oauth(401, 'invalid_client', 'Client authentication is required.');
		const client = clients.find((c) => c.clientId === id || (method === 'basic' && c.clientId === safeDecode(id!)));
		const secretOk =
			client !== undefined &&
			secret !== undefined &&
			(secret === client.clientSecret || (method === 'basic' && safeDecode(secret) === client.clientSecret));
		if (!client || !secretOk) throw oauth(401, 'invalid_client', 'Request denied: Invalid client credentials.');
		if (client.authMethod !== method) {
			throw oauth(401, 'invalid_client', `Request denied: Unsupported authentication method (the application expects CLIENT_SECRET_${client.authMethod.toUpperCase()}).`);
		}
		const token = `sim_${randomBytes(24).toString('base64url')}`;
		tokens.set(token, { clientId: client.clientId, expiresAt: Date.now() + tokenLifetime * 1000 });
		return [200, { access_token: token, token_type: 'Bearer', expires_in: tokenLifetime }, { 'cache-control': 'no-store', pragma: 'no-cache' }];
	}

	// ------------------------------------------------------------------ reports

	function reportLinks(r: Report): Record<string, { href: string }> {
		const envHref = `${apiUrl}/environments/${environmentId}`;
		return {
			self: { href: `${envHref}/dataExplorations/${r.id}` },
			environment: { href: envHref },
			dataExplorationTemplate: { href: `${envHref}/dataExplorationTemplates/${DEVICES_TEMPLATE_ID}` },
		};
	}

	function issueLink(r: Report, f: Format, now: number): string {
		const signature = randomBytes(32).toString('hex');
		const date = amzDate(now);
		const name = fileName(r, f);
		links.set(signature, { reportId: r.id, format: f, fileName: name, issuedAt: now, ttlSeconds: linkTtl, amzDate: date });
		const q = new URLSearchParams({
			'X-Amz-Security-Token': FAKE_SECURITY_TOKEN,
			'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
			'X-Amz-Date': date,
			'X-Amz-SignedHeaders': 'host',
			'X-Amz-Expires': String(linkTtl),
			'X-Amz-Credential': `${FAKE_CREDENTIAL_KEY}/${date.slice(0, 8)}/us-east-1/s3/aws4_request`,
			'X-Amz-Signature': signature,
		});
		return `${baseUrl}/s3/${name}?${q.toString()}`;
	}

	function reportBody(r: Report, status: string, now: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
		const body: Record<string, unknown> = {
			_links: reportLinks(r),
			id: r.id,
			environment: { id: environmentId },
			createdAt: new Date(r.createdAt).toISOString(),
			updatedAt: new Date(r.updatedAt).toISOString(),
			expiresAt: new Date(r.expiresAt).toISOString(),
			fields: r.fields.map((name) => ({ name })),
			...(r.filterText !== undefined ? { filter: r.filterText } : {}),
			orderBy: [],
			status,
			deliverAs: r.deliverAs,
		};
		if (status === 'SUCCESS' && r.deliverAs === 'ASYNC_FILE') {
			body.zipPassword = faults.wrongZipPassword
				? r.zipPassword === 'wrongwrong' ? 'stillwrong' : 'wrongwrong'
				: r.zipPassword;
			body.csvPresignedUrl = issueLink(r, 'csv', now);
			body.jsonPresignedUrl = issueLink(r, 'json', now);
		}
		body.sync = r.sync;
		body.dataExplorationTemplate = { id: DEVICES_TEMPLATE_ID, name: DEVICES_TEMPLATE_NAME };
		return { ...body, ...extra };
	}

	function validateCreate(raw: unknown): Pick<Report, 'fields' | 'filterText' | 'filter' | 'deliverAs' | 'sync'> {
		if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
			throw p1(400, 'INVALID_REQUEST', [{ code: 'INVALID_VALUE', message: 'The request body must be a JSON object.' }]);
		}
		const b = raw as Record<string, unknown>;
		const tpl = b.dataExplorationTemplate as Record<string, unknown> | undefined;
		if (tpl === undefined || tpl === null || typeof tpl !== 'object' || tpl.id === undefined || tpl.id === null || tpl.id === '') {
			throw invalidData('dataExplorationTemplate.id', 'dataExplorationTemplate.id is required.', 'REQUIRED_VALUE');
		}
		if (tpl.id !== DEVICES_TEMPLATE_ID) {
			throw invalidData('dataExplorationTemplate.id', 'The data exploration template does not exist.');
		}
		let deliverAs: Report['deliverAs'] = 'ENTRIES';
		if (b.deliverAs !== undefined) {
			if (b.deliverAs !== 'ASYNC_FILE' && b.deliverAs !== 'ENTRIES') {
				throw invalidData('deliverAs', 'deliverAs must be one of ASYNC_FILE, ENTRIES.', 'INVALID_VALUE', {
					allowedValues: ['ASYNC_FILE', 'ENTRIES'],
				});
			}
			deliverAs = b.deliverAs;
		}
		let fields: FieldName[] = [...DEFAULT_FIELDS];
		if (b.fields !== undefined) {
			if (!Array.isArray(b.fields) || b.fields.length === 0) throw invalidData('fields', 'fields must be a non-empty array of {"name": ...}.');
			fields = b.fields.map((f, i) => {
				const name = (f as Record<string, unknown> | null)?.name;
				if (typeof name !== 'string' || name === '') throw invalidData(`fields[${i}].name`, 'A field name is required.', 'REQUIRED_VALUE');
				if (!isKnownField(name)) throw invalidData(`fields[${i}].name`, `Unknown field '${name}' for this template.`);
				return name;
			});
			if (new Set(fields).size !== fields.length) throw invalidData('fields', 'Field names must be unique.');
		}
		let filterText: string | undefined;
		let filter: FilterNode | undefined;
		if (b.filter !== undefined && b.filter !== null) {
			if (typeof b.filter !== 'string') throw invalidData('filter', 'filter must be a string.');
			filterText = b.filter;
			if (filterText.trim() !== '') {
				try {
					filter = parseFilter(filterText);
				} catch (e) {
					if (e instanceof FilterSyntaxError) throw invalidData('filter', `Invalid filter: ${e.message}.`);
					throw e;
				}
			}
		}
		let sync = false;
		if (b.sync !== undefined) {
			if (b.sync === 'true' || b.sync === true) sync = true;
			else if (b.sync === 'false' || b.sync === false) sync = false;
			else throw invalidData('sync', 'sync must be "true" or "false".');
		}
		return { fields, filterText, filter, deliverAs, sync };
	}

	function getReport(id: string, now: number): Report {
		const r = reports.get(id);
		if (!r) throw notFound();
		if (now >= r.expiresAt) throw notFound(); // kept for its files (S3 keeps them ~2 h)
		return r;
	}

	function parseLimit(url: URL): number {
		const raw = url.searchParams.get('limit');
		if (raw === null) return 100;
		const n = Number(raw);
		if (!Number.isInteger(n) || n < 1 || n > 1000) {
			throw p1(400, 'INVALID_DATA', [{ code: 'INVALID_VALUE', target: 'limit', message: 'limit must be an integer from 1 to 1000.' }]);
		}
		return n;
	}

	function entriesPage(r: Report, offset: number, limit: number): Record<string, unknown> {
		r.entriesCache ??= allRows(r);
		const all = r.entriesCache;
		const page = all.slice(offset, offset + limit);
		const base = `${apiUrl}/environments/${environmentId}/dataExplorations/${r.id}/entries`;
		const links: Record<string, { href: string }> = { self: { href: `${base}?${new URLSearchParams({ limit: String(limit), ...(offset ? { cursor: encodeCursor(r.id, offset) } : {}) })}` } };
		if (offset + limit < all.length) {
			links.next = { href: `${base}?${new URLSearchParams({ limit: String(limit), cursor: encodeCursor(r.id, offset + limit) })}` };
		}
		return { _links: links, _embedded: { entries: page }, count: all.length, size: page.length };
	}
	const encodeCursor = (id: string, offset: number): string => Buffer.from(JSON.stringify({ r: id, o: offset })).toString('base64url');
	function decodeCursor(id: string, cursor: string | null): number {
		if (cursor === null) return 0;
		try {
			const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { r?: unknown; o?: unknown };
			if (c.r === id && typeof c.o === 'number' && Number.isInteger(c.o) && c.o >= 0) return c.o;
		} catch {
			/* fall through */
		}
		throw p1(400, 'INVALID_DATA', [{ code: 'INVALID_VALUE', target: 'cursor', message: 'The cursor is not valid.' }]);
	}

	async function createReport(req: http.IncomingMessage, url: URL): Promise<[number, unknown, Record<string, string>?]> {
		const now = Date.now();
		if (rateLimitOn && lastCreateAt !== undefined && now - lastCreateAt < rateLimitMs) {
			const retryAfter = Math.max(1, Math.ceil((lastCreateAt + rateLimitMs - now) / 1000));
			throw p1(
				429,
				'REQUEST_LIMITED',
				[{ code: 'REQUEST_LIMITED', message: `At most one report may be created every ${rateLimitMs / 1000} seconds per environment.`, retryAfter }],
				{ 'retry-after': String(retryAfter) },
			);
		}
		const text = (await readBody(req)).toString('utf8');
		let parsed: unknown;
		try {
			parsed = JSON.parse(text);
		} catch {
			throw p1(400, 'INVALID_REQUEST', [{ code: 'INVALID_VALUE', message: 'The request body is not valid JSON.' }]);
		}
		const v = validateCreate(parsed);
		const expandEntries = (url.searchParams.get('expand') ?? '').split(',').includes('entries');
		if (expandEntries && !v.sync) {
			throw p1(400, 'INVALID_REQUEST', [{ code: 'INVALID_VALUE', target: 'sync', message: 'expand=entries requires "sync": "true".' }]);
		}
		if (expandEntries && v.deliverAs !== 'ENTRIES') {
			throw p1(400, 'INVALID_REQUEST', [{ code: 'INVALID_VALUE', target: 'deliverAs', message: 'expand=entries requires deliverAs ENTRIES.' }]);
		}
		const limit = expandEntries ? parseLimit(url) : 0;
		lastCreateAt = now;
		const r: Report = {
			id: randomUUID(),
			fileId: randomUUID(),
			createdAt: now,
			updatedAt: now,
			expiresAt: now + reportTtl * 1000,
			...v,
			zipPassword: randomPassword(),
			polls: 0,
			done: v.sync,
		};
		reports.set(r.id, r);
		const status = r.done ? finalStatus : 'IN_PROGRESS';
		const extra: Record<string, unknown> = {};
		if (expandEntries && status === 'SUCCESS') {
			const page = entriesPage(r, 0, limit);
			extra._embedded = page._embedded;
			const next = (page._links as Record<string, unknown>).next;
			if (next) extra._links = { ...reportLinks(r), next };
		}
		return [201, reportBody(r, status, now, extra)];
	}

	function readReport(id: string, req?: http.IncomingMessage): [number, unknown] {
		const now = Date.now();
		const r = getReport(id, now);
		if (!r.done && (faults.slowPolls ?? 0) > 0) {
			faults.slowPolls = (faults.slowPolls ?? 0) - 1;
			if (req) requestFaults.set(req, 'slowPoll');
			return [200, reportBody(r, 'IN_PROGRESS', now)];
		}
		if (!r.done) {
			r.polls++;
			if (r.polls > pollsBeforeSuccess) {
				r.done = true;
				r.updatedAt = now;
			}
		}
		return [200, reportBody(r, r.done ? finalStatus : 'IN_PROGRESS', now)];
	}

	function readEntries(id: string, url: URL): [number, unknown] {
		const r = getReport(id, Date.now());
		if (r.deliverAs !== 'ENTRIES') {
			throw p1(400, 'INVALID_REQUEST', [{ code: 'INVALID_VALUE', target: 'deliverAs', message: 'Entries are only available for reports delivered as ENTRIES.' }]);
		}
		if (!r.done || finalStatus !== 'SUCCESS') {
			throw p1(400, 'INVALID_REQUEST', [{ code: 'INVALID_VALUE', message: 'The report is not ready (status is not SUCCESS).' }]);
		}
		const limit = parseLimit(url);
		const offset = decodeCursor(r.id, url.searchParams.get('cursor'));
		return [200, entriesPage(r, offset, limit)];
	}

	// ------------------------------------------------------------------ downloads

	async function download(req: http.IncomingMessage, res: http.ServerResponse, name: string, url: URL): Promise<void> {
		if (req.method !== 'GET' && req.method !== 'HEAD') throw s3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
		if (req.headers.authorization !== undefined) {
			throw s3Error(
				400,
				'InvalidArgument',
				'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
				{ ArgumentName: 'Authorization', ArgumentValue: '(redacted by the simulator)' },
			);
		}
		const sig = url.searchParams.get('X-Amz-Signature');
		if (!url.searchParams.get('X-Amz-Algorithm') || !sig) throw s3Error(403, 'AccessDenied', 'Access Denied');
		const link = links.get(sig);
		const sent = (k: string): string | null => url.searchParams.get(k);
		if (
			!link ||
			link.fileName !== name ||
			sent('X-Amz-Date') !== link.amzDate ||
			sent('X-Amz-Expires') !== String(link.ttlSeconds) ||
			sent('X-Amz-Security-Token') !== FAKE_SECURITY_TOKEN ||
			sent('X-Amz-Credential') !== `${FAKE_CREDENTIAL_KEY}/${link.amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`
		) {
			throw s3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
		}
		const now = Date.now();
		const expiresMs = link.issuedAt + link.ttlSeconds * 1000;
		const injectedExpiry = (faults.expireDownloads ?? 0) > 0;
		if (injectedExpiry) {
			faults.expireDownloads = (faults.expireDownloads ?? 0) - 1;
			requestFaults.set(req, 'expiredLink');
		}
		if (now > expiresMs || injectedExpiry) {
			throw s3Error(403, 'AccessDenied', 'Request has expired', {
				'X-Amz-Expires': String(link.ttlSeconds),
				Expires: new Date(expiresMs).toISOString().replace(/\.\d{3}/, ''),
				ServerTime: new Date(now).toISOString().replace(/\.\d{3}/, ''),
			});
		}
		const r = reports.get(link.reportId);
		if (!r) throw s3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: name });
		const path = await zipFor(r, link.format);
		const st = await stat(path);
		res.writeHead(200, {
			'content-type': 'application/zip',
			'content-length': String(st.size),
			'last-modified': st.mtime.toUTCString(),
			etag: `"${r.fileId.replace(/-/g, '')}${link.format === 'csv' ? '0' : '1'}"`,
			'accept-ranges': 'bytes',
			server: 'AmazonS3',
			'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(),
		});
		if (req.method === 'HEAD') {
			res.end();
			return;
		}
		if ((faults.corruptDownloads ?? 0) > 0) {
			faults.corruptDownloads = (faults.corruptDownloads ?? 0) - 1;
			requestFaults.set(req, 'corruptDownload');
			const bytes = await readFile(path);
			bytes[Math.floor(bytes.length / 2)] ^= 0x5a;
			res.end(bytes);
			return;
		}
		await new Promise<void>((resolve, reject) => {
			const stream = createReadStream(path);
			stream.on('error', reject);
			res.on('close', resolve);
			stream.pipe(res);
		});
	}

	// ------------------------------------------------------------------ injected faults

	function faultMatches(target: FaultTarget | undefined, req: http.IncomingMessage, url: URL, kind: RequestLogEntry['kind']): boolean {
		const t = target ?? 'api';
		if (t === 'any') return true;
		if (t === 'api' || t === 'download' || t === 'token') return kind === t;
		const parts = url.pathname.split('/').filter((p) => p !== '');
		if (kind !== 'api' || parts[1] !== 'environments' || parts[3] !== 'dataExplorations') return false;
		if (t === 'create') return parts.length === 4 && req.method === 'POST';
		if (t === 'get') return parts.length === 5 && req.method === 'GET';
		return parts.length === 6 && parts[5] === 'entries'; // 'entries'
	}

	function takeFault(f: RequestFault | undefined, req: http.IncomingMessage, url: URL, kind: RequestLogEntry['kind']): boolean {
		if (!f || !(f.count > 0) || !faultMatches(f.on, req, url, kind)) return false;
		f.count--;
		return true;
	}

	function retryAfterHeader(f: StatusFault): Record<string, string> {
		if (f.retryAfter === null) return {};
		const seconds = f.retryAfter ?? 1;
		if (f.retryAfterAs === 'http-date') {
			return { 'retry-after': new Date(Math.ceil((Date.now() + seconds * 1000) / 1000) * 1000).toUTCString() };
		}
		return { 'retry-after': String(seconds) };
	}

	/** Applies the live faults to one request: true when it was answered (or dropped) here. */
	async function injectFault(req: http.IncomingMessage, res: http.ServerResponse, url: URL, kind: RequestLogEntry['kind']): Promise<boolean> {
		if (takeFault(faults.dropConnections, req, url, kind)) {
			requestFaults.set(req, 'dropConnection');
			req.socket.destroy();
			return true;
		}
		if (takeFault(faults.slowResponses, req, url, kind)) {
			requestFaults.set(req, 'slowResponse');
			await new Promise((r) => setTimeout(r, faults.slowResponses?.delayMs ?? 0));
		}
		const tooMany = faults.tooManyRequests;
		if (takeFault(tooMany, req, url, kind)) {
			requestFaults.set(req, 'tooManyRequests');
			const headers = retryAfterHeader(tooMany!);
			if (kind === 'download') {
				const e = s3Error(429, 'SlowDown', 'Please reduce your request rate.');
				Object.assign(e.headers, headers);
				throw e;
			}
			const seconds = tooMany!.retryAfter ?? 1;
			throw p1(429, 'REQUEST_LIMITED', [{ code: 'REQUEST_LIMITED', message: 'Request limits have been exceeded (injected by the simulator).', ...(seconds === null ? {} : { retryAfter: seconds }) }], headers);
		}
		const unavailable = faults.unavailable;
		if (takeFault(unavailable, req, url, kind)) {
			requestFaults.set(req, 'unavailable');
			const headers = retryAfterHeader(unavailable!);
			if (kind === 'download') {
				const e = s3Error(503, 'SlowDown', 'Please reduce your request rate.');
				Object.assign(e.headers, headers);
				throw e;
			}
			throw p1(503, 'UNEXPECTED_ERROR', undefined, headers);
		}
		return false;
	}

	// ------------------------------------------------------------------ router

	async function route(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<[number, unknown, Record<string, string>?] | undefined> {
		const parts = url.pathname.split('/').filter((p) => p !== '');
		const method = req.method ?? 'GET';
		if (parts[0] === 's3' && parts.length === 2) {
			await download(req, res, parts[1], url);
			return undefined;
		}
		if (parts[0] === 'auth' && parts.length === 4 && parts[2] === 'as' && parts[3] === 'token') {
			return tokenEndpoint(req, parts[1]);
		}
		if (parts[0] === 'v1' && parts[1] === 'environments' && parts.length >= 3) {
			bearer(req);
			requireEnv(parts[2]);
			if (parts.length === 3 && method === 'GET') return [200, { _links: { self: { href: `${apiUrl}/environments/${environmentId}` } }, id: environmentId, name: 'Simulated environment', type: 'SANDBOX' }];
			if (parts[3] === 'dataExplorations') {
				if (parts.length === 4 && method === 'POST') return createReport(req, url);
				if (parts.length === 5 && method === 'GET') return readReport(parts[4], req);
				if (parts.length === 6 && parts[5] === 'entries' && method === 'GET') return readEntries(parts[4], url);
			}
		}
		throw notFound();
	}

	const server = http.createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://simulator.invalid');
		const kind: RequestLogEntry['kind'] = url.pathname.startsWith('/s3/') ? 'download' : url.pathname.startsWith('/auth/') ? 'token' : 'api';
		const entry: Omit<RequestLogEntry, 'status'> = {
			at: new Date().toISOString(),
			method: req.method ?? '',
			path: url.pathname,
			authorization: authKind(req.headers.authorization),
			kind,
		};
		let logged = false;
		const record = (): void => {
			if (logged) return;
			logged = true;
			const fault = requestFaults.get(req);
			const e: RequestLogEntry = { ...entry, status: fault === 'dropConnection' ? 0 : res.statusCode, ...(fault ? { fault } : {}) };
			log.push(e);
			options.onLog?.(e);
		};
		res.on('finish', record);
		res.on('close', record);
		injectFault(req, res, url, kind)
			.then(async (answered) => (answered ? undefined : await route(req, res, url)))
			.then((result) => {
				if (result) send(res, result[0], result[1], result[2]);
			})
			.catch((err: unknown) => {
				if (res.headersSent) {
					res.destroy();
					return;
				}
				if (err instanceof HttpError) send(res, err.status, err.body, err.headers);
				else send(res, 500, { id: randomUUID(), code: 'UNEXPECTED_ERROR', message: MSG.UNEXPECTED_ERROR });
			});
	});

	function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
		const buf = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body), 'utf8');
		res.writeHead(status, {
			'content-type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json',
			...headers,
			'content-length': String(buf.length),
		});
		res.end(res.req.method === 'HEAD' ? undefined : buf);
	}

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 0, host, () => {
			server.off('error', reject);
			resolve();
		});
	});
	const addr = server.address();
	if (addr === null || typeof addr === 'string') throw new Error('simulator: unexpected server address');
	const hostPart = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
	baseUrl = `http://${hostPart}:${addr.port}`;
	apiUrl = `${baseUrl}/v1`;
	authUrl = `${baseUrl}/auth`;

	let closed: Promise<void> | undefined;
	return {
		baseUrl,
		apiUrl,
		authUrl,
		environmentId,
		log,
		faults,
		expectedRows(reportId: string) {
			const r = reports.get(reportId);
			if (!r) throw new Error(`simulator: unknown report ${reportId}`);
			return allRows(r);
		},
		issuedSecrets() {
			const out = new Set<string>([...tokens.keys(), ...clients.map((c) => c.clientSecret), ...links.keys(), FAKE_SECURITY_TOKEN]);
			for (const r of reports.values()) out.add(r.zipPassword);
			return [...out].filter((s) => s.length >= 6);
		},
		plaintext(reportId: string, format: Format) {
			const r = reports.get(reportId);
			if (!r) throw new Error(`simulator: unknown report ${reportId}`);
			const chunks = format === 'csv' ? csvChunks(shapeOf(r)) : jsonChunks(shapeOf(r));
			return Buffer.from([...chunks].join(''), 'utf8');
		},
		close() {
			closed ??= (async () => {
				await new Promise<void>((resolve) => {
					server.close(() => resolve());
					server.closeAllConnections();
				});
				await Promise.allSettled([...zips.values()]);
				await rm(tmpRoot, { recursive: true, force: true });
			})();
			return closed;
		},
	};
}
