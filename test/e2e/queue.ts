/**
 * n8n in queue mode on one machine, for the queue-mode test: a Redis (Debian's redis-server, on a
 * free loopback port, no persistence), one n8n main instance (`n8n start`, EXECUTIONS_MODE=queue)
 * and one worker (`n8n worker`), sharing one N8N_USER_FOLDER (so one SQLite database) and one
 * N8N_ENCRYPTION_KEY. Everything is started by `startQueueCluster` and stopped by `stop()`.
 *
 * SQLite is fine for a test on one machine (n8n only warns "Scaling mode is not officially
 * supported with sqlite"); production queue mode uses PostgreSQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { ENCRYPTION_KEY, ensureN8n, freePort, type N8nCredential, type N8nInstall, type N8nWorkflow } from './n8n';

export { freePort };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function lastLines(text: string, n: number): string {
	return text.trimEnd().split('\n').slice(-n).join('\n');
}

/** A child process in its own process group, output to a log file, stoppable as a group. */
export interface ManagedProcess {
	name: string;
	child: ChildProcess;
	logFile: string;
	log(): string;
	exited(): boolean;
	stop(): Promise<void>;
}

function startProcess(name: string, command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string; logFile: string }): ManagedProcess {
	const fd = openSync(options.logFile, 'a');
	const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', fd, fd], detached: true });
	closeSync(fd);
	let done = false;
	const gone = new Promise<void>((resolve) => {
		child.once('exit', () => {
			done = true;
			resolve();
		});
		child.once('error', () => {
			done = true;
			resolve();
		});
	});
	const kill = (signal: NodeJS.Signals) => {
		try {
			if (child.pid) process.kill(-child.pid, signal);
		} catch {
			/* already gone */
		}
	};
	return {
		name,
		child,
		logFile: options.logFile,
		log: () => (existsSync(options.logFile) ? readFileSync(options.logFile, 'utf8') : ''),
		exited: () => done,
		stop: async () => {
			if (!done) {
				kill('SIGTERM');
				const timer = setTimeout(() => kill('SIGKILL'), 15_000);
				await gone;
				clearTimeout(timer);
			}
			kill('SIGKILL'); // anything left in the group (n8n's task runner)
		},
	};
}

async function waitFor(what: string, proc: ManagedProcess, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (proc.exited()) throw new Error(`${proc.name} exited before ${what}: ${lastLines(proc.log(), 25)}`);
		try {
			if (await check()) return;
		} catch {
			/* not yet */
		}
		await sleep(300);
	}
	throw new Error(`${what}: not within ${timeoutMs} ms. ${proc.name} log: ${lastLines(proc.log(), 25)}`);
}

/** Sends one inline command to Redis and returns the first reply line. */
async function redisCommand(port: number, command: string): Promise<string> {
	return await new Promise((resolve, reject) => {
		const socket = createConnection({ host: '127.0.0.1', port });
		let data = '';
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new Error('redis did not answer'));
		}, 2000);
		socket.on('connect', () => socket.write(`${command}\r\n`));
		socket.on('data', (chunk) => {
			data += chunk.toString();
			if (data.includes('\r\n')) {
				clearTimeout(timer);
				socket.end();
				resolve(data.split('\r\n')[0] ?? '');
			}
		});
		socket.on('error', (e) => {
			clearTimeout(timer);
			reject(e);
		});
	});
}

export interface RedisServer extends ManagedProcess {
	port: number;
}

/** Debian's redis-server on a free loopback port, in-memory only (no RDB, no AOF). */
export async function startRedis(workDir: string): Promise<RedisServer> {
	const port = await freePort();
	const bin = existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server';
	const proc = startProcess(
		'redis-server',
		bin,
		['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', workDir, '--protected-mode', 'yes'],
		{ env: process.env, cwd: workDir, logFile: path.join(workDir, 'redis.log') },
	);
	await waitFor('redis answers PING', proc, async () => (await redisCommand(port, 'PING')) === '+PONG', 20_000);
	return Object.assign(proc, { port });
}

export interface QueueClusterOptions {
	install?: N8nInstall;
	customExtensions?: string[];
	credentials?: N8nCredential[];
	/** Imported, then published (activated) so their production webhooks are live. */
	workflows: N8nWorkflow[];
	/** Extra environment for main and worker. */
	env?: Record<string, string>;
	workerConcurrency?: number;
	startTimeoutMs?: number;
}

export interface QueueCluster {
	install: N8nInstall;
	/** http://127.0.0.1:<port> of the main instance. */
	url: string;
	userFolder: string;
	redis: RedisServer;
	main: ManagedProcess;
	worker: ManagedProcess;
	/** Runs a SQL query against n8n's SQLite database (read-only) with Node 24's node:sqlite. */
	query(sql: string): Promise<Array<Record<string, unknown>>>;
	/** The run data of an execution (n8n stores it flatted in execution_data). */
	executionData(executionId: string): Promise<any>;
	stop(): Promise<void>;
}

function n8nEnv(install: N8nInstall, userFolder: string, extra: Record<string, string>): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [k, v] of Object.entries(process.env)) {
		if (!k.startsWith('N8N_') && !k.startsWith('DB_') && !k.startsWith('EXECUTIONS_') && !k.startsWith('QUEUE_')) env[k] = v;
	}
	return Object.assign(env, {
		PATH: `${path.dirname(install.nodeBin)}${path.delimiter}${process.env.PATH ?? ''}`,
		N8N_USER_FOLDER: userFolder,
		N8N_ENCRYPTION_KEY: ENCRYPTION_KEY,
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		N8N_LOG_LEVEL: 'info',
		N8N_LOG_OUTPUT: 'console',
		N8N_SECURE_COOKIE: 'false',
		...extra,
	});
}

/** Runs one n8n CLI command to completion (imports, publishing); throws with its log on failure. */
async function n8nCommand(install: N8nInstall, args: string[], env: NodeJS.ProcessEnv, logFile: string, timeoutMs = 5 * 60_000): Promise<string> {
	const proc = startProcess(`n8n ${args[0] ?? ''}`, install.nodeBin, [install.n8nBin, ...args], { env, cwd: env.N8N_USER_FOLDER ?? tmpdir(), logFile });
	const started = Date.now();
	while (!proc.exited()) {
		if (Date.now() - started > timeoutMs) {
			await proc.stop();
			throw new Error(`n8n ${args.join(' ')} timed out: ${lastLines(proc.log(), 20)}`);
		}
		await sleep(200);
	}
	await proc.stop();
	const code = proc.child.exitCode;
	if (code !== 0) throw new Error(`n8n ${args.join(' ')} exited with ${String(code)}: ${lastLines(proc.log(), 20)}`);
	return proc.log();
}

const QUERY_SCRIPT = `
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(process.argv[1], { readOnly: true });
db.exec('PRAGMA busy_timeout = 5000');
process.stdout.write(JSON.stringify(db.prepare(process.argv[2]).all()));
`;

/** Starts Redis, imports and publishes the workflows, then starts the main instance and a worker. */
export async function startQueueCluster(options: QueueClusterOptions): Promise<QueueCluster> {
	const install = options.install ?? (await ensureN8n());
	const workDir = mkdtempSync(path.join(tmpdir(), 'n8n-queue-'));
	const userFolder = path.join(workDir, 'user');
	mkdirSync(userFolder);
	const started: ManagedProcess[] = [];
	const stopAll = async () => {
		for (const p of [...started].reverse()) await p.stop();
	};
	try {
		const redis = await startRedis(workDir);
		started.push(redis);
		const common: Record<string, string> = {
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: String(redis.port),
			...(options.customExtensions?.length ? { N8N_CUSTOM_EXTENSIONS: options.customExtensions.join(';') } : {}),
			...options.env,
		};
		const cliEnv = n8nEnv(install, userFolder, { ...common, N8N_RUNNERS_BROKER_PORT: String(await freePort()) });
		const cliLog = path.join(workDir, 'cli.log');
		if (options.credentials?.length) {
			const file = path.join(workDir, 'credentials.json');
			writeFileSync(file, JSON.stringify(options.credentials, null, 2));
			await n8nCommand(install, ['import:credentials', `--input=${file}`], cliEnv, cliLog);
		}
		const wfFile = path.join(workDir, 'workflows.json');
		writeFileSync(wfFile, JSON.stringify(options.workflows.map((w) => ({ settings: { executionOrder: 'v1' }, ...w, active: false })), null, 2));
		await n8nCommand(install, ['import:workflow', `--input=${wfFile}`], cliEnv, cliLog);
		for (const wf of options.workflows) {
			if (install.version.startsWith('1.')) await n8nCommand(install, ['update:workflow', `--id=${wf.id}`, '--active=true'], cliEnv, cliLog);
			else await n8nCommand(install, ['publish:workflow', `--id=${wf.id}`], cliEnv, cliLog);
		}

		const port = await freePort();
		const mainEnv = n8nEnv(install, userFolder, {
			...common,
			N8N_PORT: String(port),
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_RUNNERS_BROKER_PORT: String(await freePort()),
		});
		const main = startProcess('n8n main', install.nodeBin, [install.n8nBin, 'start'], { env: mainEnv, cwd: userFolder, logFile: path.join(workDir, 'main.log') });
		started.push(main);
		const url = `http://127.0.0.1:${port}`;
		const startTimeoutMs = options.startTimeoutMs ?? 180_000;
		await waitFor('n8n main is ready', main, async () => (await fetch(`${url}/healthz/readiness`)).ok, startTimeoutMs);

		const workerPort = await freePort();
		const workerEnv = n8nEnv(install, userFolder, {
			...common,
			QUEUE_HEALTH_CHECK_ACTIVE: 'true',
			QUEUE_HEALTH_CHECK_PORT: String(workerPort),
			N8N_RUNNERS_BROKER_PORT: String(await freePort()),
		});
		const worker = startProcess('n8n worker', install.nodeBin, [install.n8nBin, 'worker', `--concurrency=${options.workerConcurrency ?? 2}`], {
			env: workerEnv,
			cwd: userFolder,
			logFile: path.join(workDir, 'worker.log'),
		});
		started.push(worker);
		await waitFor('n8n worker is ready', worker, async () => (await fetch(`http://127.0.0.1:${workerPort}/healthz/readiness`)).ok, startTimeoutMs);

		const dbFile = path.join(userFolder, '.n8n', 'database.sqlite');
		const query = async (sql: string) => {
			const out = path.join(workDir, `query-${Date.now()}.json`);
			const proc = startProcess('sqlite query', install.nodeBin, ['--no-warnings', '-e', QUERY_SCRIPT, dbFile, sql], { env: process.env, cwd: workDir, logFile: out });
			const deadline = Date.now() + 30_000;
			while (!proc.exited() && Date.now() < deadline) await sleep(100);
			await proc.stop();
			const text = proc.log();
			rmSync(out, { force: true });
			if (proc.child.exitCode !== 0) throw new Error(`query failed: ${lastLines(text, 10)}`);
			return JSON.parse(text) as Array<Record<string, unknown>>;
		};
		// flatted is the format n8n stores run data in; take n8n's own copy of it
		const flatted = require(require.resolve('flatted', { paths: [path.join(install.dir, 'node_modules', 'n8n')] })) as { parse(text: string): any };
		const executionData = async (executionId: string) => {
			const rows = await query(`SELECT data FROM execution_data WHERE executionId = ${Number(executionId)}`);
			const text = rows[0]?.data;
			if (typeof text !== 'string') throw new Error(`no execution_data for execution ${executionId}`);
			return flatted.parse(text);
		};
		return {
			install,
			url,
			userFolder,
			redis,
			main,
			worker,
			query,
			executionData,
			stop: async () => {
				await stopAll();
				rmSync(workDir, { recursive: true, force: true });
			},
		};
	} catch (error) {
		await stopAll();
		if (process.env.KEEP_QUEUE_FILES) console.error(`queue-mode files kept in ${workDir}`);
		else rmSync(workDir, { recursive: true, force: true });
		throw error;
	}
}
