import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';

const USAGE = `Imports a CSV or NDJSON export into ingest (streamed; resumable: run it again on the same file).

  npm run import -- <file> --source <id> [--mapping mapping.json] [--format csv|ndjson]

Options: --url <ingest url> ($INGEST_URL, default http://127.0.0.1:3001),
         --write-key <key> ($MESH_WRITE_KEY, else $MESH_DEMO_WRITE_KEY): the source's write key.
A mapping file is JSON: {"type":"identify"|"track","userIdColumn":"customer_id","anonymousIdColumn":…,
"eventColumn":…,"eventName":"Order Completed","timestampColumn":"created_at"}; other columns become
traits (identify) or properties (track).`;

const MAPPING_KEYS = [
  'type',
  'userIdColumn',
  'anonymousIdColumn',
  'eventColumn',
  'eventName',
  'timestampColumn',
];

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      source: { type: 'string' },
      mapping: { type: 'string' },
      format: { type: 'string' },
      url: { type: 'string', default: process.env.INGEST_URL ?? 'http://127.0.0.1:3001' },
      'write-key': { type: 'string', default: process.env.MESH_WRITE_KEY ?? process.env.MESH_DEMO_WRITE_KEY },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [file] = positionals;
  if (values.help || file === undefined || values.source === undefined || !values['write-key']) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const format =
    values.format ?? (/\.(nd)?jsonl?$/i.test(file) || file.endsWith('.ndjson') ? 'ndjson' : 'csv');
  const query = new URLSearchParams({ fileId: await sha256Of(file), format, source: values.source });
  if (values.mapping !== undefined) {
    const mapping = JSON.parse(await readFile(values.mapping, 'utf8')) as Record<string, unknown>;
    for (const key of MAPPING_KEYS) if (typeof mapping[key] === 'string') query.set(key, mapping[key]);
  }

  const { size } = await stat(file);
  const bar = new SingleBar({
    format: 'importing [{bar}] {percentage}% | {value}/{total} bytes | {eta}s left',
  });
  bar.start(size, 0);
  let sent = 0;
  const counted = createReadStream(file).pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        sent += chunk.length;
        bar.update(sent);
        done(null, chunk);
      },
    }),
  );
  const response = await fetch(`${values.url}/api/imports?${query.toString()}`, {
    method: 'POST',
    headers: {
      'content-type': format === 'csv' ? 'text/csv' : 'application/x-ndjson',
      authorization: `Basic ${Buffer.from(`${values['write-key']}:`).toString('base64')}`,
    },
    body: Readable.toWeb(counted) as ReadableStream<Uint8Array>,
    duplex: 'half',
  });
  bar.stop();
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok) {
    console.error(`import refused (${response.status}):`, JSON.stringify(answer, null, 2));
    return 1;
  }
  console.log(
    `job ${String(answer.jobId)}: ${String(answer.status)}, ${String(answer.accepted)} rows accepted, ${String(answer.rejected)} rejected${Number(answer.suppressed) > 0 ? `, ${Number(answer.suppressed)} of them of a person whose erasure was requested (not published)` : ''}`,
  );
  if (Number(answer.rejected) > 0)
    console.log(
      `bad rows: GET ${values.url}/api/imports/${String(answer.jobId)}/errors (with the write key)`,
    );
  return 0;
}

process.exitCode = await main();
