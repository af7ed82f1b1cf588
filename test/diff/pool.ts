/**
 * Runs many kernel cases at once: namespace creation and the real tools
 * spend most of their time waiting on the kernel, so a few cases in flight
 * make the reference side several times faster.
 */

/** How many kernel cases run at once (NFLAB_DIFF_JOBS, default 6). */
export const DIFF_JOBS = Math.max(1, Number(process.env['NFLAB_DIFF_JOBS'] ?? 6) || 6);

/**
 * Starts `fn` on every item with at most `limit` in flight and returns one
 * promise per item, in order; results can be awaited one by one while later
 * items are still running.
 */
export function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R>[] {
  const resolvers: { resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  const promises = items.map(
    () =>
      new Promise<R>((resolve, reject) => {
        resolvers.push({ resolve, reject });
      }),
  );
  // A rejection that nobody awaits yet must not crash the process.
  for (const p of promises) p.catch(() => undefined);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        resolvers[i]!.resolve(await fn(items[i]!));
      } catch (e) {
        resolvers[i]!.reject(e);
      }
    }
  };
  for (let w = 0; w < Math.min(limit, items.length); w++) void worker();
  return promises;
}
