import { Injectable } from '@nestjs/common';
import { Eta, type TemplateFunction } from 'eta';
import { type EmailTemplate } from '../templates/email-template.js';
import { assertComplete, escapeHtml, printable } from './template-helpers.js';

export interface RenderedParts {
  subject: string;
  html: string;
  text: string;
}

/** Eta's own raw tag (`<%~ %>`): refused, so raw HTML goes only through the reviewed `it.raw()`. */
const RAW_TAG = /<%[-_]?\s*~/;

export class TemplateCompileError extends Error {}

/**
 * Eta with output escaped by default (`<%= %>`) and every printed value checked (no `undefined`,
 * `null`, `NaN` or `[object Object]`); compiled once per published template version, which never
 * changes.
 */
@Injectable()
export class TemplateEngine {
  private readonly html = new Eta({
    autoEscape: true,
    escapeFunction: escapeHtml,
    autoFilter: true,
    filterFunction: printable as (value: unknown) => string,
    autoTrim: false,
    useWith: false,
    varName: 'it',
  });
  private readonly plain = new Eta({
    autoEscape: false,
    autoFilter: true,
    filterFunction: printable as (value: unknown) => string,
    autoTrim: false,
    useWith: false,
    varName: 'it',
  });
  private readonly compiled = new Map<
    string,
    { subject: TemplateFunction; html: TemplateFunction; text: TemplateFunction }
  >();

  render(template: EmailTemplate, data: object): RenderedParts {
    const parts = this.compile(template);
    const rendered = {
      subject: this.plain.render(parts.subject, data).replace(/\s+/g, ' ').trim(),
      html: this.html.render(parts.html, data),
      text: this.plain.render(parts.text, data),
    };
    for (const [part, value] of Object.entries(rendered)) assertComplete(part, value);
    return rendered;
  }

  /** What stops a version from being published: parts that do not compile, or use the raw tag. */
  check(template: EmailTemplate): string[] {
    const problems: string[] = [];
    for (const part of ['subject', 'html', 'text'] as const) {
      const source = template[part];
      if (RAW_TAG.test(source)) {
        problems.push(`${part}: uses Eta's raw tag "<%~"; print reviewed HTML with <%= it.raw(...) %>`);
        continue;
      }
      try {
        (part === 'html' ? this.html : this.plain).compile(source);
      } catch (error) {
        problems.push(`${part}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    return problems;
  }

  private compile(template: EmailTemplate) {
    const key = `${template.templateId}:${template.version}`;
    let parts = this.compiled.get(key);
    if (!parts) {
      for (const part of ['subject', 'html', 'text'] as const) {
        if (RAW_TAG.test(template[part])) {
          throw new TemplateCompileError(
            `the ${part} uses Eta's raw tag "<%~"; print reviewed HTML with <%= it.raw(...) %>`,
          );
        }
      }
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
