import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

import { REGIONS, resolveHosts } from '../nodes/PingOneReports/lib/regions';

interface TokenResponse {
	access_token?: string;
	token_type?: string;
	expires_in?: number;
}

function describeTokenFailure(error: unknown): string {
	const err = error as {
		message?: string;
		httpCode?: string;
		response?: { status?: number; data?: unknown };
		cause?: { response?: { status?: number; data?: unknown }; code?: string };
		code?: string;
	};
	const response = err.response ?? err.cause?.response;
	const status = response?.status ?? (err.httpCode ? Number(err.httpCode) : undefined);
	let data = response?.data as Record<string, unknown> | string | undefined;
	if (typeof data === 'string') {
		try {
			data = JSON.parse(data) as Record<string, unknown>;
		} catch {
			/* keep as text */
		}
	}
	const body = typeof data === 'object' && data !== null ? data : {};
	const oauthError = typeof body.error === 'string' ? body.error : undefined;
	const pingCode = typeof body.code === 'string' ? body.code : undefined;
	const detail =
		(typeof body.error_description === 'string' && body.error_description) ||
		(typeof body.message === 'string' && body.message) ||
		'';
	if (oauthError === 'invalid_client' || (status === 401 && !pingCode)) {
		return `PingOne rejected the client ID or client secret (invalid_client${detail ? `: ${detail}` : ''}). Check the worker application's Client ID, Client Secret and Token Endpoint Authentication Method.`;
	}
	if (oauthError === 'unauthorized_client' || oauthError === 'unsupported_grant_type') {
		return `The application may not use the client credentials grant (${oauthError}${detail ? `: ${detail}` : ''}). In PingOne, use a Worker application with the Client Credentials grant type.`;
	}
	if (status === 404 || pingCode === 'NOT_FOUND') {
		return `PingOne found no environment with this Environment ID at this region's auth host (HTTP 404${detail ? `: ${detail}` : ''}). Check the Environment ID and the Region.`;
	}
	if (status !== undefined) {
		return `The token request failed with HTTP ${status}${pingCode || oauthError ? ` ${pingCode ?? oauthError}` : ''}${detail ? `: ${detail}` : ''}.`;
	}
	const code = err.code ?? err.cause?.code;
	return `The PingOne auth host could not be reached${code ? ` (${code})` : ''}. Check the Region (or the Auth URL of a custom region) and the network.`;
}

export class PingOneApi implements ICredentialType {
	name = 'pingOneApi';

	displayName = 'PingOne API';

	icon: Icon = 'file:pingone.svg';

	documentationUrl =
		'https://apidocs.pingidentity.com/pingone/platform/v1/api/#get-report-results-results-in-file-polling';

	properties: INodeProperties[] = [
		{
			displayName: 'Region',
			name: 'region',
			type: 'options',
			options: [
				...Object.entries(REGIONS).map(([value, name]) => ({
					name: `${name} (pingone.${value})`,
					value,
				})),
				{ name: 'Custom URLs', value: 'custom' },
			],
			default: 'com',
			description:
				"The region of your PingOne tenant: the domain of your admin console (console.pingone.eu means Europe)",
		},
		{
			displayName: 'API URL',
			name: 'apiUrl',
			type: 'string',
			default: '',
			placeholder: 'https://api.pingone.com/v1',
			description: 'The PingOne API path including /v1',
			displayOptions: { show: { region: ['custom'] } },
		},
		{
			displayName: 'Auth URL',
			name: 'authUrl',
			type: 'string',
			default: '',
			placeholder: 'https://auth.example.com',
			description:
				'The auth host (your custom domain, or https://auth.pingone.REGION). The token endpoint is {Auth URL}/{Environment ID}/as/token.',
			displayOptions: { show: { region: ['custom'] } },
		},
		{
			displayName: 'Environment ID',
			name: 'environmentId',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6',
			description:
				'The ID of the environment whose reports are read (Settings > Environment Properties in the admin console)',
		},
		{
			displayName: 'Authentication',
			name: 'authentication',
			type: 'options',
			options: [
				{
					name: 'Client Credentials (Worker App)',
					value: 'clientCredentials',
					description: 'A worker app gets a token, renewed automatically. Best for scheduled workflows.',
				},
				{
					name: 'Access Token',
					value: 'accessToken',
					description: 'A pasted access token; it stops working when it expires (usually after 1 hour)',
				},
			],
			default: 'clientCredentials',
		},
		{
			displayName: 'Client ID',
			name: 'clientId',
			type: 'string',
			default: '',
			description: 'The Client ID of a worker application with a role that may read reports',
			displayOptions: { show: { authentication: ['clientCredentials'] } },
		},
		{
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			displayOptions: { show: { authentication: ['clientCredentials'] } },
		},
		{
			displayName: 'Token Endpoint Authentication Method',
			name: 'tokenEndpointAuthMethod',
			type: 'options',
			options: [
				{ name: 'Client Secret Basic', value: 'basic' },
				{ name: 'Client Secret Post', value: 'post' },
			],
			default: 'basic',
			description:
				"Must match the application's Token Endpoint Authentication Method in PingOne (Configuration tab)",
			displayOptions: { show: { authentication: ['clientCredentials'] } },
		},
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			displayOptions: { show: { authentication: ['accessToken'] } },
		},
		{
			displayName: 'Session Token',
			name: 'sessionToken',
			type: 'hidden',
			typeOptions: { expirable: true, password: true },
			default: '',
		},
	];

	/**
	 * Called by n8n when `sessionToken` is empty and again after a call answered 401: fetches a token
	 * with the client credentials grant. n8n stores the result in the credential, so every worker
	 * shares it and no token is fetched per request.
	 */
	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject) {
		if (credentials.authentication === 'accessToken') {
			return {};
		}
		const { tokenUrl } = resolveHosts(credentials);
		const clientId = String(credentials.clientId ?? '').trim();
		const clientSecret = String(credentials.clientSecret ?? '');
		if (!clientId || !clientSecret) {
			throw new Error('Client ID and Client Secret are required for Client Credentials authentication.');
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
			headers.Authorization = `Basic ${Buffer.from(
				`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`,
			).toString('base64')}`;
		}
		let response: TokenResponse;
		try {
			response = (await this.helpers.httpRequest({
				method: 'POST',
				url: tokenUrl,
				body: form.toString(),
				headers,
				json: true,
			})) as TokenResponse;
		} catch (error) {
			throw new Error(describeTokenFailure(error));
		}
		if (typeof response?.access_token !== 'string' || !response.access_token) {
			throw new Error('The PingOne token endpoint answered without an access_token.');
		}
		return { sessionToken: response.access_token };
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		const token =
			credentials.authentication === 'accessToken'
				? String(credentials.accessToken ?? '').trim()
				: String(credentials.sessionToken ?? '');
		requestOptions.headers = { ...(requestOptions.headers ?? {}), Authorization: `Bearer ${token}` };
		return requestOptions;
	}

	test: ICredentialTestRequest = {
		request: {
			baseURL:
				'={{ $credentials.region === "custom" ? $credentials.apiUrl.replace(/\\/+$/, "") : "https://api.pingone." + $credentials.region + "/v1" }}',
			url: '=/environments/{{ $credentials.environmentId.trim() }}',
			method: 'GET',
		},
	};
}
