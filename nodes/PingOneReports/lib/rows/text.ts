import { StringDecoder } from 'node:string_decoder';

/**
 * UTF-8 chunks (split anywhere, also inside a character) to text, with a leading byte order
 * mark dropped. Both row parsers read their input through it.
 */
export class Utf8Text {
	private readonly decoder = new StringDecoder('utf8');
	private started = false;

	/** The text of the next chunk; '' while nothing (or only part of a character) has come. */
	write(chunk: Buffer): string {
		return this.strip(this.decoder.write(chunk));
	}

	/** The rest of the text at the end of the input. */
	end(): string {
		const text = this.strip(this.decoder.end());
		this.started = true;
		return text;
	}

	private strip(text: string): string {
		if (this.started || text.length === 0) return text;
		this.started = true;
		return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
	}
}
