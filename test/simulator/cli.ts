// Runs the PingOne simulator as its own process (demo and end-to-end runs with a real n8n).
//   npx tsx test/simulator/cli.ts --port 8089 --rows 10000 --log /tmp/sim.jsonl
// Prints ONE JSON line {"baseUrl","apiUrl","authUrl","environmentId"} on stdout when ready,
// appends one JSON line per request to --log, exits cleanly on SIGTERM / SIGINT.
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startSimulator, type SimulatorClient, type SimulatorOptions } from './index';

const USAGE = `Usage: tsx test/simulator/cli.ts [options]
  --port N                    listen port (default 0: any free port)
  --host ADDR                 listen address (default 127.0.0.1)
  --environment-id UUID       environment id
  --access-token T            static bearer token accepted (repeatable; default sim-static-token)
  --client ID:SECRET[:basic|post]   worker app for client_credentials (repeatable; default sim-client:sim-secret:basic)
  --denied-client ID          tokens of this client get 403 INSUFFICIENT_PERMISSIONS (repeatable)
  --token-lifetime S          seconds (default 3600)
  --polls-before-success N    GETs answering IN_PROGRESS (default 2)
  --final-status S            status after polling (default SUCCESS)
  --link-ttl S                presigned link lifetime, seconds (default 300)
  --report-ttl S              report lifetime, seconds (default 1800)
  --rows N                    device rows (default 25)
  --zip-encryption aes256|zipcrypto   (default aes256)
  --seed N                    data seed (default 1)
  --no-create-rate-limit      disable the one-create-per-5-s rule
  --create-rate-limit-seconds S   (default 5)
  --log PATH                  append the request log as JSON lines
  --stop-on-stdin-end         also stop when stdin closes (no orphan if the parent dies)
  --help`;

function num(name: string, v: string | undefined): number | undefined {
	if (v === undefined) return undefined;
	const n = Number(v);
	if (!Number.isFinite(n) || n < 0) {
		process.stderr.write(`--${name}: not a non-negative number: ${v}\n`);
		process.exit(2);
	}
	return n;
}

function parseClient(spec: string): SimulatorClient {
	const m = /^([^:]+):(.+?)(?::(basic|post))?$/.exec(spec);
	if (!m) {
		process.stderr.write('--client: expected ID:SECRET[:basic|post]\n');
		process.exit(2);
	}
	return { clientId: m[1], clientSecret: m[2], authMethod: (m[3] as 'basic' | 'post' | undefined) ?? 'basic' };
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			port: { type: 'string' },
			host: { type: 'string' },
			'environment-id': { type: 'string' },
			'access-token': { type: 'string', multiple: true },
			client: { type: 'string', multiple: true },
			'denied-client': { type: 'string', multiple: true },
			'token-lifetime': { type: 'string' },
			'polls-before-success': { type: 'string' },
			'final-status': { type: 'string' },
			'link-ttl': { type: 'string' },
			'report-ttl': { type: 'string' },
			rows: { type: 'string' },
			'zip-encryption': { type: 'string' },
			seed: { type: 'string' },
			'no-create-rate-limit': { type: 'boolean' },
			'create-rate-limit-seconds': { type: 'string' },
			log: { type: 'string' },
			'stop-on-stdin-end': { type: 'boolean' },
			help: { type: 'boolean' },
		},
		strict: true,
	});
	if (values.help) {
		process.stdout.write(USAGE + '\n');
		return;
	}
	const enc = values['zip-encryption'];
	if (enc !== undefined && enc !== 'aes256' && enc !== 'zipcrypto') {
		process.stderr.write('--zip-encryption: aes256 or zipcrypto\n');
		process.exit(2);
	}
	const logPath = values.log;
	const opts: SimulatorOptions = {
		port: num('port', values.port),
		host: values.host,
		environmentId: values['environment-id'],
		accessTokens: values['access-token'],
		clients: values.client?.map(parseClient),
		deniedClients: values['denied-client'],
		tokenLifetimeSeconds: num('token-lifetime', values['token-lifetime']),
		pollsBeforeSuccess: num('polls-before-success', values['polls-before-success']),
		finalStatus: values['final-status'],
		linkTtlSeconds: num('link-ttl', values['link-ttl']),
		reportTtlSeconds: num('report-ttl', values['report-ttl']),
		rows: num('rows', values.rows),
		zipEncryption: enc as 'aes256' | 'zipcrypto' | undefined,
		seed: num('seed', values.seed),
		createRateLimit: values['no-create-rate-limit'] ? false : undefined,
		createRateLimitSeconds: num('create-rate-limit-seconds', values['create-rate-limit-seconds']),
		onLog: logPath ? (entry) => appendFileSync(logPath, JSON.stringify(entry) + '\n') : undefined,
	};
	const sim = await startSimulator(opts);
	let stopping = false;
	const stop = (): void => {
		if (stopping) return;
		stopping = true;
		sim.close().then(
			() => process.exit(0),
			(err: unknown) => {
				process.stderr.write(`simulator: close failed: ${String(err)}\n`);
				process.exit(1);
			},
		);
	};
	process.on('SIGTERM', stop);
	process.on('SIGINT', stop);
	if (values['stop-on-stdin-end']) {
		process.stdin.on('end', stop);
		process.stdin.on('close', stop);
		process.stdin.resume();
	}
	process.stdout.write(
		JSON.stringify({ baseUrl: sim.baseUrl, apiUrl: sim.apiUrl, authUrl: sim.authUrl, environmentId: sim.environmentId }) + '\n',
	);
}

main().catch((err: unknown) => {
	process.stderr.write(`simulator: ${err instanceof Error ? err.message : String(err)}\n`);
	process.exit(1);
});
