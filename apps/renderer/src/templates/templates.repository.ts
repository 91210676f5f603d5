import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';
import { type EmailTemplate } from './email-template.js';

interface TemplateDocument extends EmailTemplate {
  /** `<templateId>:<version>`: a published version never changes. */
  _id: string;
  publishedAt: Date;
  schemaVersion: 1;
}

@Injectable()
export class TemplatesRepository implements OnModuleInit {
  private readonly templates: Collection<TemplateDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.templates = db.collection<TemplateDocument>('templates');
  }

  async onModuleInit(): Promise<void> {
    await this.templates.createIndex({ templateId: 1, version: -1 }, { name: 'latest_version' });
  }

  async findLatest(templateId: string): Promise<EmailTemplate | undefined> {
    const [document] = await this.templates.find({ templateId }).sort({ version: -1 }).limit(1).toArray();
    if (!document) return undefined;
    const { templateId: id, version, subject, html, text } = document;
    return { templateId: id, version, subject, html, text };
  }

  async findVersion(templateId: string, version: number): Promise<EmailTemplate | undefined> {
    const document = await this.templates.findOne({ _id: `${templateId}:${version}` });
    if (!document) return undefined;
    const { subject, html, text } = document;
    return { templateId, version, subject, html, text };
  }

  /** Publishes a version; publishing the same version again is a no-op. */
  async publish(template: EmailTemplate): Promise<void> {
    await this.templates.updateOne(
      { _id: `${template.templateId}:${template.version}` },
      { $setOnInsert: { ...template, publishedAt: new Date(), schemaVersion: 1 as const } },
      { upsert: true },
    );
  }
}
