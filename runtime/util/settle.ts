/**
 * Wait for every promise (independent steps run side by side, and none is left running unobserved), then
 * fail with the first failure, if any; otherwise resolve to their values, in order.
 */
export async function allDone<T extends readonly unknown[]>(work: readonly [...T]): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

/** True when `p` settles within `ms` milliseconds, false when the time runs out first. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const result = await Promise.race([p.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}
