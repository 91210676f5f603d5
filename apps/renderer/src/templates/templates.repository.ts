import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db, MongoServerError } from 'mongodb';
import { type EmailTemplate } from './email-template.js';

export type TemplateStatus = 'draft' | 'published';

export interface PublishedParts {
  subject: string;
  html: string;
  text: string;
  /** The partials and layout resolved at publish, with their versions. */
  partials: Record<string, number>;
  /** The text was made from the html at publish. */
  textFromHtml?: true;
}

interface TemplateDocument extends EmailTemplate {
  /** `<templateId>:<version>`: a published version never changes. */
  _id: string;
  /** Missing on versions stored before drafts existed: those were published. */
  status?: TemplateStatus;
  createdAt?: Date;
  publishedAt?: Date;
  /** The parts as sends render them, made once at publish: partials resolved, CSS inlined. */
  published?: PublishedParts;
  /** The CSS-inlined html of versions published before partials existed. */
  htmlInlined?: string;
  schemaVersion: 1;
}

export interface TemplateVersionView extends EmailTemplate {
  status: TemplateStatus;
  partials?: Record<string, number>;
  publishedAt?: string;
}

export interface TemplateSummary {
  templateId: string;
  latestVersion: number;
  publishedVersion?: number;
}

/** A published version as sends render it: with the html whose CSS was inlined at publish. */
function renderedPartsOf(document: TemplateDocument): EmailTemplate {
  if (!document.published) return { ...partsOf(document), html: document.htmlInlined ?? document.html };
  const { subject, html, text, textFromHtml } = document.published;
  return { ...partsOf(document), subject, html, text, ...(textFromHtml ? { textFromHtml } : {}) };
}

const PUBLISHED = { status: { $ne: 'draft' as const } };
const DUPLICATE_KEY = 11000;

function partsOf(document: TemplateDocument): EmailTemplate {
  const { templateId, version, subject, html, text, data, layout } = document;
  return {
    templateId,
    version,
    subject,
    html,
    text,
    ...(data ? { data } : {}),
    ...(layout ? { layout } : {}),
  };
}

function viewOf(document: TemplateDocument): TemplateVersionView {
  return {
    ...partsOf(document),
    status: document.status ?? 'published',
    ...(document.publishedAt ? { publishedAt: document.publishedAt.toISOString() } : {}),
    ...(document.published ? { partials: document.published.partials } : {}),
  };
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

  /** The newest published version. */
  async findLatest(templateId: string): Promise<EmailTemplate | undefined> {
    const [document] = await this.templates
      .find({ templateId, ...PUBLISHED })
      .sort({ version: -1 })
      .limit(1)
      .toArray();
    return document ? renderedPartsOf(document) : undefined;
  }

  /** One published version (a draft is never sent). */
  async findVersion(templateId: string, version: number): Promise<EmailTemplate | undefined> {
    const document = await this.templates.findOne({ _id: `${templateId}:${version}`, ...PUBLISHED });
    return document ? renderedPartsOf(document) : undefined;
  }

  async findAnyVersion(templateId: string, version: number): Promise<TemplateVersionView | undefined> {
    const document = await this.templates.findOne({ _id: `${templateId}:${version}` });
    return document ? viewOf(document) : undefined;
  }

  async list(): Promise<TemplateSummary[]> {
    const documents = await this.templates
      .find({}, { projection: { templateId: 1, version: 1, status: 1 } })
      .sort({ templateId: 1, version: -1 })
      .toArray();
    const summaries = new Map<string, TemplateSummary>();
    for (const { templateId, version, status } of documents) {
      const summary = summaries.get(templateId) ?? { templateId, latestVersion: version };
      if (status !== 'draft' && summary.publishedVersion === undefined) summary.publishedVersion = version;
      summaries.set(templateId, summary);
    }
    return [...summaries.values()];
  }

  /** Saves a draft as the next version; two drafts saved at once get different versions. */
  async createDraft(draft: Omit<EmailTemplate, 'version'>): Promise<TemplateVersionView> {
    for (;;) {
      const [latest] = await this.templates
        .find({ templateId: draft.templateId }, { projection: { version: 1 } })
        .sort({ version: -1 })
        .limit(1)
        .toArray();
      const version = (latest?.version ?? 0) + 1;
      const document: TemplateDocument = {
        _id: `${draft.templateId}:${version}`,
        ...draft,
        version,
        status: 'draft',
        createdAt: new Date(),
        schemaVersion: 1,
      };
      try {
        await this.templates.insertOne(document);
        return viewOf(document);
      } catch (error) {
        if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
      }
    }
  }

  /** Marks a draft published with its CSS-inlined html; a published version stays as it was. */
  async markPublished(
    templateId: string,
    version: number,
    published: PublishedParts,
  ): Promise<TemplateVersionView | undefined> {
    await this.templates.updateOne(
      { _id: `${templateId}:${version}`, status: 'draft' },
      { $set: { status: 'published', publishedAt: new Date(), published } },
    );
    return this.findAnyVersion(templateId, version);
  }

  /** Publishes a version directly (the demo seed); publishing the same version again is a no-op. */
  async publish(template: EmailTemplate, published: PublishedParts): Promise<void> {
    await this.templates.updateOne(
      { _id: `${template.templateId}:${template.version}` },
      {
        $setOnInsert: {
          ...template,
          published,
          status: 'published' as const,
          createdAt: new Date(),
          publishedAt: new Date(),
          schemaVersion: 1 as const,
        },
      },
      { upsert: true },
    );
  }
}
