import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { RendererEnv } from '../config.js';
import { inlineCss } from '../rendering/css-inlining.js';
import { DEMO_TEMPLATE } from './email-template.js';
import { TemplatesRepository } from './templates.repository.js';

@Injectable()
export class DemoTemplateSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger(DemoTemplateSeeder.name);

  constructor(
    private readonly templates: TemplatesRepository,
    @Inject(RendererEnv) private readonly env: RendererEnv,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.env.MESH_DEMO) return;
    await this.templates.publish(DEMO_TEMPLATE, {
      subject: DEMO_TEMPLATE.subject,
      html: inlineCss(DEMO_TEMPLATE.html),
      text: DEMO_TEMPLATE.text,
      partials: {},
    });
    this.logger.log(`demo template "${DEMO_TEMPLATE.templateId}" v${DEMO_TEMPLATE.version} is published`);
  }
}
