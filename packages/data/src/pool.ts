/**
 * Runs `work(i)` for i in [0, n) with at most `concurrency` in flight, calling `done(i, result)` in
 * completion order. Memory stays bounded by the concurrency, whatever n is.
 */
export async function boundedMap<T>(n: number, concurrency: number, work: (i: number) => Promise<T>, done: (i: number, r: T) => void | Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      const i = next++;
      await done(i, await work(i));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, n)) }, worker));
}
