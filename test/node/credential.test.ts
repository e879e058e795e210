/**
 * The PingOne API credential through n8n's own machinery:
 * - the credential test ("Test" in the credential dialog) the way n8n's CredentialsTester runs a
 *   node-level test: defaults applied by the credentials helper, the test function found through
 *   the node's `testedBy`, called on n8n-core's real `CredentialTestContext` (whose `request`
 *   helper is n8n's outbound HTTP), against the PingOne simulator;
 * - client credentials (`basic` and `post`) and token renewal in workflow runs (WorkflowExecute);
 * - the region hosts, seen for real: n8n's outbound HTTP honours HTTPS_PROXY, so a loopback proxy
 *   records the CONNECT host of every request and refuses the tunnel (nothing leaves the machine).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { CredentialTestContext } from 'n8n-core';
import type {
	ICredentialDataDecryptedObject,
	ICredentialTestFunction,
	ICredentialType,
	IDataObject,
	INodeCredentialTestResult,
	INodeType,
} from 'n8n-workflow';

import { PingOneApi } from '../../credentials/PingOneApi.credentials';
import { CREDENTIAL_TEST_NAME, pingOneApiTest } from '../../nodes/PingOneReports/credentialTest';
import { REGIONS } from '../../nodes/PingOneReports/lib/regions';
import { startSimulator, type Simulator, type SimulatorOptions } from '../simulator';
import { HarnessCredentialsHelper, chain, runWorkflow, testCredential, type ChainNode, type RunResult } from './harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { PingOneReports } = require('../../dist/nodes/PingOneReports/PingOneReports.node.js') as typeof import('../../nodes/PingOneReports/PingOneReports.node');
const TYPE = 'pingOneReports';
const OTHER_ENV = '0e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b';

// ------------------------------------------------------------------------------------------
// n8n's CredentialsTester, function branch (packages/cli/src/services/credentials-tester.service.ts)
// ------------------------------------------------------------------------------------------

/** The real node if its description already wires the test, else the same node with the wiring added. */
function isWired(nodeType: INodeType): boolean {
	const entry = nodeType.description.credentials?.find((c) => c.name === 'pingOneApi');
	return entry?.testedBy === CREDENTIAL_TEST_NAME && typeof nodeType.methods?.credentialTest?.[CREDENTIAL_TEST_NAME] === 'function';
}
function testingNode(): INodeType {
	const real = new PingOneReports() as INodeType;
	if (isWired(real)) return real;
	const wired = Object.create(real) as INodeType;
	wired.description = {
		...real.description,
		credentials: [{ name: 'pingOneApi', required: true, testedBy: CREDENTIAL_TEST_NAME }],
	};
	wired.methods = { ...(real.methods ?? {}), credentialTest: { [CREDENTIAL_TEST_NAME]: pingOneApiTest } };
	return wired;
}

/** getCredentialTestFunction: the credential's own `test` wins; else the first node whose credential entry has `testedBy`. */
function findTestFunction(credentialType: ICredentialType, nodeTypes: INodeType[]): ICredentialTestFunction | 'request' | undefined {
	if (credentialType.test) return 'request';
	for (const nodeType of nodeTypes) {
		for (const { name, testedBy } of nodeType.description.credentials ?? []) {
			if (name === credentialType.name && typeof testedBy === 'string') return nodeType.methods?.credentialTest?.[testedBy];
		}
	}
	return undefined;
}

async function credentialTest(data: ICredentialDataDecryptedObject): Promise<INodeCredentialTestResult> {
	const credentialType = new PingOneApi();
	const fn = findTestFunction(credentialType, [testingNode()]);
	assert.equal(typeof fn, 'function', 'n8n finds a node-level test function for pingOneApi');
	const helper = new HarnessCredentialsHelper([credentialType]);
	const decrypted = helper.applyDefaults(undefined, { ...data }, credentialType.name, 'internal');
	const context = new CredentialTestContext(undefined as never);
	return await (fn as ICredentialTestFunction).call(context, {
		id: 'credential-test',
		name: 'PingOne API',
		type: credentialType.name,
		data: decrypted,
	});
}

// ------------------------------------------------------------------------------------------

function customCredential(sim: Simulator, extra: IDataObject = {}): ICredentialDataDecryptedObject {
	return {
		region: 'custom',
		apiUrl: sim.apiUrl,
		authUrl: sim.authUrl,
		environmentId: sim.environmentId,
		authentication: 'clientCredentials',
		clientId: 'sim-client',
		clientSecret: 'sim-secret',
		...extra,
	};
}

async function closedPort(): Promise<number> {
	const server = http.createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
	const { port } = server.address() as AddressInfo;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return port;
}

/** A host that answers everything with an HTML 404, like a web server that is not PingOne. */
async function rejectingHost(): Promise<{ url: string; hits: string[]; close: () => Promise<void> }> {
	const hits: string[] = [];
	const server = http.createServer((req, res) => {
		hits.push(`${req.method} ${req.url}`);
		res.writeHead(404, { 'content-type': 'text/html' });
		res.end('<html><body>Not Found</body></html>');
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		hits,
		close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
	};
}

describe('credential test (n8n CredentialsTester, node-level test function)', () => {
	let sim: Simulator;
	const secrets = ['sim-secret', 'sim-post-secret', 'wrong-secret', 'sim-static-token', 'denied-secret'];
	const messages: Record<string, string> = {};
	before(async () => {
		sim = await startSimulator({
			createRateLimit: false,
			clients: [
				{ clientId: 'sim-client', clientSecret: 'sim-secret', authMethod: 'basic' },
				{ clientId: 'sim-post-client', clientSecret: 'sim-post-secret', authMethod: 'post' },
				{ clientId: 'sim-denied', clientSecret: 'denied-secret', authMethod: 'basic' },
			],
			deniedClients: ['sim-denied'],
		});
	});
	after(async () => {
		await sim.close();
	});

	test("n8n's request branch finds no `test` on the credential, so the node's test function is the one it runs", async () => {
		assert.deepEqual(await testCredential(new PingOneApi(), {}), {
			status: 'Error',
			message: 'No testing function found for this credential.',
		});
		const found = findTestFunction(new PingOneApi(), [testingNode()]);
		assert.equal(typeof found, 'function');
		// The node comes from dist/, the reference from the sources: compare the function, not the module instance.
		assert.equal((found as ICredentialTestFunction).name, pingOneApiTest.name);
	});

	test('the node wires the test: testedBy "pingOneApiTest" and methods.credentialTest.pingOneApiTest', { todo: isWired(new PingOneReports() as INodeType) ? false : 'the lead adds testedBy + methods to PingOneReports.node.ts' }, () => {
		assert.ok(isWired(new PingOneReports() as INodeType));
	});

	test('success with client credentials (basic): a token, then the environment read with it', async () => {
		const before = sim.log.length;
		const result = await credentialTest(customCredential(sim));
		const host = new URL(sim.apiUrl).host;
		assert.deepEqual(result, {
			status: 'OK',
			message: `Connection successful: environment "Simulated environment" ${sim.environmentId} on ${host}.`,
		});
		const calls = sim.log.slice(before);
		assert.deepEqual(
			calls.map((e) => [e.kind, e.method, e.status, e.authorization]),
			[
				['token', 'POST', 200, 'basic'],
				['api', 'GET', 200, 'bearer'],
			],
		);
		assert.equal(calls[1].path, `/v1/environments/${sim.environmentId}`);
		messages.success = result.message;
	});

	test('success with client credentials (post)', async () => {
		const before = sim.log.length;
		const result = await credentialTest(customCredential(sim, { clientId: 'sim-post-client', clientSecret: 'sim-post-secret', tokenEndpointAuthMethod: 'post' }));
		assert.equal(result.status, 'OK', result.message);
		assert.deepEqual(sim.log.slice(before).map((e) => [e.kind, e.status, e.authorization]), [
			['token', 200, 'none'],
			['api', 200, 'bearer'],
		]);
	});

	test('success with a pasted access token (no token request)', async () => {
		const before = sim.log.length;
		const result = await credentialTest(customCredential(sim, { authentication: 'accessToken', accessToken: 'sim-static-token' }));
		assert.equal(result.status, 'OK', result.message);
		assert.deepEqual(sim.log.slice(before).map((e) => e.kind), ['api']);
	});

	test('wrong secret', async () => {
		const result = await credentialTest(customCredential(sim, { clientSecret: 'wrong-secret' }));
		assert.equal(result.status, 'Error');
		assert.equal(
			result.message,
			"Wrong client ID or client secret: PingOne's token endpoint answered 401 invalid_client (Request denied: Invalid client credentials.). Check the worker application's Client ID and Client Secret, and that the Token Endpoint Authentication Method (Basic or Post) matches the application's setting in PingOne.",
		);
		messages.wrongSecret = result.message;
	});

	test('wrong token endpoint authentication method (basic for a post application)', async () => {
		const result = await credentialTest(customCredential(sim, { clientId: 'sim-post-client', clientSecret: 'sim-post-secret', tokenEndpointAuthMethod: 'basic' }));
		assert.equal(result.status, 'Error');
		assert.match(result.message, /^Wrong client ID or client secret: .*invalid_client \(Request denied: Unsupported authentication method \(the application expects CLIENT_SECRET_POST\)\.\)/);
	});

	test('wrong environment (client credentials: the auth host knows no such environment)', async () => {
		const before = sim.log.length;
		const result = await credentialTest(customCredential(sim, { environmentId: OTHER_ENV }));
		assert.equal(result.status, 'Error');
		const host = new URL(sim.authUrl).host;
		assert.equal(
			result.message,
			`Wrong environment ID or region: the auth host ${host} knows no environment ${OTHER_ENV} (HTTP 404 NOT_FOUND: The request could not be completed. The requested resource was not found.). Check the Environment ID and the Region (or the Auth URL).`,
		);
		assert.deepEqual(sim.log.slice(before).map((e) => [e.kind, e.status]), [['token', 404]]);
		messages.wrongEnvironment = result.message;
	});

	test('wrong environment (access token: the API host knows no such environment)', async () => {
		const result = await credentialTest(customCredential(sim, { environmentId: OTHER_ENV, authentication: 'accessToken', accessToken: 'sim-static-token' }));
		assert.equal(result.status, 'Error');
		assert.equal(
			result.message,
			`Wrong environment ID or region: the API host ${new URL(sim.apiUrl).host} knows no environment ${OTHER_ENV} (HTTP 404 NOT_FOUND: The request could not be completed. The requested resource was not found.). Check the Environment ID and the Region.`,
		);
		messages.wrongEnvironmentToken = result.message;
	});

	test('missing permission: the worker application has no role (403 INSUFFICIENT_PERMISSIONS)', async () => {
		const result = await credentialTest(customCredential(sim, { clientId: 'sim-denied', clientSecret: 'denied-secret' }));
		assert.equal(result.status, 'Error');
		assert.equal(
			result.message,
			`Missing permission: PingOne answered 403 ACCESS_FAILED: The request could not be completed. You do not have access to this resource. [INSUFFICIENT_PERMISSIONS: The actor attempting to perform the request is not authorized.]. Give the worker application a role in environment ${sim.environmentId} that may read the environment and its reports (for example Environment Admin or Identity Data Admin).`,
		);
		messages.missingPermission = result.message;
	});

	test('an expired or wrong pasted access token', async () => {
		const result = await credentialTest(customCredential(sim, { authentication: 'accessToken', accessToken: 'not-a-token' }));
		assert.equal(result.status, 'Error');
		assert.match(result.message, /^The access token was rejected: PingOne answered 401 ACCESS_FAILED: The request could not be completed\. You do not have access to this resource\. It may be wrong, for another region, or expired/);
		messages.badAccessToken = result.message;
	});

	test('wrong region: the auth host is unreachable (custom URL on a closed loopback port)', async () => {
		const port = await closedPort();
		const result = await credentialTest(customCredential(sim, { authUrl: `http://127.0.0.1:${port}` }));
		assert.equal(result.status, 'Error');
		assert.equal(
			result.message,
			`Wrong region or auth URL: the auth host 127.0.0.1:${port} could not be reached (the connection was refused). Check the Region (or the Auth URL of Custom URLs) and the network of the n8n host.`,
		);
		messages.unreachableAuth = result.message;
	});

	test('wrong region: the API host is unreachable', async () => {
		const port = await closedPort();
		const result = await credentialTest(customCredential(sim, { apiUrl: `http://127.0.0.1:${port}/v1`, authentication: 'accessToken', accessToken: 'sim-static-token' }));
		assert.equal(result.status, 'Error');
		assert.equal(
			result.message,
			`Wrong region or API URL: the API host 127.0.0.1:${port} could not be reached (the connection was refused). Check the Region (or the API URL of Custom URLs) and the network of the n8n host.`,
		);
		messages.unreachableApi = result.message;
	});

	test('wrong region: a host that rejects (answers HTML 404, not PingOne)', async () => {
		const other = await rejectingHost();
		try {
			const asAuth = await credentialTest(customCredential(sim, { authUrl: other.url }));
			assert.equal(
				asAuth.message,
				`Wrong environment ID or region: the auth host ${new URL(other.url).host} knows no environment ${sim.environmentId} (HTTP 404). Check the Environment ID and the Region (or the Auth URL).`,
			);
			const asApi = await credentialTest(customCredential(sim, { apiUrl: `${other.url}/v1`, authentication: 'accessToken', accessToken: 'sim-static-token' }));
			assert.equal(
				asApi.message,
				`The API host ${new URL(other.url).host} answered HTTP 404 without a PingOne error body: it does not look like the PingOne API. Check the Region (or the API URL of Custom URLs).`,
			);
			assert.deepEqual(other.hits, [`POST /${sim.environmentId}/as/token`, `GET /v1/environments/${sim.environmentId}`]);
			messages.rejectingApi = asApi.message;
		} finally {
			await other.close();
		}
	});

	test('invalid settings are reported before any request', async () => {
		const before = sim.log.length;
		assert.deepEqual(await credentialTest(customCredential(sim, { environmentId: 'my-env' })), {
			status: 'Error',
			message: 'Environment ID "my-env" is not a UUID. It looks like abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6 (Settings > Environment Properties in the PingOne admin console).',
		});
		assert.deepEqual(await credentialTest(customCredential(sim, { apiUrl: sim.baseUrl })), {
			status: 'Error',
			message: `API URL "${sim.baseUrl}/" must end with /v1, e.g. https://api.pingone.com/v1.`,
		});
		assert.deepEqual(await credentialTest(customCredential(sim, { authUrl: 'auth.example.com' })), {
			status: 'Error',
			message: 'Auth URL "auth.example.com" is not a valid URL. Enter a full URL such as https://auth.pingone.com.',
		});
		assert.deepEqual(await credentialTest(customCredential(sim, { clientSecret: '' })), {
			status: 'Error',
			message: 'Client ID and Client Secret are required for Client Credentials authentication (a PingOne worker application).',
		});
		assert.equal(sim.log.length, before, 'no request was sent');
	});

	test('every case has its own message, and no message holds a secret', () => {
		const all = Object.values(messages);
		assert.ok(all.length >= 9, `collected ${all.length} messages`);
		assert.equal(new Set(all).size, all.length);
		// n8n's NodeError replaces a message containing one of these codes with a generic sentence
		const nodeErrorCodes = ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'ERRADDRINUSE', 'EADDRNOTAVAIL', 'ECONNABORTED', 'EHOSTUNREACH', 'EAI_AGAIN', 'ENOENT', 'EISDIR', 'ENOTDIR', 'EACCES', 'EEXIST', 'EPERM', 'GETADDRINFO'];
		for (const message of all) {
			for (const secret of secrets) assert.ok(!message.includes(secret), `"${message}" holds a secret`);
			for (const code of nodeErrorCodes) assert.ok(!message.toUpperCase().includes(code), `"${message}" contains ${code}`);
		}
	});
});

// ------------------------------------------------------------------------------------------
// Workflow runs: basic and post, renewal, a failing token request
// ------------------------------------------------------------------------------------------

function reportNode(name: string, parameters: IDataObject): ChainNode {
	return { name, type: TYPE, parameters: { resource: 'report', ...parameters }, credentials: { pingOneApi: { id: '1', name: 'PingOne' } } };
}

async function runWith(credential: ICredentialDataDecryptedObject, nodes: ChainNode[]): Promise<RunResult> {
	return await runWorkflow({
		nodeTypes: { [TYPE]: new PingOneReports() },
		credentialTypes: [new PingOneApi()],
		credentials: { pingOneApi: credential },
		workflow: chain(nodes),
	});
}

async function withSim(options: SimulatorOptions, fn: (sim: Simulator) => Promise<void>): Promise<void> {
	const sim = await startSimulator({ createRateLimit: false, ...options });
	try {
		await fn(sim);
	} finally {
		await sim.close();
	}
}

describe('client credentials in workflow runs (WorkflowExecute)', () => {
	for (const method of ['basic', 'post'] as const) {
		test(`${method}: one token for the whole run, stored in the credential, every API call with it`, async () => {
			await withSim({ clients: [{ clientId: `c-${method}`, clientSecret: `s-${method}`, authMethod: method }], pollsBeforeSuccess: 2 }, async (sim) => {
				const credential = customCredential(sim, { clientId: `c-${method}`, clientSecret: `s-${method}`, tokenEndpointAuthMethod: method });
				const result = await runWith(credential, [
					reportNode('Create', { operation: 'create', deliverAs: 'ENTRIES' }),
					reportNode('Wait', { operation: 'waitUntilReady', reportId: '={{ $json.id }}', options: { pollInterval: 1 } }),
					reportNode('Get', { operation: 'get', reportId: '={{ $json.id }}' }),
				]);
				assert.equal(result.error, undefined, String(result.error));
				assert.equal(result.outputs.Get[0][0].json.status, 'SUCCESS');
				const tokens = sim.log.filter((e) => e.kind === 'token');
				assert.deepEqual(tokens.map((e) => [e.status, e.authorization]), [[200, method === 'basic' ? 'basic' : 'none']]);
				const api = sim.log.filter((e) => e.kind === 'api');
				assert.ok(api.length >= 5, `${api.length} API calls`);
				assert.ok(api.every((e) => e.status < 300 && e.authorization === 'bearer'));
				assert.match(String(result.credentials.pingOneApi.sessionToken), /^sim_/, 'n8n stored the token in the credential');
			});
		});
	}

	test('the token is renewed when the API answers 401 after it expired, not fetched per request', async () => {
		await withSim({ tokenLifetimeSeconds: 1, pollsBeforeSuccess: 3 }, async (sim) => {
			const result = await runWith(customCredential(sim), [
				reportNode('Create', { operation: 'create', deliverAs: 'ENTRIES' }),
				reportNode('Wait', { operation: 'waitUntilReady', reportId: '={{ $json.id }}', options: { pollInterval: 1.2 } }),
			]);
			assert.equal(result.error, undefined, String(result.error));
			assert.equal(result.outputs.Wait[0][0].json.status, 'SUCCESS');
			const tokens = sim.log.filter((e) => e.kind === 'token');
			const api = sim.log.filter((e) => e.kind === 'api');
			const expired = api.filter((e) => e.status === 401);
			assert.ok(expired.length >= 2, `${expired.length} 401s`);
			assert.equal(tokens.length, expired.length + 1, 'one token at the start, then one per 401');
			assert.ok(tokens.length < api.length, `${tokens.length} tokens for ${api.length} API calls`);
			// every 401 is followed by a token request and the same call succeeding
			sim.log.forEach((e, i) => {
				if (e.kind === 'api' && e.status === 401) {
					assert.equal(sim.log[i + 1]?.kind, 'token');
					assert.equal(sim.log[i + 2]?.path, e.path);
					assert.equal(sim.log[i + 2]?.status, 200);
				}
			});
		});
	});

	test('a wrong secret fails the run with the credential message (one token request, no retries)', async () => {
		await withSim({}, async (sim) => {
			const result = await runWith(customCredential(sim, { clientSecret: 'nope' }), [reportNode('Get', { operation: 'get', reportId: OTHER_ENV })]);
			assert.ok(result.error);
			assert.match(result.error.message, /Wrong client ID or client secret: PingOne's token endpoint answered 401 invalid_client/);
			assert.doesNotMatch(result.error.message, /nope/);
			assert.deepEqual(sim.log.map((e) => [e.kind, e.status]), [['token', 401]]);
		});
	});

	test('a non-UUID environment ID fails the node before any request', async () => {
		await withSim({}, async (sim) => {
			const result = await runWith(customCredential(sim, { environmentId: 'prod' }), [reportNode('Get', { operation: 'get', reportId: OTHER_ENV })]);
			assert.ok(result.error);
			assert.equal(result.error.constructor.name, 'NodeOperationError');
			assert.match(result.error.message, /^PingOne API credential: Environment ID "prod" is not a UUID/);
			assert.equal(sim.log.length, 0);
		});
	});

	test('a custom API URL without /v1 fails the node before any request', async () => {
		await withSim({}, async (sim) => {
			const result = await runWith(customCredential(sim, { apiUrl: sim.baseUrl, authentication: 'accessToken', accessToken: 'sim-static-token' }), [
				reportNode('Get', { operation: 'get', reportId: OTHER_ENV }),
			]);
			assert.ok(result.error);
			assert.equal(result.error.message, `PingOne API credential: API URL "${sim.baseUrl}/" must end with /v1, e.g. https://api.pingone.com/v1.`);
			assert.equal(sim.log.length, 0);
		});
	});
});

// ------------------------------------------------------------------------------------------
// Region hosts, seen through a refusing CONNECT proxy
// ------------------------------------------------------------------------------------------

describe('region hosts: what n8n connects to (HTTPS_PROXY → loopback proxy that refuses every tunnel)', () => {
	let proxy: http.Server;
	let connects: string[] = [];
	const saved: Record<string, string | undefined> = {};
	const VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];
	const ENV = 'abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6';

	before(async () => {
		proxy = http.createServer((req, res) => {
			connects.push(`PLAIN ${req.headers.host ?? ''}`);
			res.writeHead(403);
			res.end();
		});
		proxy.on('connect', (req: http.IncomingMessage, socket: Socket) => {
			connects.push(String(req.url));
			socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
		});
		await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
		for (const name of VARS) {
			saved[name] = process.env[name];
			delete process.env[name];
		}
		const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
		process.env.HTTPS_PROXY = url;
		process.env.HTTP_PROXY = url;
	});
	after(async () => {
		for (const name of VARS) {
			if (saved[name] === undefined) delete process.env[name];
			else process.env[name] = saved[name];
		}
		proxy.closeAllConnections();
		await new Promise<void>((resolve) => proxy.close(() => resolve()));
	});

	const cases: Array<[string, IDataObject, string, string]> = [
		...Object.keys(REGIONS).map((tld): [string, IDataObject, string, string] => [tld, { region: tld }, `api.pingone.${tld}:443`, `auth.pingone.${tld}:443`]),
		['custom', { region: 'custom', apiUrl: 'https://api.pingone.eu/v1', authUrl: 'https://login.customer.example' }, 'api.pingone.eu:443', 'login.customer.example:443'],
	];

	for (const [label, settings, apiHost, authHost] of cases) {
		test(`${label}: API calls go to ${apiHost}, token requests to ${authHost}`, async () => {
			// a workflow run with a pasted token: the node's API call
			connects = [];
			const viaToken = await runWith({ ...settings, environmentId: ENV, authentication: 'accessToken', accessToken: 'tok' }, [
				reportNode('Get', { operation: 'get', reportId: OTHER_ENV }),
			]);
			assert.ok(viaToken.error, 'the refused tunnel fails the run');
			assert.deepEqual(connects, [apiHost]);

			// a workflow run with client credentials: preAuthentication's token request
			connects = [];
			const viaClient = await runWith({ ...settings, environmentId: ENV, authentication: 'clientCredentials', clientId: 'id', clientSecret: 'secret' }, [
				reportNode('Get', { operation: 'get', reportId: OTHER_ENV }),
			]);
			assert.ok(viaClient.error);
			assert.match(viaClient.error.message, new RegExp(`the auth host ${authHost.replace(':443', '').replace(/\./g, '\\.')} answered HTTP 403 without a PingOne or OAuth error body`, 'i'));
			assert.deepEqual(connects, [authHost]);

			// the credential test: token host first, stops there
			connects = [];
			const tested = await credentialTest({ ...settings, environmentId: ENV, clientId: 'id', clientSecret: 'secret' });
			assert.equal(tested.status, 'Error');
			assert.deepEqual(connects, [authHost]);

			// the credential test with a pasted token: the environment on the API host
			connects = [];
			await credentialTest({ ...settings, environmentId: ENV, authentication: 'accessToken', accessToken: 'tok' });
			assert.deepEqual(connects, [apiHost]);
		});
	}
});
