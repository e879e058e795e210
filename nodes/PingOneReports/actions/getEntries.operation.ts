import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { apiRequest } from '../transport';
import { getReportId, reportIdProperty } from './common';

const show = { resource: ['report'], operation: ['getEntries'] };
const MAX_PAGE_SIZE = 1000;
/** 10,000 pages of up to 1000 entries: far beyond any report PingOne keeps inline. */
const MAX_PAGES = 10_000;

export const description: INodeProperties[] = [
	reportIdProperty(['getEntries']),
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		description: 'Whether to return all results or only up to a given limit',
		displayOptions: { show },
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		description: 'Max number of results to return',
		displayOptions: { show: { ...show, returnAll: [false] } },
	},
];

interface EntriesPage extends IDataObject {
	_links?: { next?: { href?: string } };
	_embedded?: IDataObject;
}

/** The entries of a page: the one array under `_embedded` (PingOne names it after the resource). */
function entriesOf(page: EntriesPage): IDataObject[] {
	const embedded = page._embedded;
	if (!embedded || typeof embedded !== 'object') return [];
	if (Array.isArray(embedded.entries)) return embedded.entries as IDataObject[];
	const arrays = Object.values(embedded).filter(Array.isArray) as IDataObject[][];
	return arrays.length === 1 ? arrays[0] : [];
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const reportId = getReportId(this, itemIndex);
	const returnAll = this.getNodeParameter('returnAll', itemIndex, false) as boolean;
	const limit = returnAll ? Infinity : Number(this.getNodeParameter('limit', itemIndex, 50));
	if (!returnAll && (!Number.isInteger(limit) || limit < 1)) {
		throw new NodeOperationError(this.getNode(), 'Limit must be a whole number of at least 1', { itemIndex });
	}
	const pageSize = Math.min(MAX_PAGE_SIZE, returnAll ? MAX_PAGE_SIZE : limit);
	const results: INodeExecutionData[] = [];
	let next: string | undefined = `/dataExplorations/${encodeURIComponent(reportId)}/entries`;
	let qs: IDataObject | undefined = { limit: pageSize };
	const seen = new Set<string>();
	while (next && results.length < limit) {
		const page = (await apiRequest.call(this, {
			method: 'GET',
			path: next,
			qs,
			itemIndex,
			what: 'Get report entries',
		})) as EntriesPage;
		const entries = entriesOf(page);
		for (const entry of entries) {
			if (results.length >= limit) break;
			results.push({ json: entry, pairedItem: { item: itemIndex } });
		}
		const href = page._links?.next?.href;
		// An empty page ends the paging even if it links on: a server that keeps linking to empty
		// pages would otherwise keep the node busy forever.
		if (!href || seen.has(href) || entries.length === 0) break;
		if (seen.size >= MAX_PAGES) {
			throw new NodeOperationError(this.getNode(), `Get report entries: PingOne returned more than ${MAX_PAGES} pages`, {
				itemIndex,
				description: 'Set a Limit, or use a report delivered as a file (Download) for this many rows.',
			});
		}
		seen.add(href);
		next = href;
		qs = undefined; // the next link carries its own cursor and limit
	}
	return results;
}
