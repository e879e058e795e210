const path = require('path');
const { task, src, dest } = require('gulp');

task('build:icons', copyIcons);


function copyIcons() {
	// Icons, and the codex files (<Node>.node.json) that n8n reads beside each built node.
	const nodeSource = path.resolve('nodes', '**', '*.{png,svg,node.json}');
	const nodeDestination = path.resolve('dist', 'nodes');
	src(nodeSource, { encoding: false }).pipe(dest(nodeDestination));

	const credSource = path.resolve('credentials', '**', '*.{png,svg}');
	const credDestination = path.resolve('dist', 'credentials');
	return src(credSource, { encoding: false }).pipe(dest(credDestination));
}
