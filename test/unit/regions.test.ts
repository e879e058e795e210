/**
 * Region hosts and credential settings (lib/regions.ts), and the words of the credential's
 * failure messages (credentialTest.ts), without any network.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
	CredentialSettingsError,
	REGIONS,
	checkEnvironmentId,
	resolveHosts,
} from '../../nodes/PingOneReports/lib/regions';
import {
	describeEnvironmentFailure,
	describeNetworkError,
	describePingOneError,
	describeTokenFailure,
} from '../../nodes/PingOneReports/credentialTest';

const ENV = 'abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6';

// The table of docs/reference/pingone-reports-api.md, "Regions and hosts".
const EXPECTED: Record<string, { api: string; token: string }> = {
	com: { api: 'https://api.pingone.com/v1', token: `https://auth.pingone.com/${ENV}/as/token` },
	eu: { api: 'https://api.pingone.eu/v1', token: `https://auth.pingone.eu/${ENV}/as/token` },
	ca: { api: 'https://api.pingone.ca/v1', token: `https://auth.pingone.ca/${ENV}/as/token` },
	'com.au': { api: 'https://api.pingone.com.au/v1', token: `https://auth.pingone.com.au/${ENV}/as/token` },
	sg: { api: 'https://api.pingone.sg/v1', token: `https://auth.pingone.sg/${ENV}/as/token` },
	asia: { api: 'https://api.pingone.asia/v1', token: `https://auth.pingone.asia/${ENV}/as/token` },
};

function settingsError(fn: () => unknown): string {
	try {
		fn();
	} catch (error) {
		assert.ok(error instanceof CredentialSettingsError, `expected a CredentialSettingsError, got ${String(error)}`);
		return error.message;
	}
	assert.fail('expected an error');
}

describe('resolveHosts: the six regions', () => {
	test('the region list is exactly com, eu, ca, com.au, sg, asia', () => {
		assert.deepEqual(Object.keys(REGIONS), ['com', 'eu', 'ca', 'com.au', 'sg', 'asia']);
	});
	for (const [region, want] of Object.entries(EXPECTED)) {
		test(`${region}: API ${want.api}, token endpoint ${want.token}`, () => {
			const hosts = resolveHosts({ region, environmentId: ENV });
			assert.equal(hosts.apiUrl, want.api);
			assert.equal(hosts.tokenUrl, want.token);
			assert.equal(hosts.environmentId, ENV);
		});
	}
	test('no region given means North America (com)', () => {
		assert.equal(resolveHosts({ environmentId: ENV }).apiUrl, 'https://api.pingone.com/v1');
	});
	test('region URLs ignore apiUrl/authUrl left over from a custom setting', () => {
		const hosts = resolveHosts({ region: 'eu', environmentId: ENV, apiUrl: 'http://127.0.0.1:1/v1', authUrl: 'http://127.0.0.1:1' });
		assert.equal(hosts.apiUrl, 'https://api.pingone.eu/v1');
		assert.equal(hosts.tokenUrl, `https://auth.pingone.eu/${ENV}/as/token`);
	});
	test('an unknown region is refused by name', () => {
		assert.match(settingsError(() => resolveHosts({ region: 'us', environmentId: ENV })), /Unknown region "us"/);
	});
});

describe('resolveHosts: custom URLs', () => {
	test('custom domain for auth, api.pingone.* for the API; trailing slashes and spaces trimmed', () => {
		const hosts = resolveHosts({
			region: 'custom',
			apiUrl: ' https://api.pingone.eu/v1/ ',
			authUrl: 'https://login.example.com/',
			environmentId: ` ${ENV} `,
		});
		assert.deepEqual(hosts, {
			apiUrl: 'https://api.pingone.eu/v1',
			authUrl: 'https://login.example.com',
			environmentId: ENV,
			tokenUrl: `https://login.example.com/${ENV}/as/token`,
		});
	});
	test('a loopback test server over http is allowed', () => {
		const hosts = resolveHosts({ region: 'custom', apiUrl: 'http://127.0.0.1:8080/v1', authUrl: 'http://127.0.0.1:8080/auth', environmentId: ENV });
		assert.equal(hosts.apiUrl, 'http://127.0.0.1:8080/v1');
		assert.equal(hosts.tokenUrl, `http://127.0.0.1:8080/auth/${ENV}/as/token`);
	});
	test('missing /v1 gets a message naming the URL and the fix', () => {
		const message = settingsError(() =>
			resolveHosts({ region: 'custom', apiUrl: 'https://api.pingone.com', authUrl: 'https://auth.pingone.com', environmentId: ENV }),
		);
		assert.equal(message, 'API URL "https://api.pingone.com/" must end with /v1, e.g. https://api.pingone.com/v1.');
	});
	test('a malformed API URL', () => {
		assert.equal(
			settingsError(() => resolveHosts({ region: 'custom', apiUrl: 'api.pingone.com/v1', authUrl: 'https://auth.pingone.com', environmentId: ENV })),
			'API URL "api.pingone.com/v1" is not a valid URL. Enter a full URL such as https://api.pingone.com/v1.',
		);
	});
	test('a malformed Auth URL', () => {
		assert.equal(
			settingsError(() => resolveHosts({ region: 'custom', apiUrl: 'https://api.pingone.com/v1', authUrl: 'https//auth', environmentId: ENV })),
			'Auth URL "https//auth" is not a valid URL. Enter a full URL such as https://auth.pingone.com.',
		);
	});
	test('empty custom URLs', () => {
		assert.equal(
			settingsError(() => resolveHosts({ region: 'custom', apiUrl: '', authUrl: 'https://auth.pingone.com', environmentId: ENV })),
			'API URL is empty. Enter a full URL such as https://api.pingone.com/v1.',
		);
		assert.equal(
			settingsError(() => resolveHosts({ region: 'custom', apiUrl: 'https://api.pingone.com/v1', environmentId: ENV })),
			'Auth URL is empty. Enter a full URL such as https://auth.pingone.com.',
		);
	});
	test('another scheme, a query string or a fragment is refused', () => {
		assert.match(
			settingsError(() => resolveHosts({ region: 'custom', apiUrl: 'ftp://api.pingone.com/v1', authUrl: 'https://a.example', environmentId: ENV })),
			/^API URL must start with https:\/\/ .*not ftp:\/\/\.$/,
		);
		assert.equal(
			settingsError(() => resolveHosts({ region: 'custom', apiUrl: 'https://api.pingone.com/v1?x=1', authUrl: 'https://a.example', environmentId: ENV })),
			'API URL must not contain a query string or fragment.',
		);
		assert.equal(
			settingsError(() => resolveHosts({ region: 'custom', apiUrl: 'https://api.pingone.com/v1', authUrl: 'https://a.example/#x', environmentId: ENV })),
			'Auth URL must not contain a query string or fragment.',
		);
	});
});

describe('environment ID', () => {
	test('a UUID passes, trimmed, any case', () => {
		assert.equal(checkEnvironmentId(`  ${ENV.toUpperCase()} `), ENV.toUpperCase());
	});
	test('not a UUID: the message shows the value and what one looks like', () => {
		assert.equal(
			settingsError(() => resolveHosts({ region: 'com', environmentId: 'my-environment' })),
			'Environment ID "my-environment" is not a UUID. It looks like abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6 (Settings > Environment Properties in the PingOne admin console).',
		);
	});
	test('empty', () => {
		assert.match(settingsError(() => resolveHosts({ region: 'com', environmentId: '  ' })), /^Environment ID is empty\./);
		assert.match(settingsError(() => resolveHosts({ region: 'com' })), /^Environment ID is empty\./);
	});
	test('the environment ID is checked before the custom URLs', () => {
		assert.match(settingsError(() => resolveHosts({ region: 'custom', environmentId: 'x' })), /^Environment ID "x" is not a UUID/);
	});
});

describe('failure messages (credentialTest.ts)', () => {
	const hosts = resolveHosts({ region: 'eu', environmentId: ENV });
	const forbidden = {
		id: 'f0e1',
		code: 'ACCESS_FAILED',
		message: 'The request could not be completed. You do not have access to this resource.',
		details: [{ code: 'INSUFFICIENT_PERMISSIONS', message: 'The actor attempting to perform the request is not authorized.' }],
	};

	test("PingOne's code, message and details in one line; undefined for a body that is not PingOne's", () => {
		assert.equal(
			describePingOneError(JSON.stringify(forbidden)),
			'ACCESS_FAILED: The request could not be completed. You do not have access to this resource. [INSUFFICIENT_PERMISSIONS: The actor attempting to perform the request is not authorized.]',
		);
		assert.equal(
			describePingOneError({ code: 'INVALID_DATA', message: 'Bad.', details: [{ code: 'INVALID_VALUE', target: 'limit', message: 'limit must be an integer from 1 to 1000.' }] }),
			'INVALID_DATA: Bad. [INVALID_VALUE (limit): limit must be an integer from 1 to 1000.]',
		);
		assert.equal(describePingOneError('<html>Not Found</html>'), undefined);
		assert.equal(describePingOneError(undefined), undefined);
	});

	test('token: wrong secret, wrong grant, wrong environment, not a PingOne host — four different messages', () => {
		const wrongSecret = describeTokenFailure(hosts, 401, { error: 'invalid_client', error_description: 'Request denied: Invalid client credentials.' });
		assert.equal(
			wrongSecret,
			"Wrong client ID or client secret: PingOne's token endpoint answered 401 invalid_client (Request denied: Invalid client credentials.). Check the worker application's Client ID and Client Secret, and that the Token Endpoint Authentication Method (Basic or Post) matches the application's setting in PingOne.",
		);
		assert.match(describeTokenFailure(hosts, 400, { error: 'unauthorized_client' }), /^The application may not use the client credentials grant: PingOne answered 400 unauthorized_client/);
		assert.equal(
			describeTokenFailure(hosts, 404, { id: '1', code: 'NOT_FOUND', message: 'The requested resource was not found.' }),
			`Wrong environment ID or region: the auth host auth.pingone.eu knows no environment ${ENV} (HTTP 404 NOT_FOUND: The requested resource was not found.). Check the Environment ID and the Region.`,
		);
		assert.equal(
			describeTokenFailure(hosts, 502, '<html>Bad Gateway</html>'),
			'The auth host auth.pingone.eu answered HTTP 502 without a PingOne or OAuth error body: it does not look like a PingOne auth server. Check the Region (or the Auth URL).',
		);
		assert.match(describeTokenFailure(hosts, 200, { hello: 'world' }), /answered without an access token/);
	});

	test('environment check: missing permission, unknown environment, rejected token, not PingOne', () => {
		assert.equal(
			describeEnvironmentFailure(hosts, 'clientCredentials', 403, forbidden),
			`Missing permission: PingOne answered 403 ACCESS_FAILED: The request could not be completed. You do not have access to this resource. [INSUFFICIENT_PERMISSIONS: The actor attempting to perform the request is not authorized.]. Give the worker application a role in environment ${ENV} that may read the environment and its reports (for example Environment Admin or Identity Data Admin).`,
		);
		assert.match(
			describeEnvironmentFailure(hosts, 'accessToken', 404, { code: 'NOT_FOUND', message: 'Not found.' }),
			/^Wrong environment ID or region: the API host api\.pingone\.eu knows no environment .* \(HTTP 404 NOT_FOUND: Not found\.\)/,
		);
		assert.match(describeEnvironmentFailure(hosts, 'accessToken', 401, { code: 'ACCESS_FAILED', message: 'x' }), /^The access token was rejected: PingOne answered 401 ACCESS_FAILED: x\. It may be wrong, for another region, or expired/);
		assert.match(describeEnvironmentFailure(hosts, 'clientCredentials', 401, { code: 'ACCESS_FAILED' }), /different regions/);
		assert.equal(
			describeEnvironmentFailure(hosts, 'accessToken', 403, 'Forbidden'),
			'The API host api.pingone.eu answered HTTP 403 without a PingOne error body: it does not look like the PingOne API. Check the Region (or the API URL of Custom URLs).',
		);
	});

	test('network failures in plain words, never a Node error code (n8n would replace the message)', () => {
		const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
		assert.equal(describeNetworkError(refused), 'the connection was refused');
		assert.equal(describeNetworkError({ message: 'wrapped', cause: { code: 'ENOTFOUND' } }), 'the host name was not found');
		assert.equal(describeNetworkError({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE_CERT' }), 'its TLS certificate was not accepted');
		assert.equal(describeNetworkError(new Error('?')), 'the connection failed');
		for (const text of [describeNetworkError(refused), describeNetworkError({ code: 'ETIMEDOUT' }), describeNetworkError({ code: 'EAI_AGAIN' })]) {
			assert.doesNotMatch(text, /E[A-Z]{4,}/);
		}
	});
});
