import type {
	IBinaryKeyData,
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { needsRefresh } from '../lib/links';
import { RowParseError, readRows } from '../lib/rows';
import {
	ZipFormatError,
	ZipIntegrityError,
	ZipLimitError,
	ZipPasswordError,
	openReportEntry,
	type ReportEntry,
} from '../lib/zip';
import { downloadFile } from '../transport';
import {
	fetchReport,
	getReportId,
	pollOptions,
	readWaitSettings,
	reportIdProperty,
	waitForReport,
	type PingOneReport,
} from './common';

const show = { resource: ['report'], operation: ['download'] };

export const description: INodeProperties[] = [
	reportIdProperty(['download']),
	{
		displayName: 'Format',
		name: 'format',
		type: 'options',
		options: [
			{ name: 'CSV', value: 'csv', description: 'Every value is a string' },
			{ name: 'JSON', value: 'json', description: 'Values keep the types they have in the file' },
		],
		default: 'csv',
		description: 'Which of the two files of the report to download',
		displayOptions: { show },
	},
	{
		displayName: 'Output',
		name: 'output',
		type: 'options',
		options: [
			{ name: 'One Item per Row', value: 'items', description: 'Each row of the report becomes an item' },
			{
				name: 'File (Binary)',
				value: 'binary',
				description: 'One item holding the decrypted, unzipped CSV or JSON file',
			},
		],
		default: 'items',
		displayOptions: { show },
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show },
		options: [
			{
				displayName: 'Max Compression Ratio',
				name: 'maxCompressionRatio',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 1000,
				description:
					'Stop with an error when the file unzips to more than this many times its zipped size (report files stay far below 100)',
			},
			{
				displayName: 'Max Rows',
				name: 'maxRows',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 0,
				description:
					'For One Item per Row: output at most this many rows (0 = all). The whole file is still verified.',
				displayOptions: { show: { '/output': ['items'] } },
			},
			{
				displayName: 'Max Unzipped Size (MB)',
				name: 'maxUnzippedSizeMb',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 1024,
				description:
					'Stop with an error when the report file unzips to more than this (protects n8n from a zip bomb)',
			},
			...pollOptions,
			{
				displayName: 'Put Output File in Field',
				name: 'binaryPropertyName',
				type: 'string',
				default: 'data',
				description: 'For File output: the name of the binary field to put the file in',
				displayOptions: { show: { '/output': ['binary'] } },
			},
			{
				displayName: 'Wait Until Ready',
				name: 'waitUntilReady',
				type: 'boolean',
				default: true,
				description:
					'Whether to wait for the report to reach SUCCESS first (so Download can follow Create directly)',
			},
		],
	},
];

const MIME = { csv: 'text/csv', json: 'application/json' } as const;

/** One item per row stops here with an error: beyond it n8n's memory, not the report, is the limit. */
export const MAX_ITEMS = 10_000_000;

interface Limits {
	maxUnzippedSizeMb: number;
	maxCompressionRatio: number;
}

function readError(ctx: IExecuteFunctions, error: unknown, itemIndex: number, limits: Limits): Error {
	if (error instanceof ZipLimitError) {
		return new NodeOperationError(
			ctx.getNode(),
			error.limit === 'size'
				? `The report file unzips to more than ${limits.maxUnzippedSizeMb} MB (the Max Unzipped Size option); stopped, no rows were output`
				: `The report file unzips to more than ${limits.maxCompressionRatio} times its zipped size (the Max Compression Ratio option); stopped, no rows were output`,
			{
				itemIndex,
				description:
					'This protects n8n from zip bombs. If the report really is this large, raise the option; for very large reports use Output: File (Binary).',
			},
		);
	}
	if (error instanceof ZipPasswordError) {
		return new NodeOperationError(ctx.getNode(), error.message, {
			itemIndex,
			description:
				"The zipPassword PingOne returned for this report does not open its file. No rows were output. Run the Download again; if it persists, create the report again.",
		});
	}
	if (error instanceof ZipIntegrityError) {
		return new NodeOperationError(ctx.getNode(), error.message, {
			itemIndex,
			description: 'The downloaded file is damaged, so no rows were output. Run the Download again.',
		});
	}
	if (error instanceof ZipFormatError) {
		return new NodeOperationError(ctx.getNode(), error.message, {
			itemIndex,
			description: 'The downloaded file is not a report zip this node can read. No rows were output.',
		});
	}
	if (error instanceof RowParseError) {
		return new NodeOperationError(ctx.getNode(), error.message, {
			itemIndex,
			description: 'The report file could not be parsed, so no rows were output.',
		});
	}
	return error as Error;
}

function linkOf(report: PingOneReport, format: 'csv' | 'json'): string | undefined {
	const link = format === 'csv' ? report.csvPresignedUrl : report.jsonPresignedUrl;
	return typeof link === 'string' && link ? link : undefined;
}

/** Fetches the zip with fresh links: refreshed first when the link has < 30 s left, and once after a 403. */
async function downloadZip(
	ctx: IExecuteFunctions,
	report: PingOneReport,
	reportId: string,
	format: 'csv' | 'json',
	itemIndex: number,
	maxBytes: number,
): Promise<{ zip: Buffer; password: string }> {
	const check = (current: PingOneReport) => {
		if (current.status !== 'SUCCESS') {
			throw new NodeOperationError(
				ctx.getNode(),
				`Report ${reportId} is ${current.status ?? 'without status'}, not SUCCESS, so there is nothing to download yet`,
				{ itemIndex, description: 'Turn on the Wait Until Ready option, or put a Wait Until Ready operation before Download.' },
			);
		}
		const link = linkOf(current, format);
		if (!link || typeof current.zipPassword !== 'string') {
			throw new NodeOperationError(
				ctx.getNode(),
				`Report ${reportId} has no ${format.toUpperCase()} file to download (deliverAs ${current.deliverAs ?? 'unknown'})`,
				{
					itemIndex,
					description:
						current.deliverAs === 'ENTRIES'
							? 'This report delivers its rows as entries: use the Get Entries operation, or create it with Deliver As File.'
							: 'PingOne returned no download link and password for this report.',
				},
			);
		}
		return { link, password: current.zipPassword };
	};
	let current = report;
	let { link, password } = check(current);
	if (needsRefresh(link)) {
		current = await fetchReport(ctx, reportId, itemIndex);
		({ link, password } = check(current));
	}
	let result = await downloadFile.call(ctx, link, itemIndex, maxBytes);
	if (result.status === 403) {
		ctx.logger.info(`PingOne Reports: the download link of report ${reportId} was refused (403); getting fresh links`);
		current = await fetchReport(ctx, reportId, itemIndex);
		({ link, password } = check(current));
		result = await downloadFile.call(ctx, link, itemIndex, maxBytes);
	}
	if (result.status !== 200) {
		throw new NodeApiError(ctx.getNode(), { message: `HTTP ${result.status}` }, {
			message: `Download report file: the download host answered ${result.status}${result.errorText ? ` (${result.errorText})` : ''}`,
			description:
				result.status === 403
					? 'The link was refused even after fresh links were fetched. Links live five minutes; check the clock of the n8n host.'
					: undefined,
			httpCode: String(result.status),
			itemIndex,
		});
	}
	return { zip: result.body, password };
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const reportId = getReportId(this, itemIndex);
	const format = this.getNodeParameter('format', itemIndex, 'csv') as 'csv' | 'json';
	const output = this.getNodeParameter('output', itemIndex, 'items') as 'items' | 'binary';
	const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const settings = readWaitSettings(this, itemIndex);
	if (format !== 'csv' && format !== 'json') {
		throw new NodeOperationError(this.getNode(), `Format "${String(format)}" is not csv or json`, { itemIndex });
	}
	const maxRows = Number(options.maxRows ?? 0);
	if (!Number.isInteger(maxRows) || maxRows < 0) {
		throw new NodeOperationError(this.getNode(), 'Max Rows must be a whole number, 0 for all rows', { itemIndex });
	}
	const limits = {
		maxUnzippedSizeMb: Number(options.maxUnzippedSizeMb ?? 1024),
		maxCompressionRatio: Number(options.maxCompressionRatio ?? 1000),
	};
	for (const [name, value] of Object.entries(limits)) {
		if (!Number.isFinite(value) || value <= 0) {
			throw new NodeOperationError(this.getNode(), `${name === 'maxUnzippedSizeMb' ? 'Max Unzipped Size' : 'Max Compression Ratio'} must be a positive number`, { itemIndex });
		}
	}
	const report =
		options.waitUntilReady === false
			? await fetchReport(this, reportId, itemIndex)
			: await waitForReport(this, reportId, itemIndex, settings);
	// A zip is never much larger than what it unzips to (stored entries plus headers).
	const maxZipBytes = limits.maxUnzippedSizeMb * 1024 * 1024 + 1024 * 1024;
	const { zip, password } = await downloadZip(this, report, reportId, format, itemIndex, maxZipBytes);

	let entry: ReportEntry;
	try {
		entry = await openReportEntry(zip, {
			password,
			format,
			maxUncompressedBytes: limits.maxUnzippedSizeMb * 1024 * 1024,
			maxCompressionRatio: limits.maxCompressionRatio,
		});
	} catch (error) {
		throw readError(this, error, itemIndex, limits);
	}
	if (output === 'binary') {
		const property = String(options.binaryPropertyName ?? 'data').trim() || 'data';
		let binary: IBinaryKeyData;
		try {
			binary = { [property]: await this.helpers.prepareBinaryData(entry.stream, entry.name, MIME[format]) };
		} catch (error) {
			throw readError(this, error, itemIndex, limits);
		}
		return [
			{
				json: {
					reportId,
					fileName: entry.name,
					format,
					size: entry.uncompressedSize,
					encryption: entry.encryption,
				},
				binary,
				pairedItem: { item: itemIndex },
			},
		];
	}
	let rows: IDataObject[];
	try {
		const result = await readRows(entry.stream, format, { maxRows: maxRows || MAX_ITEMS + 1 });
		if (!maxRows && (result.totalRows ?? result.rows.length) > MAX_ITEMS) {
			throw new NodeOperationError(
				this.getNode(),
				`The report has more than ${MAX_ITEMS.toLocaleString('en-US')} rows, more than n8n can hold as items`,
				{ itemIndex, description: 'Use Output: File (Binary), or set Max Rows, or narrow the report with a filter.' },
			);
		}
		rows = result.rows as IDataObject[];
	} catch (error) {
		throw readError(this, error, itemIndex, limits);
	}
	const items: INodeExecutionData[] = new Array(rows.length);
	const pairedItem = { item: itemIndex };
	for (let i = 0; i < rows.length; i++) items[i] = { json: rows[i], pairedItem };
	return items;
}
