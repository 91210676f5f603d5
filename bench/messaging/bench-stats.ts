/** Latency percentiles in milliseconds from a list of samples. */
export function percentiles(samples: number[]): { p50: number; p90: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

export interface RunResult {
  name: string;
  messages: number;
  seconds: number;
  throughput: number;
  latency: ReturnType<typeof percentiles>;
}

export function summarize(name: string, messages: number, seconds: number, latencies: number[]): RunResult {
  return { name, messages, seconds, throughput: messages / seconds, latency: percentiles(latencies) };
}

/** Runs `task(i)` for i in [0, total) with at most `window` in flight. */
export async function windowed(
  total: number,
  window: number,
  task: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < total) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, total) }, worker));
}

/** How a run issues its publishes: as fast as a window allows, or at a steady rate. */
export type Schedule = (total: number, task: (i: number) => Promise<unknown>) => Promise<void>;

export const inWindow =
  (window: number): Schedule =>
  (total, task) =>
    windowed(total, window, task);

/** Starts one publish every 1/rate seconds, whatever the earlier ones are doing, and waits for all. */
export const atRate =
  (perSecond: number): Schedule =>
  async (total, task) => {
    const started = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      pending.push(task(i));
    }
    await Promise.all(pending);
  };
