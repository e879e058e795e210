import { test, describe } from 'node:test';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import { linkExpiresAt, linkSecondsLeft, needsRefresh, redactUrl } from '../../nodes/PingOneReports/lib/links';

// the documented example response (X-Amz-Date=20231016T115232Z, X-Amz-Expires=300)
// PingOne's documentation page with its real example response, kept in the repository.
const REFERENCE = join(__dirname, '..', '..', 'docs', 'reference', 'pingone-get-report-results-polling.txt');
const EXAMPLE_PATH =
	'/devices-report-abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6-36533550-b284-4ad5-ae59-0b7cfa73cacb.csv.zip';
const EXAMPLE_HOST = 'p1-reports-prod-eu-central-1.s3.eu-central-1.amazonaws.com';
const FALLBACK_URL = `https://${EXAMPLE_HOST}${EXAMPLE_PATH}?X-Amz-Security-Token=Fake%2Ftoken&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20231016T115232Z&X-Amz-SignedHeaders=host&X-Amz-Expires=300&X-Amz-Credential=Fake%2F20231016%2Feu-central-1%2Fs3%2Faws4_request&X-Amz-Signature=0900e768`;

function exampleUrl(): string {
	try {
		const match = /"csvPresignedUrl":\s*"([^"]+)"/.exec(readFileSync(REFERENCE, 'utf8'));
		if (match) return match[1];
	} catch {
		// the shared reference is not in every checkout
	}
	return FALLBACK_URL;
}

const url = exampleUrl();
const at = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' });

describe('links', () => {
	test('linkExpiresAt = X-Amz-Date + X-Amz-Expires, in UTC', () => {
		const expires = linkExpiresAt(url);
		assert.ok(expires);
		assert.equal(expires.toUTC().toISO(), '2023-10-16T11:57:32.000Z');
	});

	test('linkExpiresAt is undefined when the parameters are absent or unparsable', () => {
		assert.equal(linkExpiresAt('https://example.com/file.zip'), undefined);
		assert.equal(linkExpiresAt('https://example.com/f?X-Amz-Date=20231016T115232Z'), undefined);
		assert.equal(linkExpiresAt('https://example.com/f?X-Amz-Expires=300'), undefined);
		assert.equal(linkExpiresAt('https://example.com/f?X-Amz-Date=2023-10-16&X-Amz-Expires=300'), undefined);
		assert.equal(linkExpiresAt('https://example.com/f?X-Amz-Date=20231316T115232Z&X-Amz-Expires=300'), undefined);
		assert.equal(linkExpiresAt('https://example.com/f?X-Amz-Date=20231016T115232Z&X-Amz-Expires=-5'), undefined);
		assert.equal(linkExpiresAt('not a url'), undefined);
		assert.equal(linkExpiresAt(''), undefined);
	});

	test('linkSecondsLeft and needsRefresh around the expiry', () => {
		assert.equal(linkSecondsLeft(url, at('2023-10-16T11:52:32Z')), 300);
		assert.equal(linkSecondsLeft(url, at('2023-10-16T11:57:00Z')), 32);
		assert.equal(linkSecondsLeft(url, at('2023-10-16T11:58:32Z')), -60);
		assert.equal(needsRefresh(url, 30, at('2023-10-16T11:57:00Z')), false); // 32 s left
		assert.equal(needsRefresh(url, 30, at('2023-10-16T11:57:03Z')), true); // 29 s left
		assert.equal(needsRefresh(url, undefined, at('2023-10-16T11:57:02Z')), false); // exactly 30 s
		assert.equal(needsRefresh(url, 60, at('2023-10-16T11:57:00Z')), true);
		assert.equal(needsRefresh(url), true); // now: long expired
	});

	test('unknown expiry never asks for a refresh', () => {
		assert.equal(linkSecondsLeft('https://example.com/f.zip'), undefined);
		assert.equal(needsRefresh('https://example.com/f.zip'), false);
		assert.equal(needsRefresh('garbage', 30), false);
	});

	test('redactUrl drops the query (signature, token) and never throws', () => {
		const redacted = redactUrl(url);
		assert.equal(redacted, `https://${EXAMPLE_HOST}${EXAMPLE_PATH}`);
		assert.ok(!redacted.includes('X-Amz'));
		assert.equal(redactUrl('https://user:pw@host.example/p/a?x=1#frag'), 'https://host.example/p/a');
		assert.equal(redactUrl('http://127.0.0.1:8080/v1/x?token=abc'), 'http://127.0.0.1:8080/v1/x');
		assert.equal(redactUrl('not a url?secret=1'), 'not a url');
		assert.equal(redactUrl('weird://us:er@host?sig=1'), 'weird://host');
		assert.equal(redactUrl(''), '');
	});
});
