/**
 * Tests of the in-process engine harness, with a throwaway node and credential type talking to
 * a local HTTP server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import type {
	IAuthenticateGeneric,
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IDataObject,
	IExecuteFunctions,
	IHttpRequestHelper,
	INodeExecutionData,
	INodeProperties,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';

import { chain, harnessLogs, runWorkflow, testCredential } from './harness';
import type { HarnessCredentialStore } from './harness';

// ---------------------------------------------------------------------------------------------
// A local server: POST /token issues tokens, GET /things needs the current one.
// ---------------------------------------------------------------------------------------------

interface ServerState {
	tokensIssued: number;
	validToken: string;
	requests: Array<{ method: string; url: string; authorization?: string }>;
	slowMs: number;
}

const state: ServerState = { tokensIssued: 0, validToken: '', requests: [], slowMs: 0 };
let server: Server;
let baseUrl = '';

function handle(req: IncomingMessage, res: ServerResponse): void {
	state.requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
	const send = (status: number, body: unknown) => {
		res.writeHead(status, { 'content-type': 'application/json' });
		res.end(JSON.stringify(body));
	};
	const url = new URL(req.url ?? '/', 'http://localhost');
	if (req.method === 'POST' && url.pathname === '/token') {
		let body = '';
		req.on('data', (c: Buffer) => (body += c.toString()));
		req.on('end', () => {
			const form = new URLSearchParams(body);
			if (form.get('client_secret') !== 'right-secret') return send(401, { error: 'invalid_client' });
			state.tokensIssued += 1;
			state.validToken = `token-${state.tokensIssued}`;
			send(200, { access_token: state.validToken, expires_in: 3600 });
		});
		return;
	}
	if (req.headers.authorization !== `Bearer ${state.validToken}` || state.validToken === '') {
		return send(401, { message: 'token expired or invalid' });
	}
	if (url.pathname === '/things') {
		const id = url.searchParams.get('id') ?? '';
		if (id === 'missing') return send(404, { message: 'no such thing' });
		const reply = () => send(200, { id, name: `thing ${id}` });
		if (state.slowMs > 0) setTimeout(reply, state.slowMs);
		else reply();
		return;
	}
	if (url.pathname === '/me') return send(200, { ok: true });
	send(404, { message: 'not found' });
}

// ---------------------------------------------------------------------------------------------
// Throwaway credential: client credentials → bearer token in an expirable hidden field.
// ---------------------------------------------------------------------------------------------

class TestApi implements ICredentialType {
	name = 'testApi';
	displayName = 'Test API';
	properties: INodeProperties[] = [
		{ displayName: 'Base URL', name: 'baseUrl', type: 'string', default: '' },
		{ displayName: 'Client ID', name: 'clientId', type: 'string', default: 'client-1' },
		{
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{
			displayName: 'Region',
			name: 'region',
			type: 'options',
			options: [
				{ name: 'North America', value: 'NA' },
				{ name: 'Europe', value: 'EU' },
			],
			default: 'NA',
		},
		{
			displayName: 'EU Only',
			name: 'euOnly',
			type: 'string',
			default: 'eu-default',
			displayOptions: { show: { region: ['EU'] } },
		},
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'hidden',
			typeOptions: { expirable: true },
			default: '',
		},
	];

	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject) {
		const response = (await this.helpers.httpRequest({
			method: 'POST',
			url: `${credentials.baseUrl as string}/token`,
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			body: new URLSearchParams({
				grant_type: 'client_credentials',
				client_id: credentials.clientId as string,
				client_secret: credentials.clientSecret as string,
			}).toString(),
		})) as { access_token: string };
		return { accessToken: response.access_token };
	}

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { Authorization: '=Bearer {{$credentials.accessToken}}' } },
	};

	test: ICredentialTestRequest = {
		request: { baseURL: '={{$credentials.baseUrl}}', url: '/me' },
		rules: [{ type: 'responseCode', properties: { value: 401, message: 'Wrong client secret' } }],
	};
}

// ---------------------------------------------------------------------------------------------
// Throwaway node: GET /things?id=<item.json.id> with the credential; optional binary output.
// ---------------------------------------------------------------------------------------------

class TestThings implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Test Things',
		name: 'testThings',
		group: ['transform'],
		version: 1,
		description: 'Fetches things',
		defaults: { name: 'Test Things' },
		inputs: ['main'],
		outputs: ['main'],
		credentials: [{ name: 'testApi', required: true }],
		properties: [
			{ displayName: 'ID', name: 'id', type: 'string', default: '={{ $json.id }}' },
			{ displayName: 'As Binary', name: 'asBinary', type: 'boolean', default: false },
		],
	} as INodeTypeDescription;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const out: INodeExecutionData[] = [];
		const credentials = await this.getCredentials('testApi');
		this.logger.debug('testThings running', { count: items.length });
		for (let i = 0; i < items.length; i++) {
			try {
				const id = this.getNodeParameter('id', i) as string;
				const thing = (await this.helpers.httpRequestWithAuthentication.call(this, 'testApi', {
					url: `${credentials.baseUrl as string}/things`,
					qs: { id },
					json: true,
				})) as IDataObject;
				if (this.getNodeParameter('asBinary', i) as boolean) {
					const binary = await this.helpers.prepareBinaryData(
						Buffer.from(JSON.stringify(thing)),
						`thing-${id}.json`,
						'application/json',
					);
					out.push({ json: { id }, binary: { data: binary }, pairedItem: { item: i } });
				} else {
					out.push({ json: thing, pairedItem: { item: i } });
				}
			} catch (error) {
				if (this.continueOnFail()) {
					out.push({ json: { error: (error as Error).message }, pairedItem: { item: i } });
					continue;
				}
				if (error instanceof NodeApiError || error instanceof NodeOperationError) throw error;
				throw new NodeOperationError(this.getNode(), error as Error, { itemIndex: i });
			}
		}
		return [out];
	}
}

/** Reads the binary written by TestThings back through n8n's helpers. */
class TestBinaryReader implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Test Binary Reader',
		name: 'testBinaryReader',
		group: ['transform'],
		version: 1,
		description: 'Reads binary data',
		defaults: { name: 'Test Binary Reader' },
		inputs: ['main'],
		outputs: ['main'],
		properties: [],
	} as INodeTypeDescription;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const out: INodeExecutionData[] = [];
		for (let i = 0; i < items.length; i++) {
			const meta = this.helpers.assertBinaryData(i, 'data');
			const buffer = await this.helpers.getBinaryDataBuffer(i, 'data');
			out.push({
				json: { fileName: meta.fileName ?? '', mimeType: meta.mimeType, text: buffer.toString('utf8') },
				pairedItem: { item: i },
			});
		}
		return [out];
	}
}

/** Waits on the execution's abort signal (or 30 s). */
class TestWaiter implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Test Waiter',
		name: 'testWaiter',
		group: ['transform'],
		version: 1,
		description: 'Waits until cancelled',
		defaults: { name: 'Test Waiter' },
		inputs: ['main'],
		outputs: ['main'],
		properties: [],
	} as INodeTypeDescription;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const signal = this.getExecutionCancelSignal();
		const aborted = await new Promise<boolean>((resolve) => {
			const t = setTimeout(() => resolve(false), 30_000);
			signal?.addEventListener('abort', () => {
				clearTimeout(t);
				resolve(true);
			});
		});
		return [[{ json: { aborted } }]];
	}
}

const nodeTypes = [new TestThings(), new TestBinaryReader(), new TestWaiter()];
const credentialTypes = [new TestApi()];

function freshStore(secret = 'right-secret'): HarnessCredentialStore {
	return { testApi: { baseUrl, clientId: 'client-1', clientSecret: secret, accessToken: '' } };
}

before(async () => {
	server = createServer(handle);
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
	await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('runWorkflow (n8n-core engine in-process)', () => {
	test('a run produces items, keeps pairedItem, fetches a token first and stores it', async () => {
		const credentials = freshStore();
		const before = state.tokensIssued;
		const result = await runWorkflow({
			nodeTypes,
			credentialTypes,
			credentials,
			workflow: chain([{ type: 'testThings', name: 'Things', parameters: {} }], {
				items: [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
			}),
		});
		assert.equal(result.error, undefined);
		assert.equal(result.status, 'success');
		assert.deepEqual(result.nodeExecutionOrder, ['Start', 'Things']);
		const items = result.outputs.Things[0];
		assert.deepEqual(
			items.map((i) => i.json),
			[
				{ id: 'a', name: 'thing a' },
				{ id: 'b', name: 'thing b' },
				{ id: 'c', name: 'thing c' },
			],
		);
		assert.deepEqual(
			items.map((i) => i.pairedItem),
			[{ item: 0 }, { item: 1 }, { item: 2 }],
		);
		// preAuthentication ran once (empty expirable field), the token was written back.
		assert.equal(state.tokensIssued, before + 1);
		assert.equal(credentials.testApi.accessToken, state.validToken);
		assert.equal(credentials.testApi.clientSecret, 'right-secret');
		// the node's this.logger reached the harness logger
		assert.ok(harnessLogs.some((l) => l.message === 'testThings running'));
	});

	test('inputItems feed the start node when it has no items parameter', async () => {
		const result = await runWorkflow({
			nodeTypes,
			credentialTypes,
			credentials: freshStore(),
			workflow: chain([{ type: 'testThings', name: 'Things', parameters: {} }]),
			inputItems: [{ json: { id: 'x' } }],
		});
		assert.deepEqual(result.outputs.Things[0].map((i) => i.json), [{ id: 'x', name: 'thing x' }]);
		assert.deepEqual(result.outputs.Start[0].map((i) => i.json), [{ id: 'x' }]);
	});

	test('a 401 makes n8n-core call preAuthentication again and the new token is stored', async () => {
		const credentials = freshStore();
		credentials.testApi.accessToken = 'stale-token';
		const before = state.tokensIssued;
		const result = await runWorkflow({
			nodeTypes,
			credentialTypes,
			credentials,
			workflow: chain([{ type: 'testThings', name: 'Things', parameters: { id: 'r' } }]),
		});
		assert.equal(result.error, undefined);
		assert.deepEqual(result.outputs.Things[0].map((i) => i.json), [{ id: 'r', name: 'thing r' }]);
		assert.equal(state.tokensIssued, before + 1);
		assert.equal(credentials.testApi.accessToken, `token-${before + 1}`);
		const pre = result.credentialsHelper.events.filter((e) => e.kind === 'preAuthentication');
		assert.deepEqual(pre, [{ kind: 'preAuthentication', type: 'testApi', expired: true }]);
		const things = state.requests.filter((r) => r.url === '/things?id=r');
		assert.deepEqual(
			things.map((r) => r.authorization),
			['Bearer stale-token', `Bearer token-${before + 1}`],
		);
	});

	test('credential defaults follow displayOptions like n8n', async () => {
		const { HarnessCredentialsHelper } = await import('./harness');
		const helper = new HarnessCredentialsHelper(credentialTypes, {
			testApi: { baseUrl: 'http://x', clientSecret: 's' },
			euApi: {},
		});
		const na = await helper.getDecrypted({} as never, { id: '1', name: 'a' }, 'testApi', 'manual');
		assert.equal(na.clientId, 'client-1');
		assert.equal(na.region, 'NA');
		assert.equal('euOnly' in na, false);
		helper.store.testApi.region = 'EU';
		const eu = await helper.getDecrypted({} as never, { id: '1', name: 'a' }, 'testApi', 'manual');
		assert.equal(eu.euOnly, 'eu-default');
	});

	test('a failing item stops the run with a NodeApiError', async () => {
		const result = await runWorkflow({
			nodeTypes,
			credentialTypes,
			credentials: freshStore(),
			workflow: chain([{ type: 'testThings', name: 'Things', parameters: {} }], {
				items: [{ id: 'a' }, { id: 'missing' }],
			}),
		});
		assert.ok(result.error instanceof NodeApiError, `got ${String(result.error)}`);
		assert.equal((result.error as NodeApiError).httpCode, '404');
		assert.equal(result.status, 'error');
		assert.ok(result.nodeErrors.Things instanceof NodeApiError);
		assert.equal(result.outputs.Things, undefined);
	});

	test('onError: continueRegularOutput keeps going and outputs the error item', async () => {
		const result = await runWorkflow({
			nodeTypes,
			credentialTypes,
			credentials: freshStore(),
			workflow: chain(
				[{ type: 'testThings', name: 'Things', parameters: {}, onError: 'continueRegularOutput' }],
				{ items: [{ id: 'a' }, { id: 'missing' }, { id: 'c' }] },
			),
		});
		assert.equal(result.error, undefined);
		const json = result.outputs.Things[0].map((i) => i.json);
		assert.deepEqual(json[0], { id: 'a', name: 'thing a' });
		assert.match(String(json[1].error), /could not be found|404|no such thing/i);
		assert.deepEqual(json[2], { id: 'c', name: 'thing c' });
	});

	test('continueOnFail (legacy flag) behaves the same', async () => {
		const result = await runWorkflow({
			nodeTypes,
			credentialTypes,
			credentials: freshStore(),
			workflow: chain([{ type: 'testThings', name: 'Things', parameters: {}, continueOnFail: true }], {
				items: [{ id: 'missing' }],
			}),
		});
		assert.equal(result.error, undefined);
		assert.equal(result.outputs.Things[0].length, 1);
		assert.ok(typeof result.outputs.Things[0][0].json.error === 'string');
	});

	test('cancellation aborts the execution signal seen by the running node', async () => {
		const result = await runWorkflow({
			nodeTypes,
			credentialTypes,
			workflow: chain([
				{ type: 'testWaiter', name: 'Wait', parameters: {} },
				{ type: 'testBinaryReader', name: 'Never', parameters: {} },
			]),
			cancelAfterMs: 200,
		});
		assert.equal(result.cancelled, true);
		assert.equal(result.status, 'canceled');
		assert.equal(result.outputs.Never, undefined);
		assert.ok(result.error, 'a cancelled run carries an error');
		assert.match(result.error.message, /cancel/i);
	});

	test('cancellation through an AbortSignal', async () => {
		const controller = new AbortController();
		const promise = runWorkflow({
			nodeTypes,
			credentialTypes,
			workflow: chain([{ type: 'testWaiter', name: 'Wait', parameters: {} }]),
			abortSignal: controller.signal,
		});
		setTimeout(() => controller.abort(), 100);
		const result = await promise;
		assert.equal(result.cancelled, true);
		assert.equal(result.status, 'canceled');
	});

	test('binary data round trip (prepareBinaryData → getBinaryDataBuffer)', async () => {
		const result = await runWorkflow({
			nodeTypes,
			credentialTypes,
			credentials: freshStore(),
			workflow: chain(
				[
					{ type: 'testThings', name: 'Things', parameters: { asBinary: true } },
					{ type: 'testBinaryReader', name: 'Reader', parameters: {} },
				],
				{ items: [{ id: 'bin' }] },
			),
		});
		assert.equal(result.error, undefined);
		const binary = result.outputs.Things[0][0].binary?.data;
		assert.ok(binary);
		assert.equal(binary.mimeType, 'application/json');
		assert.equal(binary.fileName, 'thing-bin.json');
		assert.deepEqual(result.outputs.Reader[0].map((i) => i.json), [
			{
				fileName: 'thing-bin.json',
				mimeType: 'application/json',
				text: JSON.stringify({ id: 'bin', name: 'thing bin' }),
			},
		]);
	});
});

describe('testCredential (n8n CredentialsTester, request branch)', () => {
	test('OK with the right secret (preAuthentication runs, token used)', async () => {
		const before = state.tokensIssued;
		const result = await testCredential(new TestApi(), {
			baseUrl,
			clientId: 'client-1',
			clientSecret: 'right-secret',
			accessToken: 'whatever-old',
		});
		assert.deepEqual(result, { status: 'OK', message: 'Connection successful!' });
		assert.equal(state.tokensIssued, before + 1);
		const last = state.requests.filter((r) => r.url === '/me').pop();
		assert.equal(last?.authorization, `Bearer token-${before + 1}`);
	});

	test('Error with the wrong secret', async () => {
		const result = await testCredential(new TestApi(), {
			baseUrl,
			clientId: 'client-1',
			clientSecret: 'wrong-secret',
			accessToken: '',
		});
		assert.equal(result.status, 'Error');
		assert.notEqual(result.message, '');
		assert.doesNotMatch(result.message, /wrong-secret/);
	});

	test('Error when the server is unreachable', async () => {
		const result = await testCredential(new TestApi(), {
			baseUrl: 'http://127.0.0.1:1',
			clientSecret: 'right-secret',
		});
		assert.equal(result.status, 'Error');
	});
});
