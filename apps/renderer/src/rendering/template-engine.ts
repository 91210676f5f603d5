import { Injectable } from '@nestjs/common';
import { Eta, type TemplateFunction } from 'eta';
import { type EmailTemplate, renderKeyOf } from '../templates/email-template.js';
import { type FiredFallback } from '../templates/data-schema.js';
import { neutralizeUnsafeUrls, textFromHtml, tidyText } from './email-output.js';
import { applyDataSchema, type FallbackState, RENDERING_PART } from './data-fallbacks.js';
import { assertComplete, escapeHtml, printable } from './template-helpers.js';
import { lintTemplate } from './template-lint.js';

export interface RenderedParts {
  subject: string;
  html: string;
  text: string;
}

export interface RenderResult extends RenderedParts {
  /** The declared fallbacks that fired, in the order the schema declares them. */
  fallbacks: FiredFallback[];
}

/** Eta's own raw tag (`<%~ %>`): refused, so raw HTML goes only through the reviewed `it.raw()`. */
const RAW_TAG = /<%[-_]?\s*~/;

export class TemplateCompileError extends Error {}

/** How many compiled versions an engine keeps; a full cache starts again. */
const COMPILED_KEPT = 1_000;

/** Eta's parse errors carry a line; a syntax error of the generated function does not. */
function compileMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = /line (\d+)/i.exec(message)?.[1];
  const first = message.split('\n').find((text) => text.trim() !== '') ?? message;
  return line && !first.includes(`line ${line}`) ? `line ${line}: ${first}` : first;
}

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
    { subject: TemplateFunction; html: TemplateFunction; text?: TemplateFunction }
  >();

  /**
   * Renders one version over `data` (changed in place by the version's declared fallbacks); the
   * compiled version is kept under `key` (renderKeyOf).
   */
  render(
    template: EmailTemplate,
    data: Record<string, unknown>,
    key: string = renderKeyOf(template),
  ): RenderResult {
    const parts = this.compile(template, key);
    const state = data as Record<string, unknown> & FallbackState;
    const fallbacks = applyDataSchema(template.data, state);
    state[RENDERING_PART] = 'text';
    const subject = this.plain.render(parts.subject, data).replace(/\s+/g, ' ').trim();
    const ownText = parts.text
      ? template.textFromHtml
        ? tidyText(this.plain.render(parts.text, data))
        : this.plain.render(parts.text, data)
      : undefined;
    state[RENDERING_PART] = 'html';
    const html = neutralizeUnsafeUrls(this.html.render(parts.html, data)).html;
    const rendered = { subject, html, text: ownText ?? textFromHtml(html) };
    for (const [part, value] of Object.entries(rendered)) assertComplete(part, value);
    return { ...rendered, fallbacks };
  }

  /** What stops a version from being published (see lintTemplate), compile errors included. */
  check(template: EmailTemplate): string[] {
    const problems: string[] = [];
    for (const part of ['subject', 'html', 'text'] as const) {
      const source = template[part];
      if (RAW_TAG.test(source)) {
        const line = source.slice(0, RAW_TAG.exec(source)!.index).split('\n').length;
        problems.push(
          `${part} line ${line}: uses Eta's raw tag "<%~"; print reviewed HTML with <%= it.raw(...) %>`,
        );
        continue;
      }
      try {
        (part === 'html' ? this.html : this.plain).compile(source);
      } catch (error) {
        problems.push(`${part}: ${compileMessage(error)}`);
      }
    }
    return [...problems, ...lintTemplate(template)];
  }

  private compile(template: EmailTemplate, key: string) {
    let parts = this.compiled.get(key);
    if (!parts) {
      if (this.compiled.size >= COMPILED_KEPT) this.compiled.clear();
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
        // A version without a text part gets one made from its rendered HTML.
        ...(template.text.trim() ? { text: this.plain.compile(template.text) } : {}),
      };
      this.compiled.set(key, parts);
    }
    return parts;
  }
}
