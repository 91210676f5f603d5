import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';

export type ImportStatus = 'running' | 'interrupted' | 'completed';

export interface ImportJob {
  jobId: string;
  sourceId: string;
  fileId: string;
  format: string;
  status: ImportStatus;
  /** Every row up to this one is stored (or reported bad); a resumed import starts after it. */
  checkpoint: number;
  /** Good rows (stored, or already stored by an earlier run). */
  accepted: number;
  /** Of the accepted rows, those not published because their person's erasure was requested. */
  suppressed: number;
  rejected: number;
  startedAt: Date;
  updatedAt: Date;
}

export interface RowError {
  row: number;
  fields: Record<string, string[]>;
}

interface JobDocument extends Omit<ImportJob, 'jobId'> {
  _id: string;
  schemaVersion: 1;
}

interface RowErrorDocument extends RowError {
  _id: string;
  jobId: string;
}

/** Import jobs with their checkpoint and counts, and the bad rows of each. */
@Injectable()
export class ImportJobsRepository implements OnModuleInit {
  private readonly jobs: Collection<JobDocument>;
  private readonly rowErrors: Collection<RowErrorDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.jobs = db.collection<JobDocument>('import_jobs');
    this.rowErrors = db.collection<RowErrorDocument>('import_row_errors');
  }

  async onModuleInit(): Promise<void> {
    await this.rowErrors.createIndex({ jobId: 1, row: 1 }, { name: 'job_rows' });
  }

  /** The job for this file, created if new; an existing one is marked running again (a resume). */
  async start(job: Pick<ImportJob, 'jobId' | 'sourceId' | 'fileId' | 'format'>): Promise<ImportJob> {
    const now = new Date();
    await this.jobs.updateOne(
      { _id: job.jobId },
      {
        $set: { status: 'running', updatedAt: now },
        $setOnInsert: {
          sourceId: job.sourceId,
          fileId: job.fileId,
          format: job.format,
          checkpoint: 0,
          accepted: 0,
          suppressed: 0,
          rejected: 0,
          startedAt: now,
          schemaVersion: 1,
        },
      },
      { upsert: true },
    );
    return (await this.find(job.jobId))!;
  }

  /** Bad rows are upserted by row, so re-reporting them after a resume changes nothing. */
  async reportRows(jobId: string, errors: RowError[]): Promise<void> {
    if (errors.length === 0) return;
    await this.rowErrors.bulkWrite(
      errors.map((error) => ({
        replaceOne: {
          filter: { _id: `${jobId}:${error.row}` },
          replacement: { jobId, ...error },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  /** Moves the checkpoint forward with the batch's counts, in one single-document write. */
  async advance(
    jobId: string,
    from: number,
    to: number,
    { accepted, suppressed, rejected }: { accepted: number; suppressed: number; rejected: number },
  ): Promise<void> {
    await this.jobs.updateOne(
      { _id: jobId, checkpoint: from },
      { $set: { checkpoint: to, updatedAt: new Date() }, $inc: { accepted, suppressed, rejected } },
    );
  }

  async finish(jobId: string, status: Exclude<ImportStatus, 'running'>): Promise<void> {
    await this.jobs.updateOne({ _id: jobId }, { $set: { status, updatedAt: new Date() } });
  }

  async find(jobId: string): Promise<ImportJob | undefined> {
    const document = await this.jobs.findOne({ _id: jobId });
    if (!document) return undefined;
    const { _id, schemaVersion: _version, ...job } = document;
    return { jobId: _id, ...job, suppressed: job.suppressed ?? 0 };
  }

  async errors(jobId: string, afterRow: number, limit: number): Promise<RowError[]> {
    const documents = await this.rowErrors
      .find({ jobId, row: { $gt: afterRow } })
      .sort({ row: 1 })
      .limit(limit)
      .toArray();
    return documents.map((document) => ({ row: document.row, fields: document.fields }));
  }
}
