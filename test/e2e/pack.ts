/**
 * The package as users get it: `npm pack` the repository into a tarball, and install that tarball
 * into an n8n user folder the way community packages are installed, into
 * `<N8N_USER_FOLDER>/.n8n/nodes/node_modules/<package>`.
 *
 * n8n 2.x loads every `n8n-nodes-*` (and `@scope/n8n-nodes-*`) folder it finds in
 * `<N8N_USER_FOLDER>/.n8n/nodes/node_modules` at start-up (the community-packages module's
 * `nodeLoaders()` → n8n-core's `scanDirectoryForPackages`); the `installed_packages` table only
 * feeds the "Community nodes" settings page. Node types from there are named
 * `<package-name>.<nodeName>`.
 *
 * Two ways to put the package there:
 * - `n8n`: what n8n 2.40's own installer (Settings → Community nodes → Install) does in
 *   `CommunityPackagesService.downloadPackage`: unpack the tarball into
 *   `nodes/node_modules/<package>`, drop devDependencies/peerDependencies/optionalDependencies
 *   from its package.json, `npm install` its dependencies inside that folder
 *   (`--install-strategy=shallow --ignore-scripts=true --package-lock=false …`), and record the
 *   package in `nodes/package.json`.
 * - `npm`: the manual way n8n's docs give for self-hosted and Docker installs:
 *   `cd ~/.n8n/nodes && npm install <package>` (here: the tarball), with `--omit=peer` (see below).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = path.join(__dirname, '..', '..');
export const PACKAGE_NAME = 'n8n-nodes-pingone-reports';
/** The node's type in workflow JSON once the package is installed as a community package. */
export const COMMUNITY_NODE_TYPE = `${PACKAGE_NAME}.pingOneReports`;

export interface PackedTarball {
	/** Absolute path of the .tgz. */
	tarball: string;
	/** Paths inside the tarball as `tar -tzf` lists them (`package/...`), sorted; files only. */
	entries: string[];
}

/** `npm pack` of the repository (as it is: build first) into destDir. */
export async function packTarball(destDir: string): Promise<PackedTarball> {
	mkdirSync(destDir, { recursive: true });
	const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', destDir], {
		cwd: ROOT,
		maxBuffer: 64 * 1024 * 1024,
	});
	const info = JSON.parse(stdout) as Array<{ filename: string }>;
	const filename = info[0]?.filename;
	if (!filename) throw new Error(`npm pack printed no file name: ${stdout.slice(0, 500)}`);
	const tarball = path.join(destDir, filename);
	const listing = await run('tar', ['-tzf', tarball], { maxBuffer: 64 * 1024 * 1024 });
	const entries = listing.stdout
		.split('\n')
		.map((l) => l.trim())
		.filter((l) => l && !l.endsWith('/'))
		.sort();
	return { tarball, entries };
}

export type InstallMethod = 'n8n' | 'npm';

const NPM_QUIET = ['--audit=false', '--fund=false', '--loglevel=error'];

/**
 * Installs the tarball as a community package into `<userFolder>/.n8n/nodes`. Returns the
 * package's folder. Dependencies (luxon, yauzl) come from the npm registry.
 */
export async function installCommunityPackage(userFolder: string, tarball: string, method: InstallMethod): Promise<string> {
	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	const packageDir = path.join(nodesDir, 'node_modules', PACKAGE_NAME);
	mkdirSync(nodesDir, { recursive: true });
	// npm must not pick up the repository's .npmrc or an npm project above the user folder.
	const opts = { cwd: nodesDir, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_userconfig: '/dev/null' } };
	if (method === 'npm') {
		writeFileSync(path.join(nodesDir, 'package.json'), JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2));
		// --omit=peer: npm would otherwise put a second n8n-workflow (our peer dependency, with
		// isolated-vm to compile) next to the package; n8n's own copy is the one to use.
		await run('npm', ['install', ...NPM_QUIET, '--omit=peer', tarball], opts);
		return packageDir;
	}
	mkdirSync(packageDir, { recursive: true });
	await run('tar', ['-xzf', tarball, '-C', packageDir, '--strip-components=1']);
	const pkgFile = path.join(packageDir, 'package.json');
	const { devDependencies: _d, peerDependencies: _p, optionalDependencies: _o, ...pkg } = JSON.parse(readFileSync(pkgFile, 'utf8')) as Record<string, unknown> & { version: string };
	writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
	await run(
		'npm',
		['install', ...NPM_QUIET, '--bin-links=false', '--install-strategy=shallow', '--ignore-scripts=true', '--package-lock=false'],
		{ ...opts, cwd: packageDir },
	);
	writeFileSync(
		path.join(nodesDir, 'package.json'),
		JSON.stringify({ name: 'installed-nodes', private: true, dependencies: { [PACKAGE_NAME]: pkg.version } }, null, 2),
	);
	return packageDir;
}

/** A copy of a workflow with every node of `fromType` switched to `toType`. */
export function withNodeType<T extends { nodes: unknown[] }>(workflow: T, fromType: string, toType: string): T {
	const copy = JSON.parse(JSON.stringify(workflow)) as T;
	for (const node of copy.nodes as Array<{ type?: string }>) {
		if (node.type === fromType) node.type = toType;
	}
	return copy;
}
