// Grafana dashboards (k8s/base/grafana, ConfigMap grafana-dashboards): well-formed dashboard JSON, and
// every metric a panel queries is one the services export (found in libs/ and apps/ source, named as
// the collector's Prometheus exporter names OpenTelemetry instruments).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '@mesh/testing';
import { type K8sObject } from './k8s/schema.js';
import { kustomizeBuild } from './k8s/toolchain.js';

const DASHBOARDS = join(repoRoot(), 'k8s', 'base', 'grafana');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(
      (entry) =>
        entry.isFile() && entry.name.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(entry.name),
    )
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Prometheus series names of every OpenTelemetry instrument created in libs/ and apps/. */
function exportedSeries(): Set<string> {
  const series = new Set<string>();
  const units: Record<string, string> = { s: '_seconds', ms: '_milliseconds', By: '_bytes' };
  for (const file of [...sourceFiles(join(repoRoot(), 'libs')), ...sourceFiles(join(repoRoot(), 'apps'))]) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/\.create(\w+)\(\s*'([^']+)'\s*(?:,\s*\{([^}]*)\})?/g)) {
      const [, instrument = '', name = '', options = ''] = match;
      let base = name.replace(/[^a-zA-Z0-9_:]/g, '_');
      const unit = /unit:\s*'([^']+)'/.exec(options)?.[1];
      const suffix = unit ? units[unit] : undefined;
      if (suffix && !base.endsWith(suffix)) base += suffix;
      if (/Histogram/.test(instrument))
        for (const part of ['_bucket', '_sum', '_count']) series.add(base + part);
      else if (/Counter/.test(instrument) && !/UpDown/.test(instrument)) series.add(`${base}_total`);
      else series.add(base);
    }
  }
  return series;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { refId: string; expr: string }[];
  datasource?: { uid: string };
}

const files = readdirSync(DASHBOARDS).filter((name) => name.endsWith('.json'));

describe.each(files)('dashboard %s', (file) => {
  const dashboard = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as {
    uid: string;
    title: string;
    schemaVersion: number;
    panels: Panel[];
    templating: { list: { name: string }[] };
  };

  it('is a well-formed Grafana dashboard', () => {
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(dashboard.title).not.toBe('');
    expect(Number.isInteger(dashboard.schemaVersion)).toBe(true);
    const variables = new Set(dashboard.templating.list.map((variable) => variable.name));
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(['timeseries', 'stat', 'text', 'gauge', 'table', 'bargauge']).toContain(panel.type);
      const { x, y, w, h } = panel.gridPos;
      for (const value of [x, y, w, h]) expect(Number.isInteger(value)).toBe(true);
      expect(x + w).toBeLessThanOrEqual(24);
      if (panel.type === 'text') continue;
      expect(panel.targets?.length).toBeGreaterThan(0);
      const refIds = (panel.targets ?? []).map((target) => target.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const used of JSON.stringify(panel).matchAll(/\$\{?(\w+)/g))
        if (!used[1]?.startsWith('__'))
          expect({ panel: panel.title, variable: used[1] && variables.has(used[1]) }).toEqual({
            panel: panel.title,
            variable: true,
          });
    }
    // No two panels overlap.
    const cells = new Set<string>();
    for (const { gridPos } of dashboard.panels)
      for (let row = gridPos.y; row < gridPos.y + gridPos.h; row++)
        for (let column = gridPos.x; column < gridPos.x + gridPos.w; column++) {
          const cell = `${row}/${column}`;
          expect(cells.has(cell)).toBe(false);
          cells.add(cell);
        }
  });

  it('queries only metrics the services export, and covers throughput, latency, lag and dead letters', () => {
    const exported = exportedSeries();
    expect(exported).toContain('messaging_consumer_processed_total'); // the naming rule itself
    const used = new Set<string>();
    for (const panel of dashboard.panels)
      for (const target of panel.targets ?? [])
        for (const match of target.expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)) used.add(match[1] ?? '');
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
    for (const needed of [
      'messaging_consumer_processed_total',
      'messaging_process_duration_seconds_bucket',
      'messaging_consumer_pending',
      'messaging_consumer_dead_lettered_total',
      'messaging_dlq_depth',
      'delivery_outcomes_total',
    ])
      expect(used).toContain(needed);
  });

  it('breaks delivery outcomes down by attributes delivery records (outcome, reason; skipped by reason)', () => {
    const source = sourceFiles(join(repoRoot(), 'apps', 'delivery'))
      .map((file) => readFileSync(file, 'utf8'))
      .find((text) => text.includes("createCounter('delivery.outcomes'"));
    expect(source).toBeDefined();
    const queries = dashboard.panels
      .flatMap((panel) => panel.targets ?? [])
      .map((target) => target.expr)
      .filter((expr) => expr.includes('delivery_outcomes_total'));
    if (queries.length === 0) return; // another dashboard file
    for (const expr of queries) {
      for (const [, labels = ''] of expr.matchAll(/by \(([^)]*)\)/g))
        for (const label of labels.split(',').map((name) => name.trim()))
          expect({ label, recorded: new RegExp(`\\b${label}:`).test(source ?? '') }).toEqual({
            label,
            recorded: true,
          });
      for (const [, label, value] of expr.matchAll(/(\w+)="([^"]*)"/g))
        if (label !== 'job')
          expect({ label, value, recorded: (source ?? '').includes(`${label}: '${value}'`) }).toEqual({
            label,
            value,
            recorded: true,
          });
    }
    expect(queries.some((expr) => /outcome="skipped"/.test(expr) && /by \(reason\)/.test(expr))).toBe(true);
  });
});

it('ships the dashboards in ConfigMap grafana-dashboards, labelled for the Grafana sidecar, in every overlay', () => {
  for (const overlay of readdirSync(join(repoRoot(), 'k8s', 'overlays'))) {
    const objects = parseAllDocuments(kustomizeBuild(join(repoRoot(), 'k8s', 'overlays', overlay)))
      .map((document) => document.toJS() as K8sObject | null)
      .filter((object): object is K8sObject => object?.kind === 'ConfigMap');
    const configMap = objects.find((object) => object.metadata.name.startsWith('grafana-dashboards'));
    expect(configMap?.metadata.labels?.grafana_dashboard).toBe('1');
    for (const file of files)
      expect(JSON.parse((configMap?.data as Record<string, string>)[file] ?? '{}')).toEqual(
        JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')),
      );
  }
}, 120_000);
