import { DateTime } from 'luxon';

/*
 * Freshness of S3 presigned links (PingOne's csvPresignedUrl / jsonPresignedUrl live five
 * minutes). The expiry is X-Amz-Date (yyyyMMdd'T'HHmmss'Z', UTC) plus X-Amz-Expires seconds.
 * Nothing here ever returns or throws the query string: it holds the signature and token.
 */

function amzParams(url: string): URLSearchParams | undefined {
	try {
		return new URL(url).searchParams;
	} catch {
		return undefined;
	}
}

/** When the presigned link stops working, or undefined if the link does not say. */
export function linkExpiresAt(url: string): DateTime | undefined {
	const params = amzParams(url);
	if (!params) return undefined;
	const date = params.get('X-Amz-Date');
	const expires = params.get('X-Amz-Expires');
	if (date === null || expires === null || !/^\d{1,9}$/.test(expires)) return undefined;
	const signedAt = DateTime.fromFormat(date, "yyyyMMdd'T'HHmmss'Z'", { zone: 'utc' });
	if (!signedAt.isValid) return undefined;
	return signedAt.plus({ seconds: Number(expires) });
}

/** Whole seconds the link still lives (negative once expired), or undefined if unknown. */
export function linkSecondsLeft(url: string, now: DateTime = DateTime.utc()): number | undefined {
	const expiresAt = linkExpiresAt(url);
	if (!expiresAt) return undefined;
	return Math.floor(expiresAt.diff(now, 'seconds').seconds);
}

/** True when fewer than `minSecondsLeft` seconds are left; false when the expiry is unknown. */
export function needsRefresh(url: string, minSecondsLeft = 30, now?: DateTime): boolean {
	const left = linkSecondsLeft(url, now);
	return left !== undefined && left < minSecondsLeft;
}

/** scheme://host/path without query or fragment (and without user info), for errors and logs. */
export function redactUrl(url: string): string {
	try {
		const u = new URL(url);
		return `${u.protocol}//${u.host}${u.pathname}`;
	} catch {
		const cut = String(url).split(/[?#]/, 1)[0];
		// drop user info, if any, from something that is not a valid URL
		return cut.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
	}
}
