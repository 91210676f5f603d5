import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '@mesh/testing';

/** The example overlay of k8s/README.md: prod with an external MongoDB and an external NATS. */
export const EXTERNAL_EXAMPLE_DIR = join(repoRoot(), 'k8s', 'examples', 'prod-external');
const CONFIG_FILE = 'external-services.yaml';

export type ExternalComponent = 'external-mongodb' | 'external-nats';

/** The values of the example's ConfigMap mesh-external-services (mongodbCidr, natsCidr, ...). */
export function exampleExternalServices(): Record<string, string> {
  const file = join(EXTERNAL_EXAMPLE_DIR, CONFIG_FILE);
  return (parse(readFileSync(file, 'utf8')) as { data: Record<string, string> }).data;
}

/**
 * Writes, in a temporary directory, the overlay a user writes for prod (or `on`, a directory under k8s/)
 * with some of the external components (as the example does, with its ConfigMap unless `withConfig` is
 * false). Returns the directory and a function that removes it.
 */
export function writeExternalOverlay(
  components: readonly (ExternalComponent | 'autoscaling-cpu')[],
  { withConfig = true, on = ['overlays', 'prod'] }: { withConfig?: boolean; on?: readonly string[] } = {},
): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-k8s-external-'));
  // kustomize takes relative paths only (directories outside the overlay are allowed).
  const fromDir = (...path: string[]) => relative(dir, join(repoRoot(), 'k8s', ...path));
  if (withConfig) copyFileSync(join(EXTERNAL_EXAMPLE_DIR, CONFIG_FILE), join(dir, CONFIG_FILE));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'namespace: personalization-mesh',
      'resources:',
      `  - ${fromDir(...on)}`,
      ...(withConfig ? [`  - ${CONFIG_FILE}`] : []),
      'components:',
      ...components.map((component) => `  - ${fromDir('components', component)}`),
      '',
    ].join('\n'),
  );
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
