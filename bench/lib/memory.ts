/**
 * Peak memory of one measured run, sampled every few milliseconds on the same thread (a timer):
 * V8 heap in use, RSS, and memory outside the V8 heap (Buffers: `external`). The samples
 * happen whenever the event loop turns, which a streaming pipeline does every chunk; a final
 * sample is taken before the run's result is released, when the output rows are all alive.
 */
import { getHeapStatistics } from 'node:v8';

export interface MemoryPeak {
	/** peak V8 heap in use minus the heap in use before the run (after a full GC) */
	heapDelta: number;
	/** peak RSS of the process (absolute) */
	rss: number;
	/** peak RSS minus the RSS before the run */
	rssDelta: number;
	/** peak memory outside the V8 heap (Buffers, ArrayBuffers) minus before */
	externalDelta: number;
}

export function fullGc(): void {
	const gc = (globalThis as { gc?: () => void }).gc;
	if (!gc) throw new Error('run node with --expose-gc (npm run bench does)');
	gc();
	gc();
}

export class MemorySampler {
	private timer: NodeJS.Timeout | undefined;
	private baseHeap = 0;
	private baseRss = 0;
	private baseExternal = 0;
	private peakHeap = 0;
	private peakRss = 0;
	private peakExternal = 0;

	/** Collects garbage, records the baseline, starts sampling. */
	start(intervalMs = 4): void {
		fullGc();
		const m = process.memoryUsage();
		this.baseHeap = getHeapStatistics().used_heap_size;
		this.baseRss = m.rss;
		this.baseExternal = m.external;
		this.peakHeap = this.baseHeap;
		this.peakRss = m.rss;
		this.peakExternal = m.external;
		this.timer = setInterval(() => this.sample(), intervalMs);
	}

	sample(): void {
		const heap = getHeapStatistics().used_heap_size;
		if (heap > this.peakHeap) this.peakHeap = heap;
		const m = process.memoryUsage();
		if (m.rss > this.peakRss) this.peakRss = m.rss;
		if (m.external > this.peakExternal) this.peakExternal = m.external;
	}

	/** Takes a last sample (call it while the run's output is still referenced) and stops. */
	stop(): MemoryPeak {
		this.sample();
		if (this.timer) clearInterval(this.timer);
		this.timer = undefined;
		return {
			heapDelta: this.peakHeap - this.baseHeap,
			rss: this.peakRss,
			rssDelta: this.peakRss - this.baseRss,
			externalDelta: this.peakExternal - this.baseExternal,
		};
	}
}

/**
 * Retained heap of what `build()` returns: heap in use (after a full GC) while it is referenced,
 * minus heap in use once it is released. Measured this way round because stale references in
 * suspended async frames can keep earlier garbage alive across a "before" measurement.
 * `release` steps let one build measure nested parts (e.g. the item wrappers, then the rows).
 */
export async function retainedHeapSteps(
	build: () => Promise<{ release: Array<() => void> }>,
): Promise<number[]> {
	const { release } = await build();
	const sizes: number[] = [];
	fullGc();
	let level = getHeapStatistics().used_heap_size;
	for (const step of release) {
		step();
		fullGc();
		const next = getHeapStatistics().used_heap_size;
		sizes.push(level - next);
		level = next;
	}
	return sizes;
}
