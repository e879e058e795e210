/**
 * `npm run demo`: a real n8n runs "Manual Trigger → Create → Wait Until Ready → Download" with this
 * package against the built-in PingOne simulator, and this prints what the Download node output.
 *   npm run demo -- --rows 50000 --format json
 */
import { runMainJob } from './main-job';

function arg(name: string, fallback: string): string {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main() {
	const rows = Number(arg('rows', '10000'));
	const format = arg('format', 'csv') as 'csv' | 'json';
	const result = await runMainJob({ rows, format });
	const downloads = result.requestLog.filter((e) => e.kind === 'download');
	console.log('');
	console.log(`n8n run finished in ${(result.run.durationMs / 1000).toFixed(1)} s`);
	console.log(`Report ${result.reportId}: the Download node output ${result.rows.length} items (${format.toUpperCase()} rows; the simulator generated ${result.expectedRows.length}).`);
	console.log('First rows:');
	for (const row of result.rows.slice(0, 3)) console.log(`  ${JSON.stringify(row)}`);
	console.log('Simulator request log:');
	for (const e of result.requestLog) {
		console.log(`  ${e.method} ${e.path} -> ${e.status} (authorization: ${e.authorization})`);
	}
	const leaked = downloads.filter((e) => e.authorization !== 'none');
	console.log(
		`Download requests: ${downloads.length}, with an Authorization header: ${leaked.length}`,
	);
	if (result.rows.length !== result.expectedRows.length || leaked.length > 0) process.exit(1);
}

main().catch((error) => {
	console.error(error instanceof Error ? error.stack ?? error.message : error);
	process.exit(1);
});
