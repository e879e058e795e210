/**
 * Getting a PingOne token, checking access to the environment, and the words for every way that
 * fails. Used by the credential's `preAuthentication` (token) and by the node's credential test
 * method `pingOneApiTest` (token + an authorised call on the environment), which n8n runs for the
 * "Test" button because the node's credential entry says `testedBy: 'pingOneApiTest'`.
 *
 * Messages use PingOne's own `code`, `message` and `details`, name the host (never a URL's query
 * or user info) and never contain a secret. They avoid Node's error codes (ECONNREFUSED …):
 * n8n's NodeApiError would replace a message containing one with its own generic sentence.
 */
import type {
	ICredentialDataDecryptedObject,
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	INodeCredentialTestResult,
} from 'n8n-workflow';

import { CredentialSettingsError, resolveHosts, type PingOneHosts } from './lib/regions';

/** The name the node's credential entry gives in `testedBy`. */
export const CREDENTIAL_TEST_NAME = 'pingOneApiTest';

/** A failure of the PingOne API credential; the message says what to change. */
export class PingOneCredentialError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'PingOneCredentialError';
	}
}

export interface SimpleRequest {
	method: 'GET' | 'POST';
	url: string;
	headers: Record<string, string>;
	body?: string;
}

/** Any HTTP status resolves; only network failures throw. */
export interface SimpleResponse {
	statusCode: number;
	body: unknown;
}

export type Send = (request: SimpleRequest) => Promise<SimpleResponse>;

const REQUEST_TIMEOUT_MS = 30_000;

function hostOf(url: string): string {
	try {
		return new URL(url).host;
	} catch {
		return 'the configured host';
	}
}

function parseBody(body: unknown): unknown {
	if (Buffer.isBuffer(body)) body = body.toString('utf8');
	if (body instanceof ArrayBuffer) body = Buffer.from(body).toString('utf8');
	if (typeof body === 'string') {
		try {
			return JSON.parse(body);
		} catch {
			return body;
		}
	}
	return body;
}

function objectOf(body: unknown): Record<string, unknown> {
	const parsed = parseBody(body);
	return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
		? (parsed as Record<string, unknown>)
		: {};
}

/** The text with a full stop, unless it already ends with one. */
const stop = (text: string): string => (/[.!?]$/.test(text) ? text : `${text}.`);

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** PingOne's `code: message (DETAIL_CODE target: detail message; …)`, or undefined if the body is not PingOne's. */
export function describePingOneError(body: unknown): string | undefined {
	const obj = objectOf(body);
	const code = str(obj.code);
	if (!code) return undefined;
	const message = str(obj.message);
	const details = Array.isArray(obj.details) ? (obj.details as Array<Record<string, unknown>>) : [];
	const detailText = details
		.map((d) => {
			const head = [str(d?.code), str(d?.target) ? `(${String(d.target)})` : undefined].filter(Boolean).join(' ');
			const text = str(d?.message);
			return head && text ? `${head}: ${text}` : (head || text || '');
		})
		.filter(Boolean)
		.join('; ');
	return `${code}${message ? `: ${message}` : ''}${detailText ? ` [${detailText}]` : ''}`;
}

/** Plain words for a network failure (no Node error code in the text, see the file comment). */
export function describeNetworkError(error: unknown): string {
	let current = error as Record<string, unknown> | undefined;
	let code: string | undefined;
	for (let depth = 0; current && depth < 6 && !code; depth++) {
		if (typeof current.code === 'string' && /^E[A-Z_]+$|^UND_ERR|CERT|SSL/i.test(current.code)) code = current.code;
		current = current.cause as Record<string, unknown> | undefined;
	}
	const words: Record<string, string> = {
		ECONNREFUSED: 'the connection was refused',
		ENOTFOUND: 'the host name was not found',
		EAI_AGAIN: 'the host name could not be looked up',
		ETIMEDOUT: 'the connection timed out',
		ECONNABORTED: 'the request timed out',
		ECONNRESET: 'the connection was closed',
		EHOSTUNREACH: 'the host is unreachable',
		ENETUNREACH: 'the network is unreachable',
		EPROTO: 'the TLS handshake failed',
	};
	if (code && words[code]) return words[code];
	if (code && /CERT|SSL|TLS/i.test(code)) return 'its TLS certificate was not accepted';
	return 'the connection failed';
}

function tokenRequest(hosts: PingOneHosts, credentials: ICredentialDataDecryptedObject): SimpleRequest {
	const clientId = String(credentials.clientId ?? '').trim();
	const clientSecret = String(credentials.clientSecret ?? '');
	if (!clientId || !clientSecret) {
		throw new PingOneCredentialError(
			'Client ID and Client Secret are required for Client Credentials authentication (a PingOne worker application).',
		);
	}
	const form = new URLSearchParams({ grant_type: 'client_credentials' });
	const headers: Record<string, string> = {
		'Content-Type': 'application/x-www-form-urlencoded',
		Accept: 'application/json',
	};
	if (credentials.tokenEndpointAuthMethod === 'post') {
		form.set('client_id', clientId);
		form.set('client_secret', clientSecret);
	} else {
		// RFC 6749 2.3.1: form-urlencode both parts before Basic encoding.
		headers.Authorization = `Basic ${Buffer.from(
			`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`,
		).toString('base64')}`;
	}
	return { method: 'POST', url: hosts.tokenUrl, headers, body: form.toString() };
}

/** The message for a token endpoint answer that is not a token. */
export function describeTokenFailure(hosts: PingOneHosts, statusCode: number, body: unknown): string {
	const host = hostOf(hosts.tokenUrl);
	const obj = objectOf(body);
	const oauthError = str(obj.error);
	const oauthText = str(obj.error_description);
	const pingOne = describePingOneError(body);
	if (oauthError === 'invalid_client' || (statusCode === 401 && !pingOne)) {
		return `Wrong client ID or client secret: PingOne's token endpoint answered ${statusCode} ${oauthError ?? ''}${oauthText ? ` (${oauthText})` : ''}. Check the worker application's Client ID and Client Secret, and that the Token Endpoint Authentication Method (Basic or Post) matches the application's setting in PingOne.`.replace(/ {2,}/g, ' ');
	}
	if (oauthError === 'unauthorized_client' || oauthError === 'unsupported_grant_type' || oauthError === 'invalid_grant') {
		return `The application may not use the client credentials grant: PingOne answered ${statusCode} ${oauthError}${oauthText ? ` (${oauthText})` : ''}. Use a Worker application with the Client Credentials grant type.`;
	}
	if (statusCode === 404 || str(obj.code) === 'NOT_FOUND') {
		return `Wrong environment ID or region: the auth host ${host} knows no environment ${hosts.environmentId} (HTTP ${statusCode}${pingOne ? ` ${pingOne}` : ''}). Check the Environment ID and the Region${hosts.authUrl.includes('pingone.') ? '' : ' (or the Auth URL)'}.`;
	}
	if (statusCode >= 200 && statusCode < 300) {
		return `The auth host ${host} answered without an access token: it does not look like a PingOne token endpoint. Check the Region (or the Auth URL).`;
	}
	if (pingOne || oauthError) {
		return `The token request to ${host} failed: HTTP ${statusCode} ${stop(pingOne ?? `${oauthError}${oauthText ? ` (${oauthText})` : ''}`)}`;
	}
	return `The auth host ${host} answered HTTP ${statusCode} without a PingOne or OAuth error body: it does not look like a PingOne auth server. Check the Region (or the Auth URL).`;
}

/**
 * Client credentials grant: returns the access token or throws a PingOneCredentialError
 * (wrong secret, wrong environment, wrong or unreachable auth host).
 */
export async function fetchToken(
	send: Send,
	hosts: PingOneHosts,
	credentials: ICredentialDataDecryptedObject,
): Promise<string> {
	const request = tokenRequest(hosts, credentials);
	let response: SimpleResponse;
	try {
		response = await send(request);
	} catch (error) {
		throw new PingOneCredentialError(
			`Wrong region or auth URL: the auth host ${hostOf(hosts.tokenUrl)} could not be reached (${describeNetworkError(error)}). Check the Region (or the Auth URL of Custom URLs) and the network of the n8n host.`,
		);
	}
	const token = response.statusCode >= 200 && response.statusCode < 300 ? str(objectOf(response.body).access_token) : undefined;
	if (!token) throw new PingOneCredentialError(describeTokenFailure(hosts, response.statusCode, response.body));
	return token;
}

/** The message for an answer of `GET {api}/environments/{id}` that is not 200. */
export function describeEnvironmentFailure(
	hosts: PingOneHosts,
	authentication: 'clientCredentials' | 'accessToken',
	statusCode: number,
	body: unknown,
): string {
	const host = hostOf(hosts.apiUrl);
	const pingOne = describePingOneError(body);
	const obj = objectOf(body);
	const details = Array.isArray(obj.details) ? (obj.details as Array<Record<string, unknown>>) : [];
	if (!pingOne) {
		return `The API host ${host} answered HTTP ${statusCode} without a PingOne error body: it does not look like the PingOne API. Check the Region (or the API URL of Custom URLs).`;
	}
	if (statusCode === 403 || details.some((d) => d?.code === 'INSUFFICIENT_PERMISSIONS')) {
		return `Missing permission: PingOne answered ${statusCode} ${stop(pingOne)} Give the ${authentication === 'clientCredentials' ? 'worker application' : "token's application"} a role in environment ${hosts.environmentId} that may read the environment and its reports (for example Environment Admin or Identity Data Admin).`;
	}
	if (statusCode === 404) {
		return `Wrong environment ID or region: the API host ${host} knows no environment ${hosts.environmentId} (HTTP 404 ${pingOne}). Check the Environment ID and the Region.`;
	}
	if (statusCode === 401) {
		return authentication === 'accessToken'
			? `The access token was rejected: PingOne answered 401 ${stop(pingOne)} It may be wrong, for another region, or expired (PingOne tokens last about an hour); for scheduled workflows use Client Credentials, which renews the token.`
			: `The API host ${host} rejected the token the auth host issued: PingOne answered 401 ${stop(pingOne)} The API URL and the Auth URL probably point to different regions.`;
	}
	return `The environment check on ${host} failed: PingOne answered ${statusCode} ${stop(pingOne)}`;
}

/** `GET {api}/environments/{id}` with the token: returns the environment's body or throws a PingOneCredentialError. */
export async function checkEnvironment(
	send: Send,
	hosts: PingOneHosts,
	token: string,
	authentication: 'clientCredentials' | 'accessToken',
): Promise<Record<string, unknown>> {
	let response: SimpleResponse;
	try {
		response = await send({
			method: 'GET',
			url: `${hosts.apiUrl}/environments/${hosts.environmentId}`,
			headers: { Accept: 'application/json', Authorization: `Bearer ${token}` },
		});
	} catch (error) {
		throw new PingOneCredentialError(
			`Wrong region or API URL: the API host ${hostOf(hosts.apiUrl)} could not be reached (${describeNetworkError(error)}). Check the Region (or the API URL of Custom URLs) and the network of the n8n host.`,
		);
	}
	if (response.statusCode >= 200 && response.statusCode < 300) return objectOf(response.body);
	throw new PingOneCredentialError(describeEnvironmentFailure(hosts, authentication, response.statusCode, response.body));
}

/** Resolves and validates the hosts; a bad setting becomes a PingOneCredentialError. */
export function credentialHosts(credentials: ICredentialDataDecryptedObject): PingOneHosts {
	try {
		return resolveHosts(credentials);
	} catch (error) {
		if (error instanceof CredentialSettingsError) throw new PingOneCredentialError(error.message);
		throw error;
	}
}

/** A `Send` over n8n's legacy `request` helper (the one a credential test context offers). */
export function sendWithLegacyRequest(
	request: (options: object) => Promise<unknown>,
): Send {
	return async (req) => {
		const response = (await request({
			method: req.method,
			uri: req.url,
			headers: req.headers,
			...(req.body !== undefined ? { body: req.body } : {}),
			json: false,
			simple: false,
			resolveWithFullResponse: true,
			timeout: REQUEST_TIMEOUT_MS,
			// Never follow a redirect: it would carry the client secret or token elsewhere.
			followRedirect: false,
			followAllRedirects: false,
			sendCredentialsOnCrossOriginRedirect: false,
		})) as { statusCode: number; body: unknown };
		return { statusCode: response.statusCode, body: response.body };
	};
}

/**
 * The credential test (n8n's "Test" button): validates the settings, gets a token (client
 * credentials), then reads the environment with it. Every failure has its own message.
 */
export async function pingOneApiTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const data = credential.data ?? {};
	const authentication = data.authentication === 'accessToken' ? 'accessToken' : 'clientCredentials';
	try {
		const hosts = credentialHosts(data);
		const send = sendWithLegacyRequest(async (options) => await this.helpers.request(options));
		let token: string;
		if (authentication === 'accessToken') {
			token = String(data.accessToken ?? '').trim();
			if (!token) throw new PingOneCredentialError('Access Token is empty. Paste a PingOne access token, or use Client Credentials.');
		} else {
			token = await fetchToken(send, hosts, data);
		}
		const environment = await checkEnvironment(send, hosts, token, authentication);
		const name = str(environment.name);
		return {
			status: 'OK',
			message: `Connection successful: environment ${name ? `"${name}" ` : ''}${hosts.environmentId} on ${hostOf(hosts.apiUrl)}.`,
		};
	} catch (error) {
		if (error instanceof PingOneCredentialError) return { status: 'Error', message: error.message };
		return { status: 'Error', message: `The credential test failed: ${(error as Error)?.message ?? String(error)}` };
	}
}
