import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db, MongoServerError } from 'mongodb';
import { RendererEnv } from '../config.js';
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

/** Versions held in memory; past it the cache starts over. */
const CACHED_VERSIONS = 1_000;

/**
 * Template versions in MongoDB. Sends read published versions, which never change: each is read
 * once and kept in memory. Which version is the latest published is kept for
 * RENDER_TEMPLATE_CACHE_MS: a publish through this replica is seen at once, one through another
 * replica within that time. Missing versions are not kept (a version published later is found).
 */
@Injectable()
export class TemplatesRepository implements OnModuleInit {
  private readonly templates: Collection<TemplateDocument>;
  private readonly versions = new Map<string, EmailTemplate>();
  private readonly latest = new Map<string, { template: EmailTemplate; until: number }>();
  /** Lookups of the latest version under way: renders arriving together share one read. */
  private readonly readingLatest = new Map<string, Promise<EmailTemplate | undefined>>();
  /** Raised by every publish through this replica: a read that overlapped one does not cache. */
  private generation = 0;

  constructor(
    @Inject(MONGO_DB) db: Db,
    @Inject(RendererEnv) private readonly env: RendererEnv,
  ) {
    this.templates = db.collection<TemplateDocument>('templates');
  }

  async onModuleInit(): Promise<void> {
    await this.templates.createIndex({ templateId: 1, version: -1 }, { name: 'latest_version' });
  }

  /**
   * The newest published version. Read (by `templateId`, an indexed equality) once per
   * RENDER_TEMPLATE_CACHE_MS, by one lookup however many renders ask at that moment.
   */
  async findLatest(templateId: string, now = Date.now()): Promise<EmailTemplate | undefined> {
    const cached = this.latest.get(templateId);
    if (cached && cached.until > now) return cached.template;
    let read = this.readingLatest.get(templateId);
    if (!read) {
      read = this.readLatest(templateId, now).finally(() => this.readingLatest.delete(templateId));
      this.readingLatest.set(templateId, read);
    }
    return read;
  }

  private async readLatest(templateId: string, now: number): Promise<EmailTemplate | undefined> {
    const generation = this.generation;
    const [document] = await this.templates
      .find({ templateId, ...PUBLISHED })
      .sort({ version: -1 })
      .limit(1)
      .toArray();
    if (!document) return undefined;
    const template = this.keep(renderedPartsOf(document));
    if (this.env.RENDER_TEMPLATE_CACHE_MS > 0 && generation === this.generation) {
      if (this.latest.size >= CACHED_VERSIONS) this.latest.clear();
      this.latest.set(templateId, { template, until: now + this.env.RENDER_TEMPLATE_CACHE_MS });
    }
    return template;
  }

  /** One published version (a draft is never sent). */
  async findVersion(templateId: string, version: number): Promise<EmailTemplate | undefined> {
    const cached = this.versions.get(`${templateId}:${version}`);
    if (cached) return cached;
    const document = await this.templates.findOne({ _id: `${templateId}:${version}`, ...PUBLISHED });
    return document ? this.keep(renderedPartsOf(document)) : undefined;
  }

  /** Keeps a published version (it never changes), and the same object for every send of it. */
  private keep(template: EmailTemplate): EmailTemplate {
    const key = `${template.templateId}:${template.version}`;
    const kept = this.versions.get(key);
    if (kept) return kept;
    if (this.versions.size >= CACHED_VERSIONS) this.versions.clear();
    this.versions.set(key, template);
    return template;
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
    this.forgetLatest(templateId);
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
    this.forgetLatest(template.templateId);
  }

  /** After a publish: the next render reads the latest version again, and no read begun before it is kept. */
  private forgetLatest(templateId: string): void {
    this.generation++;
    this.latest.delete(templateId);
    this.readingLatest.delete(templateId);
  }
}
