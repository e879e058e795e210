import type {
	ICredentialDataDecryptedObject,
	ICredentialType,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

import { credentialHosts, fetchToken, type Send } from '../nodes/PingOneReports/credentialTest';
import { REGIONS } from '../nodes/PingOneReports/lib/regions';

export class PingOneApi implements ICredentialType {
	name = 'pingOneApi';

	displayName = 'PingOne API';

	icon: Icon = { light: 'file:pingone.svg', dark: 'file:pingone.dark.svg' };

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
		// eslint-disable-next-line @n8n/community-nodes/credential-password-field -- a choice between two method names (Basic, Post), not a secret
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
		const hosts = credentialHosts(credentials);
		const send: Send = async (request) => {
			const response = (await this.helpers.httpRequest({
				method: request.method,
				url: request.url,
				headers: request.headers,
				...(request.body !== undefined ? { body: request.body } : {}),
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
				timeout: 30_000,
				// A redirect would carry the client secret to wherever it points.
				disableFollowRedirect: true,
				sendCredentialsOnCrossOriginRedirect: false,
			})) as { statusCode: number; body: unknown };
			return { statusCode: response.statusCode, body: response.body };
		};
		return { sessionToken: await fetchToken(send, hosts, credentials) };
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

	// The credential test ("Test" in n8n's credential dialog) is the node's `pingOneApiTest` method
	// (nodes/PingOneReports/credentialTest.ts, `testedBy` on the node's credential entry): a
	// request-based `test` here would win over it and could only give generic messages.
}
