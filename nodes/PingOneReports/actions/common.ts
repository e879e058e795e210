import type { IDataObject, IExecuteFunctions, INodeProperties, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { linkExpiresAt } from '../lib/links';
import {
	PollCancelledError,
	PollTimeoutError,
	ReportFailedError,
	pollUntilReady,
} from '../lib/polling';
import { apiRequest, cancelSignal } from '../transport';

export const DEVICES_REPORT_TEMPLATE_ID = 'db632bfd-7054-4bde-b108-a384aac2d513';

export interface PingOneReport extends IDataObject {
	id: string;
	status?: string;
	deliverAs?: string;
	zipPassword?: string;
	csvPresignedUrl?: string;
	jsonPresignedUrl?: string;
}

/** The `reportId` parameter, shown for the given operations. */
export function reportIdProperty(operations: string[]): INodeProperties {
	return {
		displayName: 'Report ID',
		name: 'reportId',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. 0fe52654-ff7a-4c90-8d80-1af1a745c097',
		description: 'The ID of the report, usually taken from the output of a Create operation before this node',
		hint: 'After a Create operation, drag its ID field here, or use the expression {{ $json.id }}',
		displayOptions: { show: { resource: ['report'], operation: operations } },
	};
}

export const pollOptions: INodeProperties[] = [
	{
		displayName: 'Poll Interval (Seconds)',
		name: 'pollInterval',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 5,
		description: 'How long to wait between two status checks at first; the wait grows slowly up to 30 seconds',
	},
	{
		displayName: 'Timeout (Seconds)',
		name: 'timeout',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 600,
		description: 'How long to wait for the report in all before failing',
	},
];

export function getReportId(ctx: IExecuteFunctions, itemIndex: number): string {
	const value = ctx.getNodeParameter('reportId', itemIndex, '') as unknown;
	const id = typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
	if (!id) {
		throw new NodeOperationError(ctx.getNode(), 'Report ID is empty', {
			itemIndex,
			description:
				'Set Report ID, for example to {{ $json.id }} after a Create operation.',
		});
	}
	if (!/^[A-Za-z0-9._-]+$/.test(id) || /^\.+$/.test(id)) {
		throw new NodeOperationError(ctx.getNode(), `Report ID "${id}" is not a valid ID`, {
			itemIndex,
			description: 'A report ID looks like 0fe52654-ff7a-4c90-8d80-1af1a745c097.',
		});
	}
	return id;
}

export async function fetchReport(
	ctx: IExecuteFunctions,
	reportId: string,
	itemIndex: number,
	deadline?: number,
): Promise<PingOneReport> {
	return (await apiRequest.call(ctx, {
		method: 'GET',
		path: `/dataExplorations/${encodeURIComponent(reportId)}`,
		itemIndex,
		what: 'Get report',
		deadline,
	})) as PingOneReport;
}

const SECRET_FIELDS = ['zipPassword', 'csvPresignedUrl', 'jsonPresignedUrl'];

/** The report as output: download secrets left out unless asked for, and `linksExpireAt` added. */
export function reportForOutput(report: PingOneReport, includeSecrets: boolean): IDataObject {
	const out: IDataObject = { ...report };
	const link = report.csvPresignedUrl ?? report.jsonPresignedUrl;
	if (link) {
		const expires = linkExpiresAt(link);
		if (expires) out.linksExpireAt = expires.toUTC().toISO();
	}
	if (!includeSecrets) {
		for (const key of SECRET_FIELDS) delete out[key];
	}
	return out;
}

export interface WaitSettings {
	pollInterval: number;
	timeout: number;
}

export function readWaitSettings(ctx: IExecuteFunctions, itemIndex: number): WaitSettings {
	const options = ctx.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const pollInterval = Number(options.pollInterval ?? 5);
	const timeout = Number(options.timeout ?? 600);
	if (!Number.isFinite(pollInterval) || pollInterval <= 0) {
		throw new NodeOperationError(ctx.getNode(), 'Poll Interval must be a positive number of seconds', {
			itemIndex,
		});
	}
	if (!Number.isFinite(timeout) || timeout <= 0) {
		throw new NodeOperationError(ctx.getNode(), 'Timeout must be a positive number of seconds', {
			itemIndex,
		});
	}
	return { pollInterval, timeout };
}

/** Polls the report until SUCCESS; other statuses, the timeout and cancellation end it with a clear error. */
export async function waitForReport(
	ctx: IExecuteFunctions,
	reportId: string,
	itemIndex: number,
	settings: WaitSettings,
): Promise<PingOneReport> {
	const node = ctx.getNode();
	// Retries inside one check (429, 503, ...) stop at the wait's own deadline too.
	const deadline = Date.now() + settings.timeout * 1000;
	try {
		return await pollUntilReady(async () => await fetchReport(ctx, reportId, itemIndex, deadline), {
			intervalMs: settings.pollInterval * 1000,
			timeoutMs: settings.timeout * 1000,
			signal: cancelSignal(ctx),
			onPoll: ({ attempt, status, elapsedMs, nextDelayMs }) => {
				const message = `PingOne Reports: report ${reportId} is ${status ?? 'without status'} after ${Math.round(elapsedMs / 1000)} s (check ${attempt})${nextDelayMs !== undefined ? `; next check in ${Math.round(nextDelayMs / 1000)} s` : ''}`;
				ctx.logger.info(message);
				if (typeof ctx.sendMessageToUI === 'function' && nextDelayMs !== undefined) ctx.sendMessageToUI(message);
			},
		});
	} catch (error) {
		if (error instanceof ReportFailedError) {
			throw new NodeOperationError(node, `Report ${reportId} ended with status ${error.status}, not SUCCESS`, {
				itemIndex,
				description: 'PingOne could not produce this report. Create it again; if it keeps failing, check its fields and filter.',
			});
		}
		if (error instanceof PollTimeoutError) {
			throw new NodeOperationError(
				node,
				`Report ${reportId} was not ready after ${Math.round(error.waitedMs / 1000)} s (last status ${error.lastStatus ?? 'unknown'})`,
				{ itemIndex, description: 'Raise the Timeout option, or narrow the report with a filter.' },
			);
		}
		if (error instanceof PollCancelledError) {
			throw new NodeOperationError(node, 'Waiting for the report was cancelled', { itemIndex });
		}
		// NodeApiError/NodeOperationError from the transport come back unchanged when wrapped again.
		if (error instanceof NodeApiError) throw new NodeApiError(node, error as unknown as JsonObject, { itemIndex });
		throw new NodeOperationError(node, error as Error, { itemIndex });
	}
}
