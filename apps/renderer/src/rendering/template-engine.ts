import { Injectable } from '@nestjs/common';
import { Eta, type TemplateFunction } from 'eta';
import { type EmailTemplate } from '../templates/email-template.js';

export interface RenderedParts {
  subject: string;
  html: string;
  text: string;
}

/**
 * Eta with output escaped by default (`<%= %>`); compiled once per published template version,
 * which never changes.
 */
@Injectable()
export class TemplateEngine {
  private readonly html = new Eta({ autoEscape: true, autoTrim: false, useWith: false, varName: 'it' });
  private readonly plain = new Eta({ autoEscape: false, autoTrim: false, useWith: false, varName: 'it' });
  private readonly compiled = new Map<
    string,
    { subject: TemplateFunction; html: TemplateFunction; text: TemplateFunction }
  >();

  render(template: EmailTemplate, data: object): RenderedParts {
    const parts = this.compile(template);
    return {
      subject: this.plain.render(parts.subject, data).replace(/\s+/g, ' ').trim(),
      html: this.html.render(parts.html, data),
      text: this.plain.render(parts.text, data),
    };
  }

  private compile(template: EmailTemplate) {
    const key = `${template.templateId}:${template.version}`;
    let parts = this.compiled.get(key);
    if (!parts) {
      parts = {
        subject: this.plain.compile(template.subject),
        html: this.html.compile(template.html),
        text: this.plain.compile(template.text),
      };
      this.compiled.set(key, parts);
    }
    return parts;
  }
}
