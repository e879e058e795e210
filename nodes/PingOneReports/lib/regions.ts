/**
 * PingOne regions and their hosts (docs/reference/pingone-reports-api.md, "Regions and hosts").
 * Pure: no n8n imports, so the credential, the transport and the tests share one table.
 */
export const REGIONS = {
	com: 'North America',
	eu: 'Europe',
	ca: 'Canada',
	'com.au': 'Australia',
	sg: 'Singapore',
	asia: 'Asia-Pacific',
} as const;

export type RegionTld = keyof typeof REGIONS;
export type Region = RegionTld | 'custom';

export interface PingOneHostSettings {
	region?: unknown;
	apiUrl?: unknown;
	authUrl?: unknown;
	environmentId?: unknown;
}

export interface PingOneHosts {
	/** The API path including `/v1`, without a trailing slash. */
	apiUrl: string;
	/** The auth host, without a trailing slash. */
	authUrl: string;
	environmentId: string;
	/** `{authUrl}/{environmentId}/as/token` */
	tokenUrl: string;
}

/** Thrown for settings that cannot work; the message tells the user what to change. */
export class CredentialSettingsError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'CredentialSettingsError';
	}
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function trimSlashes(url: string): string {
	return url.replace(/\/+$/, '');
}

function parseHttpUrl(value: unknown, field: string, example: string): URL {
	const text = typeof value === 'string' ? value.trim() : '';
	if (!text) {
		throw new CredentialSettingsError(`${field} is empty. Enter a full URL such as ${example}.`);
	}
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new CredentialSettingsError(
			`${field} "${text}" is not a valid URL. Enter a full URL such as ${example}.`,
		);
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw new CredentialSettingsError(
			`${field} must start with https:// (or http:// for a local test server), not ${url.protocol}//.`,
		);
	}
	if (url.search || url.hash) {
		throw new CredentialSettingsError(`${field} must not contain a query string or fragment.`);
	}
	return url;
}

/** Checks the environment ID; returns it trimmed. */
export function checkEnvironmentId(value: unknown): string {
	const id = typeof value === 'string' ? value.trim() : '';
	if (!id) {
		throw new CredentialSettingsError(
			'Environment ID is empty. Copy it from the PingOne admin console (Settings > Environment Properties).',
		);
	}
	if (!UUID.test(id)) {
		throw new CredentialSettingsError(
			`Environment ID "${id}" is not a UUID. It looks like abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6 (Settings > Environment Properties in the PingOne admin console).`,
		);
	}
	return id;
}

/** Resolves the API and auth hosts of the credential's region; validates custom URLs and the environment ID. */
export function resolveHosts(settings: PingOneHostSettings): PingOneHosts {
	const environmentId = checkEnvironmentId(settings.environmentId);
	const region = (settings.region ?? 'com') as string;
	let apiUrl: string;
	let authUrl: string;
	if (region === 'custom') {
		const api = parseHttpUrl(settings.apiUrl, 'API URL', 'https://api.pingone.com/v1');
		if (!/\/v1\/?$/.test(api.pathname)) {
			throw new CredentialSettingsError(
				`API URL "${api.origin}${api.pathname}" must end with /v1, e.g. https://api.pingone.com/v1.`,
			);
		}
		const auth = parseHttpUrl(settings.authUrl, 'Auth URL', 'https://auth.pingone.com');
		apiUrl = trimSlashes(api.origin + api.pathname);
		authUrl = trimSlashes(auth.origin + auth.pathname);
	} else if (Object.prototype.hasOwnProperty.call(REGIONS, region)) {
		apiUrl = `https://api.pingone.${region}/v1`;
		authUrl = `https://auth.pingone.${region}`;
	} else {
		throw new CredentialSettingsError(
			`Unknown region "${region}". Choose one of ${Object.keys(REGIONS).join(', ')} or custom.`,
		);
	}
	return { apiUrl, authUrl, environmentId, tokenUrl: `${authUrl}/${environmentId}/as/token` };
}
