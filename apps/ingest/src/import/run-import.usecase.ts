import { Injectable } from '@nestjs/common';
import { deterministicId } from '@mesh/contracts';
import { type Readable } from 'node:stream';
import { type Source } from '../sources/source.js';
import { type AcceptCommand, AcceptEventUseCase } from '../tracking/accept-event.usecase.js';
import { type ImportJob, ImportJobsRepository, type RowError } from './import-jobs.repository.js';
import { type ImportFormat, type ImportMapping, mapRow, readRows } from './import-rows.js';

/** Rows published at once (one dedup round trip each way); the checkpoint moves after each such batch is stored. */
const BATCH_ROWS = 1000;
/** Batches being published while the next rows are read; checkpoints still move in row order. */
const BATCHES_IN_FLIGHT = 4;

type ParsedBatch = { row: number; value?: Record<string, unknown>; error?: string }[];

export interface ImportCommand {
  source: Source;
  /** Identifies the file (e.g. its SHA-256): the same file resumes the same job. */
  fileId: string;
  format: ImportFormat;
  mapping: ImportMapping;
  input: Readable;
}

/**
 * Streams a CSV/NDJSON file into the mesh row by row: each good row becomes a call with the message
 * id `import:<fileId>:<row>`, bad rows are reported with their number, and the checkpoint moves once
 * a batch is stored. Sending the same file again resumes after the checkpoint; rows of the batch in
 * flight at a crash get the same message ids again, so dedup drops the ones already stored.
 */
@Injectable()
export class RunImportUseCase {
  constructor(
    private readonly jobs: ImportJobsRepository,
    private readonly accept: AcceptEventUseCase,
  ) {}

  jobIdOf(sourceId: string, fileId: string): string {
    return deterministicId('import', sourceId, fileId);
  }

  async execute(command: ImportCommand): Promise<ImportJob> {
    const jobId = this.jobIdOf(command.source.id, command.fileId);
    const job = await this.jobs.start({
      jobId,
      sourceId: command.source.id,
      fileId: command.fileId,
      format: command.format,
    });
    let checkpoint = job.checkpoint;
    let batch: ParsedBatch = [];
    // Each batch is published as soon as it is read; its checkpoint step waits for the previous
    // batch's, so the checkpoint never passes a row that is not stored, and a failed batch stops
    // every later step.
    let checkpoints: Promise<void> = Promise.resolve();
    const inFlight: Promise<void>[] = [];
    const flush = () => {
      if (batch.length === 0) return;
      const rows = batch;
      batch = [];
      const last = rows[rows.length - 1]!.row;
      const stored = this.storeBatch(command, rows);
      stored.catch(() => undefined);
      const step = checkpoints.then(async () => {
        await this.jobs.advance(jobId, checkpoint, last, await stored);
        checkpoint = last;
      });
      step.catch(() => undefined);
      checkpoints = step;
      inFlight.push(step);
    };
    try {
      for await (const parsed of readRows(command.input, command.format)) {
        if (parsed.row <= checkpoint) continue;
        batch.push(parsed);
        if (batch.length < BATCH_ROWS) continue;
        flush();
        if (inFlight.length >= BATCHES_IN_FLIGHT) await inFlight.shift();
      }
      flush();
      await checkpoints;
      await this.jobs.finish(jobId, 'completed');
    } catch (error) {
      // Let the batches in flight settle, so the job is not resumed while they still publish.
      await Promise.allSettled(inFlight);
      await this.jobs.finish(jobId, 'interrupted');
      throw error;
    }
    return (await this.jobs.find(jobId))!;
  }

  private async storeBatch(
    command: ImportCommand,
    batch: ParsedBatch,
  ): Promise<{ accepted: number; suppressed: number; rejected: number }> {
    const errors: RowError[] = [];
    const calls: AcceptCommand[] = [];
    const receivedAt = new Date();
    for (const { row, value, error } of batch) {
      if (value === undefined) {
        errors.push({ row, fields: { row: [error ?? 'unreadable'] } });
        continue;
      }
      const mapped = mapRow(value, command.mapping, `import:${command.fileId}:${row}`);
      if ('errors' in mapped) {
        errors.push({ row, fields: mapped.errors });
        continue;
      }
      calls.push({ ...mapped.call, source: command.source, receivedAt } as AcceptCommand);
    }
    const [outcomes] = await Promise.all([
      this.accept.executeMany(calls),
      this.jobs.reportRows(this.jobIdOf(command.source.id, command.fileId), errors),
    ]);
    const suppressed = outcomes.filter((outcome) => outcome === 'erased').length;
    return { accepted: calls.length, suppressed, rejected: errors.length };
  }
}
