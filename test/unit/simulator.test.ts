// Tests of the PingOne simulator itself (test infrastructure), through plain fetch and the real
// 7-Zip binary as the independent zip oracle.
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startSimulator, DEVICES_TEMPLATE_ID, type Simulator, type SimulatorOptions } from '../simulator/index';

const TOKEN = 'sim-static-token';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Res {
	status: number;
	headers: Headers;
	json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
	text: string;
}

async function call(
	sim: Simulator,
	method: string,
	path: string,
	opts: { token?: string | null; body?: unknown; env?: string } = {},
): Promise<Res> {
	const headers: Record<string, string> = {};
	const token = opts.token === undefined ? TOKEN : opts.token;
	if (token !== null) headers.authorization = `Bearer ${token}`;
	if (opts.body !== undefined) headers['content-type'] = 'application/json';
	const env = opts.env ?? sim.environmentId;
	const res = await fetch(`${sim.apiUrl}/environments/${env}${path}`, {
		method,
		headers,
		body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
	});
	const text = await res.text();
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch {
		json = undefined;
	}
	return { status: res.status, headers: res.headers, json, text };
}

const createBody = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
	dataExplorationTemplate: { id: DEVICES_TEMPLATE_ID },
	deliverAs: 'ASYNC_FILE',
	...extra,
});

async function createAndFinish(sim: Simulator, extra: Record<string, unknown> = {}): Promise<{ id: string; done: any }> {
	const created = await call(sim, 'POST', '/dataExplorations', { body: createBody(extra) });
	assert.equal(created.status, 201, created.text);
	let done: Res | undefined;
	for (let i = 0; i < 10; i++) {
		done = await call(sim, 'GET', `/dataExplorations/${created.json.id}`);
		if (done.json.status !== 'IN_PROGRESS') break;
	}
	return { id: created.json.id, done: done!.json };
}

function run(cmd: string, args: string[]): Promise<string> {
	return new Promise((resolve, reject) => {
		execFile(cmd, args, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} failed: ${stderr}`)) : resolve(stdout)));
	});
}

/** Extracts the zip with 7zz; returns the single entry's name and bytes, plus 7zz's listing. */
async function unzip(zip: Buffer, password: string): Promise<{ names: string[]; data: Buffer; listing: string }> {
	const dir = await mkdtemp(join(tmpdir(), 'simtest-'));
	try {
		const zipPath = join(dir, 'in.zip');
		await writeFile(zipPath, zip);
		const listing = await run('7zz', ['l', '-slt', `-p${password}`, zipPath]);
		await run('7zz', ['x', '-y', '-bso0', '-bsp0', `-p${password}`, `-o${join(dir, 'out')}`, zipPath]);
		const names = await readdir(join(dir, 'out'));
		const data = await readFile(join(dir, 'out', names[0]));
		return { names, data, listing };
	} finally {
		await rm(dir, { recursive: true, force: true });
	}
}

/** Minimal RFC 4180 parser for checking the simulator's CSV (independent of its writer). */
function parseCsv(text: string): string[][] {
	const rows: string[][] = [];
	let row: string[] = [];
	let cell = '';
	let i = 0;
	let quoted = false;
	while (i < text.length) {
		const c = text[i];
		if (quoted) {
			if (c === '"' && text[i + 1] === '"') {
				cell += '"';
				i += 2;
			} else if (c === '"') {
				quoted = false;
				i++;
			} else {
				cell += c;
				i++;
			}
		} else if (c === '"') {
			quoted = true;
			i++;
		} else if (c === ',') {
			row.push(cell);
			cell = '';
			i++;
		} else if (c === '\r' && text[i + 1] === '\n') {
			row.push(cell);
			rows.push(row);
			row = [];
			cell = '';
			i += 2;
		} else {
			cell += c;
			i++;
		}
	}
	assert.equal(cell, '', 'CSV must end with CRLF');
	assert.equal(row.length, 0);
	return rows;
}

function csvToObjects(text: string): Record<string, string>[] {
	const [header, ...rest] = parseCsv(text);
	return rest.map((r) => Object.fromEntries(header.map((h, k) => [h, r[k]])));
}

async function withSim(opts: SimulatorOptions, fn: (sim: Simulator) => Promise<void>): Promise<void> {
	const sim = await startSimulator(opts);
	try {
		await fn(sim);
	} finally {
		await sim.close();
	}
}

describe('reports: create, poll, download', () => {
	let sim: Simulator;
	before(async () => {
		sim = await startSimulator({ createRateLimit: false });
	});
	after(() => sim.close());

	test('create answers 201 IN_PROGRESS with the documented report shape', async () => {
		const res = await call(sim, 'POST', '/dataExplorations', { body: createBody({ filter: '(mfaEnabled eq "true")' }) });
		assert.equal(res.status, 201);
		const r = res.json;
		assert.match(r.id, /^[0-9a-f-]{36}$/);
		assert.equal(r.status, 'IN_PROGRESS');
		assert.equal(r.deliverAs, 'ASYNC_FILE');
		assert.equal(r.sync, false);
		assert.deepEqual(r.environment, { id: sim.environmentId });
		assert.deepEqual(r.fields, [{ name: 'userId' }, { name: 'username' }, { name: 'phone' }, { name: 'deviceStatus' }, { name: 'deviceId' }]);
		assert.equal(r.filter, '(mfaEnabled eq "true")');
		assert.deepEqual(r.orderBy, []);
		assert.deepEqual(r.dataExplorationTemplate, { id: DEVICES_TEMPLATE_ID, name: 'Devices report' });
		assert.equal(Date.parse(r.expiresAt) - Date.parse(r.createdAt), 30 * 60 * 1000);
		assert.equal(r._links.self.href, `${sim.apiUrl}/environments/${sim.environmentId}/dataExplorations/${r.id}`);
		assert.equal(r.zipPassword, undefined);
		assert.equal(r.csvPresignedUrl, undefined);
	});

	test('GET answers IN_PROGRESS twice, then SUCCESS with password and fresh links each time', async () => {
		const created = await call(sim, 'POST', '/dataExplorations', { body: createBody() });
		const path = `/dataExplorations/${created.json.id}`;
		assert.equal((await call(sim, 'GET', path)).json.status, 'IN_PROGRESS');
		assert.equal((await call(sim, 'GET', path)).json.status, 'IN_PROGRESS');
		const a = (await call(sim, 'GET', path)).json;
		assert.equal(a.status, 'SUCCESS');
		assert.match(a.zipPassword, /^[a-z]{10}$/);
		const linkRe = new RegExp(
			`^${sim.baseUrl}/s3/devices-report-${sim.environmentId}-[0-9a-f-]{36}\\.csv\\.zip\\?.*X-Amz-Algorithm=AWS4-HMAC-SHA256`,
		);
		assert.match(a.csvPresignedUrl, linkRe);
		assert.match(a.jsonPresignedUrl, /\.json\.zip\?/);
		const u = new URL(a.csvPresignedUrl);
		assert.match(u.searchParams.get('X-Amz-Date')!, /^\d{8}T\d{6}Z$/);
		assert.equal(u.searchParams.get('X-Amz-Expires'), '300');
		assert.equal(u.searchParams.get('X-Amz-SignedHeaders'), 'host');
		assert.match(u.searchParams.get('X-Amz-Signature')!, /^[0-9a-f]{64}$/);
		const b = (await call(sim, 'GET', path)).json;
		assert.equal(b.status, 'SUCCESS');
		assert.equal(b.zipPassword, a.zipPassword, 'one password per report');
		assert.notEqual(b.csvPresignedUrl, a.csvPresignedUrl, 'every GET issues new links');
	});

	test('the CSV zip (no auth header) is AES-256, holds one entry, and opens to the expected rows', async () => {
		const fields = ['userId', 'givenName', 'familyName', 'deviceType', 'mfaEnabled', 'createdAt'].map((name) => ({ name }));
		const { id, done } = await createAndFinish(sim, { fields });
		const res = await fetch(done.csvPresignedUrl);
		assert.equal(res.status, 200);
		assert.equal(res.headers.get('content-type'), 'application/zip');
		const zip = Buffer.from(await res.arrayBuffer());
		const { names, data, listing } = await unzip(zip, done.zipPassword);
		assert.deepEqual(names, ['devices-report.csv']);
		assert.match(listing, /Encrypted = \+/);
		assert.match(listing, /Method = AES-256/);
		assert.deepEqual(data, sim.plaintext(id, 'csv'));
		const text = data.toString('utf8');
		assert.ok(text.startsWith('userId,givenName,familyName,deviceType,mfaEnabled,createdAt\r\n'));
		const rows = csvToObjects(text);
		assert.equal(rows.length, 25);
		assert.deepEqual(rows, sim.expectedRows(id));
		// the awkward values are present and survive the round trip
		const given = rows.map((r) => r.givenName);
		const family = rows.map((r) => r.familyName);
		assert.ok(given.includes('Robert "Bob"'));
		assert.ok(family.includes('Doe, Jr.'));
		assert.ok(given.some((g) => g.includes('\n')));
		assert.ok([...given, ...family].some((v) => /[^\x00-\x7f]/.test(v)));
		assert.ok(text.includes('"Robert ""Bob"""'));
		assert.ok(rows.every((r) => r.mfaEnabled === 'true' || r.mfaEnabled === 'false'));
		assert.ok(rows.every((r) => !Number.isNaN(Date.parse(r.createdAt))));
	});

	test('the JSON zip opens to a top-level array equal to the expected rows', async () => {
		const { id, done } = await createAndFinish(sim);
		const zip = Buffer.from(await (await fetch(done.jsonPresignedUrl)).arrayBuffer());
		const { names, data } = await unzip(zip, done.zipPassword);
		assert.deepEqual(names, ['devices-report.json']);
		const parsed = JSON.parse(data.toString('utf8'));
		assert.ok(Array.isArray(parsed));
		assert.deepEqual(parsed, sim.expectedRows(id));
		assert.deepEqual(Object.keys(parsed[0]), ['userId', 'username', 'phone', 'deviceStatus', 'deviceId']);
	});

	test('a download that carries an Authorization header is refused with S3 XML', async () => {
		const { done } = await createAndFinish(sim);
		const res = await fetch(done.csvPresignedUrl, { headers: { authorization: `Bearer ${TOKEN}` } });
		assert.equal(res.status, 400);
		assert.match(res.headers.get('content-type')!, /xml/);
		const xml = await res.text();
		assert.match(xml, /<Code>InvalidArgument<\/Code>/);
		assert.match(xml, /Only one auth mechanism allowed/);
		assert.ok(!xml.includes(TOKEN), 'the token is not echoed');
	});

	test('a tampered or foreign signature is refused (403 SignatureDoesNotMatch)', async () => {
		const { done } = await createAndFinish(sim);
		const u = new URL(done.csvPresignedUrl);
		u.searchParams.set('X-Amz-Signature', 'ab'.repeat(32));
		const res = await fetch(u);
		assert.equal(res.status, 403);
		assert.match(await res.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
		// the json link's signature used on the csv path
		const j = new URL(done.jsonPresignedUrl);
		const c = new URL(done.csvPresignedUrl);
		c.searchParams.set('X-Amz-Signature', j.searchParams.get('X-Amz-Signature')!);
		assert.equal((await fetch(c)).status, 403);
		// no signature at all
		assert.equal((await fetch(`${c.origin}${c.pathname}`)).status, 403);
	});

	test('filters (eq / ne with and / or) select the right rows; bad filters are 400 INVALID_DATA', async () => {
		const fields = ['deviceId', 'deviceType', 'deviceStatus'].map((name) => ({ name }));
		const all = sim.expectedRows((await createAndFinish(sim, { fields })).id);
		const { id } = await createAndFinish(sim, {
			fields,
			filter: '(deviceType eq "SMS") or (deviceType eq "VOICE" and deviceStatus ne "BLOCKED")',
		});
		const rows = sim.expectedRows(id);
		const want = all.filter((r) => r.deviceType === 'SMS' || (r.deviceType === 'VOICE' && r.deviceStatus !== 'BLOCKED'));
		assert.ok(want.length > 0 && want.length < all.length);
		assert.deepEqual(rows, want);
		for (const filter of ['(deviceType lt "SMS")', '(deviceType eq "SMS"', 'nosuchfield eq "x"', 'deviceType eq']) {
			const res = await call(sim, 'POST', '/dataExplorations', { body: createBody({ filter }) });
			assert.equal(res.status, 400, filter);
			assert.equal(res.json.code, 'INVALID_DATA');
			assert.equal(res.json.details[0].target, 'filter');
		}
	});

	test('body validation: template id required / unknown, deliverAs, fields', async () => {
		let res = await call(sim, 'POST', '/dataExplorations', { body: { deliverAs: 'ASYNC_FILE' } });
		assert.equal(res.status, 400);
		assert.equal(res.json.code, 'INVALID_DATA');
		assert.equal(res.json.details[0].target, 'dataExplorationTemplate.id');
		assert.match(res.json.id, /^[0-9a-f-]{36}$/);
		assert.equal(typeof res.json.message, 'string');
		res = await call(sim, 'POST', '/dataExplorations', { body: { dataExplorationTemplate: { id: '00000000-0000-0000-0000-000000000000' } } });
		assert.equal(res.status, 400);
		assert.equal(res.json.details[0].target, 'dataExplorationTemplate.id');
		res = await call(sim, 'POST', '/dataExplorations', { body: createBody({ deliverAs: 'EMAIL' }) });
		assert.equal(res.status, 400);
		assert.equal(res.json.details[0].target, 'deliverAs');
		res = await call(sim, 'POST', '/dataExplorations', { body: createBody({ fields: [{ name: 'userId' }, { name: 'shoeSize' }] }) });
		assert.equal(res.status, 400);
		assert.equal(res.json.details[0].target, 'fields[1].name');
		const raw = await fetch(`${sim.apiUrl}/environments/${sim.environmentId}/dataExplorations`, {
			method: 'POST',
			headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
			body: '{not json',
		});
		assert.equal(raw.status, 400);
		assert.equal(((await raw.json()) as { code: string }).code, 'INVALID_REQUEST');
	});

	test('unknown report and wrong environment answer 404 NOT_FOUND; no token answers 401', async () => {
		let res = await call(sim, 'GET', '/dataExplorations/11111111-2222-4333-8444-555555555555');
		assert.equal(res.status, 404);
		assert.equal(res.json.code, 'NOT_FOUND');
		const { id } = await createAndFinish(sim);
		res = await call(sim, 'GET', `/dataExplorations/${id}`, { env: 'abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6' });
		assert.equal(res.status, 404);
		assert.equal(res.json.code, 'NOT_FOUND');
		res = await call(sim, 'GET', `/dataExplorations/${id}`, { token: null });
		assert.equal(res.status, 401);
		assert.equal(res.json.code, 'ACCESS_FAILED');
		assert.equal(res.json.message, 'The request could not be completed. You do not have access to this resource.');
		res = await call(sim, 'GET', `/dataExplorations/${id}`, { token: 'not-a-token' });
		assert.equal(res.status, 401);
	});

	test('GET /environments/{id}: 200 with id and name; other environment 404', async () => {
		let res = await call(sim, 'GET', '');
		assert.equal(res.status, 200);
		assert.equal(res.json.id, sim.environmentId);
		assert.equal(typeof res.json.name, 'string');
		res = await call(sim, 'GET', '', { env: 'abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6' });
		assert.equal(res.status, 404);
		assert.equal(res.json.code, 'NOT_FOUND');
	});

	test('the request log has every request, no query strings and no secrets', async () => {
		const { done } = await createAndFinish(sim);
		await fetch(done.csvPresignedUrl);
		const dl = sim.log.filter((e) => e.kind === 'download' && e.status === 200);
		assert.ok(dl.length >= 1);
		assert.ok(dl.every((e) => e.authorization === 'none' && e.method === 'GET' && e.path.startsWith('/s3/')));
		const text = JSON.stringify(sim.log);
		assert.ok(!text.includes('?'));
		assert.ok(!text.includes(done.zipPassword));
		assert.ok(!text.includes(TOKEN));
		assert.ok(!text.includes(new URL(done.csvPresignedUrl).searchParams.get('X-Amz-Signature')!));
		const api = sim.log.find((e) => e.kind === 'api' && e.method === 'POST');
		assert.ok(api);
		assert.equal(api.authorization, 'bearer');
		assert.equal(api.status, 201);
		assert.ok(!Number.isNaN(Date.parse(api.at)));
	});
});

describe('links, tokens, permissions, limits', () => {
	test('an expired link answers 403 S3 XML AccessDenied; a new GET gives a working link', async () => {
		await withSim({ linkTtlSeconds: 1, pollsBeforeSuccess: 0 }, async (sim) => {
			const { id, done } = await createAndFinish(sim);
			assert.equal(new URL(done.csvPresignedUrl).searchParams.get('X-Amz-Expires'), '1');
			await sleep(1300);
			const res = await fetch(done.csvPresignedUrl);
			assert.equal(res.status, 403);
			const xml = await res.text();
			assert.match(xml, /<Code>AccessDenied<\/Code>/);
			assert.match(xml, /<Message>Request has expired<\/Message>/);
			const fresh = (await call(sim, 'GET', `/dataExplorations/${id}`)).json;
			const ok = await fetch(fresh.csvPresignedUrl);
			assert.equal(ok.status, 200);
			const { data } = await unzip(Buffer.from(await ok.arrayBuffer()), fresh.zipPassword);
			assert.deepEqual(data, sim.plaintext(id, 'csv'));
		});
	});

	test('client_credentials with HTTP Basic and with form fields; wrong secret and wrong method are invalid_client', async () => {
		const clients = [
			{ clientId: 'basic-app', clientSecret: 'b-secret:with%odd+chars', authMethod: 'basic' as const },
			{ clientId: 'post-app', clientSecret: 'p-secret', authMethod: 'post' as const },
		];
		await withSim({ clients, accessTokens: [] }, async (sim) => {
			const tokenUrl = `${sim.authUrl}/${sim.environmentId}/as/token`;
			const form = { 'content-type': 'application/x-www-form-urlencoded' };
			const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

			let res = await fetch(tokenUrl, {
				method: 'POST',
				headers: { ...form, authorization: basic('basic-app', clients[0].clientSecret) },
				body: 'grant_type=client_credentials',
			});
			assert.equal(res.status, 200);
			const t1 = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
			assert.equal(t1.token_type, 'Bearer');
			assert.equal(t1.expires_in, 3600);
			assert.equal((await call(sim, 'GET', '', { token: t1.access_token })).status, 200);
			// RFC 6749 form-encodes id and secret before Basic; that is accepted too
			res = await fetch(tokenUrl, {
				method: 'POST',
				headers: { ...form, authorization: basic('basic-app', encodeURIComponent(clients[0].clientSecret)) },
				body: 'grant_type=client_credentials',
			});
			assert.equal(res.status, 200);

			res = await fetch(tokenUrl, {
				method: 'POST',
				headers: form,
				body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'post-app', client_secret: 'p-secret' }).toString(),
			});
			assert.equal(res.status, 200);
			const t2 = (await res.json()) as { access_token: string };
			assert.notEqual(t2.access_token, t1.access_token);
			const created = await call(sim, 'POST', '/dataExplorations', { token: t2.access_token, body: createBody() });
			assert.equal(created.status, 201);

			res = await fetch(tokenUrl, {
				method: 'POST',
				headers: { ...form, authorization: basic('basic-app', 'wrong') },
				body: 'grant_type=client_credentials',
			});
			assert.equal(res.status, 401);
			const err = (await res.json()) as { error: string; error_description: string };
			assert.equal(err.error, 'invalid_client');
			assert.equal(typeof err.error_description, 'string');
			// the post-app used with Basic: wrong method
			res = await fetch(tokenUrl, {
				method: 'POST',
				headers: { ...form, authorization: basic('post-app', 'p-secret') },
				body: 'grant_type=client_credentials',
			});
			assert.equal(res.status, 401);
			assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
			res = await fetch(tokenUrl, { method: 'POST', headers: { ...form, authorization: basic('basic-app', clients[0].clientSecret) }, body: 'grant_type=password' });
			assert.equal(res.status, 400);
			assert.equal(((await res.json()) as { error: string }).error, 'unsupported_grant_type');
			// unknown environment on the token endpoint: PingOne-shaped 404
			res = await fetch(`${sim.authUrl}/abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6/as/token`, {
				method: 'POST',
				headers: { ...form, authorization: basic('basic-app', clients[0].clientSecret) },
				body: 'grant_type=client_credentials',
			});
			assert.equal(res.status, 404);
			assert.equal(((await res.json()) as { code: string }).code, 'NOT_FOUND');
			// no static tokens configured: the default one is refused
			assert.equal((await call(sim, 'GET', '')).status, 401);
		});
	});

	test('an expired client_credentials token answers 401 ACCESS_FAILED; a new one works', async () => {
		await withSim({ tokenLifetimeSeconds: 1 }, async (sim) => {
			const get = async (): Promise<string> => {
				const res = await fetch(`${sim.authUrl}/${sim.environmentId}/as/token`, {
					method: 'POST',
					headers: {
						'content-type': 'application/x-www-form-urlencoded',
						authorization: `Basic ${Buffer.from('sim-client:sim-secret').toString('base64')}`,
					},
					body: 'grant_type=client_credentials',
				});
				const body = (await res.json()) as { access_token: string; expires_in: number };
				assert.equal(body.expires_in, 1);
				return body.access_token;
			};
			const token = await get();
			assert.equal((await call(sim, 'GET', '', { token })).status, 200);
			await sleep(1200);
			const res = await call(sim, 'GET', '', { token });
			assert.equal(res.status, 401);
			assert.equal(res.json.code, 'ACCESS_FAILED');
			assert.equal((await call(sim, 'GET', '', { token: await get() })).status, 200);
		});
	});

	test('a client without permissions gets 403 ACCESS_FAILED / INSUFFICIENT_PERMISSIONS', async () => {
		await withSim({ deniedClients: ['sim-client'] }, async (sim) => {
			const res = await fetch(`${sim.authUrl}/${sim.environmentId}/as/token`, {
				method: 'POST',
				headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('sim-client:sim-secret').toString('base64')}` },
				body: 'grant_type=client_credentials',
			});
			const { access_token } = (await res.json()) as { access_token: string };
			const env = await call(sim, 'GET', '', { token: access_token });
			assert.equal(env.status, 403);
			assert.equal(env.json.code, 'ACCESS_FAILED');
			assert.equal(env.json.details[0].code, 'INSUFFICIENT_PERMISSIONS');
		});
	});

	test('one create per 5 s per environment: 429 REQUEST_LIMITED with Retry-After', async () => {
		await withSim({}, async (sim) => {
			assert.equal((await call(sim, 'POST', '/dataExplorations', { body: createBody() })).status, 201);
			const res = await call(sim, 'POST', '/dataExplorations', { body: createBody() });
			assert.equal(res.status, 429);
			assert.equal(res.json.code, 'REQUEST_LIMITED');
			const retryAfter = Number(res.headers.get('retry-after'));
			assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 5, String(retryAfter));
			assert.equal(res.json.details[0].retryAfter, retryAfter);
		});
		await withSim({ createRateLimit: false }, async (sim) => {
			assert.equal((await call(sim, 'POST', '/dataExplorations', { body: createBody() })).status, 201);
			assert.equal((await call(sim, 'POST', '/dataExplorations', { body: createBody() })).status, 201);
		});
	});

	test('a report past its expiresAt answers 404 NOT_FOUND; its last links still download', async () => {
		await withSim({ reportTtlSeconds: 1, pollsBeforeSuccess: 0 }, async (sim) => {
			const { id, done } = await createAndFinish(sim);
			await sleep(1100);
			const res = await call(sim, 'GET', `/dataExplorations/${id}`);
			assert.equal(res.status, 404);
			assert.equal(res.json.code, 'NOT_FOUND');
			assert.equal((await fetch(done.csvPresignedUrl)).status, 200);
		});
	});

	test('finalStatus other than SUCCESS: reported after polling, without password or links', async () => {
		await withSim({ finalStatus: 'FAILED', pollsBeforeSuccess: 1 }, async (sim) => {
			const { done } = await createAndFinish(sim);
			assert.equal(done.status, 'FAILED');
			assert.equal(done.zipPassword, undefined);
			assert.equal(done.csvPresignedUrl, undefined);
		});
	});
});

describe('data', () => {
	test('ZipCrypto option writes ZipCrypto zips that open to the same CSV', async () => {
		await withSim({ zipEncryption: 'zipcrypto', pollsBeforeSuccess: 0 }, async (sim) => {
			const { id, done } = await createAndFinish(sim);
			const zip = Buffer.from(await (await fetch(done.csvPresignedUrl)).arrayBuffer());
			const { data, listing } = await unzip(zip, done.zipPassword);
			assert.match(listing, /Method = ZipCrypto/);
			assert.deepEqual(csvToObjects(data.toString('utf8')), sim.expectedRows(id));
		});
	});

	test('rows are deterministic per seed and 10,000 rows zip and unzip intact', async () => {
		const rowsOf = async (seed: number, rows: number): Promise<Record<string, string>[]> => {
			let out: Record<string, string>[] = [];
			await withSim({ seed, rows, pollsBeforeSuccess: 0 }, async (sim) => {
				const { id } = await createAndFinish(sim);
				out = sim.expectedRows(id);
			});
			return out;
		};
		assert.deepEqual(await rowsOf(7, 30), await rowsOf(7, 30));
		assert.notDeepEqual(await rowsOf(7, 30), await rowsOf(8, 30));
		await withSim({ rows: 10_000, pollsBeforeSuccess: 0 }, async (sim) => {
			const { id, done } = await createAndFinish(sim, { fields: ['userId', 'deviceId', 'givenName', 'familyName', 'phone'].map((name) => ({ name })) });
			const zip = Buffer.from(await (await fetch(done.csvPresignedUrl)).arrayBuffer());
			const { data } = await unzip(zip, done.zipPassword);
			const rows = csvToObjects(data.toString('utf8'));
			assert.equal(rows.length, 10_000);
			assert.deepEqual(rows, sim.expectedRows(id));
			assert.equal(new Set(rows.map((r) => r.deviceId)).size, 10_000);
		});
	});

	test('ENTRIES reports: default deliverAs, cursor paging, and expand=entries with sync', async () => {
		await withSim({ createRateLimit: false, pollsBeforeSuccess: 0 }, async (sim) => {
			const created = await call(sim, 'POST', '/dataExplorations', { body: { dataExplorationTemplate: { id: DEVICES_TEMPLATE_ID } } });
			assert.equal(created.json.deliverAs, 'ENTRIES');
			const id = created.json.id;
			// not ready yet
			assert.equal((await call(sim, 'GET', `/dataExplorations/${id}/entries`)).status, 400);
			const done = (await call(sim, 'GET', `/dataExplorations/${id}`)).json;
			assert.equal(done.status, 'SUCCESS');
			assert.equal(done.zipPassword, undefined);
			const got: Record<string, string>[] = [];
			let href: string | undefined = `${sim.apiUrl}/environments/${sim.environmentId}/dataExplorations/${id}/entries?limit=10`;
			let pages = 0;
			while (href) {
				const res = await fetch(href, { headers: { authorization: `Bearer ${TOKEN}` } });
				assert.equal(res.status, 200);
				const page = (await res.json()) as { _links: { next?: { href: string } }; _embedded: { entries: Record<string, string>[] }; size: number };
				assert.equal(page.size, page._embedded.entries.length);
				got.push(...page._embedded.entries);
				href = page._links.next?.href;
				pages++;
			}
			assert.equal(pages, 3);
			assert.deepEqual(got, sim.expectedRows(id));
			assert.equal((await call(sim, 'GET', `/dataExplorations/${id}/entries?limit=0`)).status, 400);

			const inline = await fetch(`${sim.apiUrl}/environments/${sim.environmentId}/dataExplorations?expand=entries&limit=5`, {
				method: 'POST',
				headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
				body: JSON.stringify({ dataExplorationTemplate: { id: DEVICES_TEMPLATE_ID }, deliverAs: 'ENTRIES', sync: 'true' }),
			});
			assert.equal(inline.status, 201);
			const body = (await inline.json()) as { id: string; status: string; sync: boolean; _embedded: { entries: unknown[] }; _links: { next?: { href: string } } };
			assert.equal(body.status, 'SUCCESS');
			assert.equal(body.sync, true);
			assert.deepEqual(body._embedded.entries, sim.expectedRows(body.id).slice(0, 5));
			assert.match(body._links.next!.href, /\/entries\?limit=5&cursor=/);
			const noSync = await call(sim, 'POST', '/dataExplorations?expand=entries', { body: { dataExplorationTemplate: { id: DEVICES_TEMPLATE_ID } } });
			assert.equal(noSync.status, 400);
			// entries of an ASYNC_FILE report are refused
			const file = await createAndFinish(sim);
			assert.equal((await call(sim, 'GET', `/dataExplorations/${file.id}/entries`)).status, 400);
		});
	});
});

describe('cli', () => {
	test('prints one JSON line when ready, logs requests to --log, exits 0 on SIGTERM', async () => {
		const dir = await mkdtemp(join(tmpdir(), 'simcli-'));
		const logPath = join(dir, 'log.jsonl');
		const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../simulator/cli.ts'), '--port', '0', '--rows', '3', '--log', logPath], {
			cwd: join(__dirname, '../..'),
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		try {
			const line = await new Promise<string>((resolve, reject) => {
				createInterface({ input: child.stdout! }).once('line', resolve);
				child.once('exit', (code) => reject(new Error(`cli exited early (${code})`)));
			});
			const info = JSON.parse(line) as { baseUrl: string; apiUrl: string; authUrl: string; environmentId: string };
			assert.match(info.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
			assert.equal(info.apiUrl, `${info.baseUrl}/v1`);
			assert.equal(info.authUrl, `${info.baseUrl}/auth`);
			const res = await fetch(`${info.apiUrl}/environments/${info.environmentId}`, { headers: { authorization: `Bearer ${TOKEN}` } });
			assert.equal(res.status, 200);
			const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
			child.kill('SIGTERM');
			assert.equal(await exited, 0);
			const entries = (await readFile(logPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
			assert.equal(entries.length, 1);
			assert.equal(entries[0].path, `/v1/environments/${info.environmentId}`);
			assert.equal(entries[0].status, 200);
			assert.equal(entries[0].authorization, 'bearer');
		} finally {
			if (child.exitCode === null) child.kill('SIGKILL');
			await rm(dir, { recursive: true, force: true });
		}
	});
});
