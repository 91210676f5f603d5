import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deterministicId } from '@mesh/contracts';
import {
  bootService,
  type BootedService,
  freePort,
  type Infra,
  repoRoot,
  ServerProcess,
  serviceEntry,
  startInfra,
  subjectCounts,
  uniqueName,
  waitFor,
} from '@mesh/testing';
import { ingestSpec } from '../src/ingest.app.js';

const WRITE_KEY = 'import-test-write-key-0123456789';

interface Job {
  jobId: string;
  status: string;
  checkpoint: number;
  accepted: number;
  rejected: number;
}

/** A CSV file generated row by row, never whole in memory; `stopAfter` makes the upload fail midway. */
function csvBody(
  rows: number,
  bad: (row: number) => boolean,
  stopAfter?: number,
  pauseMs = 0,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let row = 0;
  return new ReadableStream({
    start(controller) {
      controller.enqueue(encoder.encode('userId,email,plan,timestamp\n'));
    },
    async pull(controller) {
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      if (stopAfter !== undefined && row >= stopAfter) {
        controller.error(new Error('the uploader crashed'));
        return;
      }
      let chunk = '';
      for (let i = 0; i < 1000 && row < rows; i++) {
        row++;
        chunk += bad(row)
          ? `,nobody-${row}@example.com,gold,not-a-time\n`
          : `user-${row},user-${row}@example.com,${row % 2 === 0 ? 'gold' : 'silver'},2026-11-01T00:00:00.000Z\n`;
      }
      if (chunk === '') controller.close();
      else controller.enqueue(encoder.encode(chunk));
    },
  });
}

describe('ingest: batch import', () => {
  let infra: Infra;
  let ingest: BootedService;
  let env: Record<string, string>;

  beforeAll(async () => {
    infra = await startInfra({ nats: true, mongo: true, redis: true });
    env = {
      NATS_URL: infra.natsUrl!,
      MONGO_URL: `${infra.mongoUrl}/${uniqueName('ingest')}`,
      REDIS_URL: infra.redisUrl!,
      NATS_STREAM_MAX_BYTES: String(512 * 1024 * 1024),
      MESH_ADMIN_TOKEN: 'ingest-test-admin-token',
      MESH_DEMO_WRITE_KEY: WRITE_KEY,
      LOG_LEVEL: 'silent',
    };
    ingest = await bootService(ingestSpec({ PORT: '0', ...env }));
  });

  afterAll(async () => {
    await ingest?.close();
    await infra?.stop();
  });

  const authorization = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
  const upload = (query: string, body: ReadableStream<Uint8Array> | string, type = 'text/csv') =>
    fetch(`${ingest.url}/api/imports?${query}`, {
      method: 'POST',
      headers: { 'content-type': type, authorization },
      body,
      duplex: 'half',
    });
  const get = async <T>(path: string): Promise<T> =>
    (await (await fetch(`${ingest.url}${path}`, { headers: { authorization } })).json()) as T;
  const count = async (subject: string) => (await subjectCounts(infra.natsUrl!, 'INGEST'))[subject] ?? 0;

  it('imports a 100k-row CSV streamed: every good row published once, exactly the bad rows reported by number', async () => {
    const rows = 100_000;
    const bad = (row: number) => row % 10_000 === 7;
    const started = performance.now();
    const response = await upload(`fileId=${randomUUID()}&format=csv&source=demo`, csvBody(rows, bad));
    const seconds = (performance.now() - started) / 1000;
    expect(response.status).toBe(200);
    const job = (await response.json()) as Job;
    expect(job).toMatchObject({ status: 'completed', checkpoint: rows, accepted: rows - 10, rejected: 10 });
    await waitFor(
      'the stream to hold every good row',
      async () => (await count('ingest.identify')) === rows - 10,
      60_000,
    );
    const report = await get<{ errors: { row: number; fields: Record<string, string[]> }[] }>(
      `/api/imports/${job.jobId}/errors`,
    );
    expect(report.errors.map((error) => error.row)).toEqual(
      Array.from({ length: 10 }, (_unused, index) => index * 10_000 + 7),
    );
    expect(Object.keys(report.errors[0]!.fields).sort()).toEqual(['timestamp', 'userId']);
    expect(await get<Job>(`/api/imports/${job.jobId}`)).toMatchObject({
      status: 'completed',
      accepted: rows - 10,
    });
    console.log(`import: ${rows} rows in ${seconds.toFixed(1)} s = ${Math.round(rows / seconds)} rows/s`);
  }, 300_000);

  it('resumes an import that crashed midway from its checkpoint, storing each good row once', async () => {
    const rows = 6_000;
    const bad = (row: number) => row % 1_000 === 3;
    const fileId = randomUUID();
    const query = `fileId=${fileId}&format=csv&type=track&eventName=Imported`;
    const before = await count('ingest.track');
    await expect(upload(query, csvBody(rows, bad, 3_000))).rejects.toThrow();
    const jobId = deterministicId('import', 'demo', fileId);
    let job: Job | undefined;
    await waitFor('the job to be interrupted', async () => {
      job = await get<Job>(`/api/imports/${jobId}`);
      return job.status === 'interrupted';
    });
    expect(job!.checkpoint).toBeGreaterThan(0);
    expect(job!.checkpoint).toBeLessThan(rows);
    const resumed = await upload(query, csvBody(rows, bad));
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toMatchObject({
      status: 'completed',
      checkpoint: rows,
      accepted: rows - 6,
      rejected: 6,
    });
    await waitFor(
      'the stream to hold each good row',
      async () => (await count('ingest.track')) - before === rows - 6,
    );
    // A re-sent finished file changes nothing.
    expect(await (await upload(query, csvBody(rows, bad))).json()).toMatchObject({ accepted: rows - 6 });
    expect((await count('ingest.track')) - before).toBe(rows - 6);
  }, 180_000);

  it('resumes an import whose ingest process was killed (SIGKILL) while publishing rows, storing each good row once', async () => {
    const rows = 30_000;
    const bad = (row: number) => row % 5_000 === 11;
    const fileId = randomUUID();
    const query = `fileId=${fileId}&format=csv&type=track&eventName=Migrated`;
    const jobId = deterministicId('import', 'demo', fileId);
    const before = await count('ingest.track');
    // A second ingest, as production runs it (from dist/: build first), on the same NATS, Redis and database.
    const port = await freePort();
    const child = ServerProcess.spawn({
      name: 'ingest-to-kill',
      command: process.execPath,
      args: [serviceEntry('ingest')],
      cwd: repoRoot(),
      env: { ...process.env, ...env, PORT: String(port) },
    });
    const childUrl = `http://127.0.0.1:${port}`;
    try {
      await child.waitUntilReady(async () => {
        const response = await fetch(`${childUrl}/health/ready`);
        if (!response.ok) throw new Error(`ready: ${response.status}`);
      }, 60_000);
      // The upload comes in 1,000 rows every 20 ms, so rows are being published the whole time.
      const crashed = fetch(`${childUrl}/api/imports?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', authorization },
        body: csvBody(rows, bad, undefined, 20),
        duplex: 'half',
      });
      crashed.catch(() => undefined);
      let job: Job | undefined;
      await waitFor(
        'some rows stored',
        async () => {
          job = await get<Job>(`/api/imports/${jobId}`);
          return (job?.checkpoint ?? 0) >= 3_000;
        },
        60_000,
      );
      await child.kill();
      await expect(crashed).rejects.toThrow();
      job = await get<Job>(`/api/imports/${jobId}`);
      // Killed, not stopped: the job was never marked, and the batches in flight may have reached the stream.
      expect(job).toMatchObject({ status: 'running' });
      expect(job.checkpoint).toBeLessThan(rows);
      console.log(
        `import killed at checkpoint ${job.checkpoint}; ${(await count('ingest.track')) - before} rows on the stream`,
      );
    } finally {
      await child.kill();
    }
    const resumed = await upload(query, csvBody(rows, bad));
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toMatchObject({ status: 'completed', checkpoint: rows, rejected: 6 });
    await waitFor(
      'the stream to hold each good row',
      async () => (await count('ingest.track')) - before === rows - 6,
    );
    // Nothing more arrives: each good row is there once.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await count('ingest.track')) - before).toBe(rows - 6);
  }, 180_000);

  it('counts the rows of a person whose erasure was requested as suppressed, and publishes none of them', async () => {
    const erase = await fetch(`${ingest.url}/v1/privacy/erase`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ email: 'gone@example.com' }),
    });
    expect(erase.status).toBe(202);
    const before = await count('ingest.identify');
    const lines = [
      '{"userId":"kept-1","plan":"gold"}',
      '{"userId":"gone-1","email":"GONE@example.com"}',
      '{"userId":"gone@example.com","plan":"gold"}',
      '{"userId":"kept-2","plan":"gold"}',
    ].join('\n');
    // Rows become identify calls with the other fields as traits: traits.email and an address as userId are checked.
    const response = await upload(`fileId=${randomUUID()}&format=ndjson`, lines, 'application/x-ndjson');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'completed',
      accepted: 4,
      suppressed: 2,
      rejected: 0,
    });
    await waitFor('the kept rows on the stream', async () => (await count('ingest.identify')) - before >= 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await count('ingest.identify')) - before).toBe(2);
  });

  it('reads NDJSON, reports unreadable lines, and refuses an upload without fileId or with another source', async () => {
    const lines = [
      '{"userId":"n-1","plan":"gold"}',
      'not json',
      '{"anonymousId":"a-2","plan":"free"}',
      '[1]',
    ].join('\n');
    const response = await upload(`fileId=${randomUUID()}&format=ndjson`, lines, 'application/x-ndjson');
    expect(response.status).toBe(200);
    const job = (await response.json()) as Job;
    expect(job).toMatchObject({ status: 'completed', accepted: 2, rejected: 2 });
    const report = await get<{ errors: { row: number }[] }>(`/api/imports/${job.jobId}/errors`);
    expect(report.errors.map((error) => error.row)).toEqual([2, 4]);
    const noFile = await upload('format=csv', 'userId\nu-1\n');
    expect(noFile.status).toBe(400);
    expect(JSON.stringify(await noFile.json())).toContain('fileId');
    expect((await upload(`fileId=${randomUUID()}&format=csv&source=other`, 'userId\nu-1\n')).status).toBe(
      400,
    );
  });

  it('imports with the CLI (npm run import): a mapping file, a progress bar, and a second run adds nothing', async () => {
    const dir = tmpdir();
    const file = join(dir, `${uniqueName('orders')}.csv`);
    const lines = ['customer_id,order_total,created_at'];
    for (let row = 1; row <= 2_000; row++)
      lines.push(`c-${row},${row}.5,2026-10-0${(row % 9) + 1}T12:00:00.000Z`);
    lines.push(',1,2026-10-01T12:00:00.000Z');
    await writeFile(file, `${lines.join('\n')}\n`);
    const mapping = join(dir, `${uniqueName('mapping')}.json`);
    await writeFile(
      mapping,
      JSON.stringify({
        type: 'track',
        eventName: 'Order Completed',
        userIdColumn: 'customer_id',
        timestampColumn: 'created_at',
      }),
    );
    const cli = join(repoRoot(), 'dist/apps/ingest/src/import/import-cli.js');
    const run = () =>
      promisify(execFile)(
        process.execPath,
        [cli, file, '--source', 'demo', '--mapping', mapping, '--url', ingest.url, '--write-key', WRITE_KEY],
        { timeout: 120_000 },
      );
    const before = await count('ingest.track');
    const first = await run();
    expect(first.stdout).toContain('completed, 2000 rows accepted, 1 rejected');
    await waitFor(
      'the stream to hold the orders',
      async () => (await count('ingest.track')) - before === 2_000,
    );
    const second = await run();
    expect(second.stdout).toContain('2000 rows accepted');
    expect((await count('ingest.track')) - before).toBe(2_000);
  }, 180_000);
});
