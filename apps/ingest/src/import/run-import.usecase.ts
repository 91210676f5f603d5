import { Injectable } from '@nestjs/common';
import { deterministicId } from '@mesh/contracts';
import { type Readable } from 'node:stream';
import { type Source } from '../sources/source.js';
import { type AcceptCommand, AcceptEventUseCase } from '../tracking/accept-event.usecase.js';
import { type ImportJob, ImportJobsRepository, type RowError } from './import-jobs.repository.js';
import { type ImportFormat, type ImportMapping, mapRow, readRows } from './import-rows.js';

/** Rows published at once; the checkpoint moves after each such batch is stored. */
const BATCH_ROWS = 500;

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
    let batch: { row: number; value?: Record<string, unknown>; error?: string }[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const last = batch[batch.length - 1]!.row;
      const stored = await this.storeBatch(command, batch);
      await this.jobs.advance(jobId, checkpoint, last, stored.accepted, stored.rejected);
      checkpoint = last;
      batch = [];
    };
    try {
      for await (const parsed of readRows(command.input, command.format)) {
        if (parsed.row <= checkpoint) continue;
        batch.push(parsed);
        if (batch.length >= BATCH_ROWS) await flush();
      }
      await flush();
      await this.jobs.finish(jobId, 'completed');
    } catch (error) {
      await this.jobs.finish(jobId, 'interrupted');
      throw error;
    }
    return (await this.jobs.find(jobId))!;
  }

  private async storeBatch(
    command: ImportCommand,
    batch: { row: number; value?: Record<string, unknown>; error?: string }[],
  ): Promise<{ accepted: number; rejected: number }> {
    const errors: RowError[] = [];
    const calls: Promise<unknown>[] = [];
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
      calls.push(
        this.accept.execute({
          ...mapped.call,
          source: command.source,
          receivedAt: new Date(),
        } as AcceptCommand),
      );
    }
    await Promise.all(calls);
    await this.jobs.reportRows(this.jobIdOf(command.source.id, command.fileId), errors);
    return { accepted: calls.length, rejected: errors.length };
  }
}
