import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { apiRequest } from '../transport';
import { DEVICES_REPORT_TEMPLATE_ID, type PingOneReport, reportForOutput } from './common';

const show = { resource: ['report'], operation: ['create'] };

export const description: INodeProperties[] = [
	{
		displayName: 'Template ID',
		name: 'templateId',
		type: 'string',
		required: true,
		default: DEVICES_REPORT_TEMPLATE_ID,
		description:
			'The report template. The default is PingOne\'s "Devices report" (MFA devices of the environment\'s users).',
		displayOptions: { show },
	},
	{
		displayName: 'Fields',
		name: 'fields',
		type: 'string',
		typeOptions: { multipleValues: true, multipleValueButtonText: 'Add Field' },
		default: [],
		placeholder: 'e.g. userId',
		description:
			'The columns of the report, one name each (e.g. userId, username, phone, deviceStatus, deviceId). Leave empty for the template\'s default columns. A comma-separated list in one entry works too.',
		displayOptions: { show },
	},
	{
		displayName: 'Filter',
		name: 'filter',
		type: 'string',
		default: '',
		placeholder: 'e.g. (mfaEnabled eq "true") and (deviceType eq "SMS")',
		description: 'Optional SCIM-style filter on the report\'s rows. Leave empty for all rows.',
		hint: 'Examples: (mfaEnabled eq "true"), (deviceType eq "SMS")',
		displayOptions: { show },
	},
	{
		displayName: 'Deliver As',
		name: 'deliverAs',
		type: 'options',
		options: [
			{
				name: 'File (ASYNC_FILE)',
				value: 'ASYNC_FILE',
				description: 'Zipped CSV and JSON files, read with Download. Best for large reports.',
			},
			{
				name: 'Entries (ENTRIES)',
				value: 'ENTRIES',
				description: 'Results kept with the report, read page by page with Get Entries',
			},
		],
		default: 'ASYNC_FILE',
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
				displayName: 'Synchronous',
				name: 'sync',
				type: 'boolean',
				default: false,
				description: 'Whether PingOne builds the results before answering (sends sync: "true"); for small Entries reports',
			},
		],
	},
];

function readFields(ctx: IExecuteFunctions, itemIndex: number): string[] {
	const raw = ctx.getNodeParameter('fields', itemIndex, []) as unknown;
	const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
	const names: string[] = [];
	for (const entry of list) {
		if (typeof entry !== 'string') {
			throw new NodeOperationError(ctx.getNode(), 'Fields must be a list of field names', { itemIndex });
		}
		for (const name of entry.split(',')) {
			const trimmed = name.trim();
			if (trimmed && !names.includes(trimmed)) names.push(trimmed);
		}
	}
	for (const name of names) {
		if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) {
			throw new NodeOperationError(ctx.getNode(), `Field name "${name}" is not valid`, {
				itemIndex,
				description: 'Field names are single words such as userId or deviceStatus.',
			});
		}
	}
	return names;
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const templateId = String(this.getNodeParameter('templateId', itemIndex, DEVICES_REPORT_TEMPLATE_ID)).trim();
	if (!templateId) {
		throw new NodeOperationError(this.getNode(), 'Template ID is empty', {
			itemIndex,
			description: `Use ${DEVICES_REPORT_TEMPLATE_ID} for the Devices report.`,
		});
	}
	const fields = readFields(this, itemIndex);
	const filter = String(this.getNodeParameter('filter', itemIndex, '')).trim();
	const deliverAs = this.getNodeParameter('deliverAs', itemIndex, 'ASYNC_FILE') as string;
	const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const body: IDataObject = { dataExplorationTemplate: { id: templateId }, deliverAs };
	if (fields.length) body.fields = fields.map((name) => ({ name }));
	if (filter) body.filter = filter;
	if (options.sync === true) body.sync = 'true';
	const report = (await apiRequest.call(this, {
		method: 'POST',
		path: '/dataExplorations',
		body,
		itemIndex,
		what: 'Create report',
	})) as PingOneReport;
	return [{ json: reportForOutput(report, false), pairedItem: { item: itemIndex } }];
}
