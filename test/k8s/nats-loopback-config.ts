import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@mesh/testing';

/** The NATS configuration the manifests mount (ConfigMap nats-config). */
export const NATS_CONFIG_DIR = join(repoRoot(), 'k8s', 'base', 'nats');

export const NATS_SERVICE_USERS = [
  'ingest',
  'identity',
  'enrichment',
  'recommendation',
  'renderer',
  'delivery',
] as const;

export interface LoopbackNode {
  readonly index: number;
  readonly clientPort: number;
  readonly clusterPort: number;
  readonly httpPort: number;
}

/**
 * The manifests' nats.conf for node `index` of a loopback cluster: only the listen addresses, the
 * routes, the pid file and the store directory change; JetStream durability, cluster name, lame duck
 * and auth.conf (users and permissions) are the manifests' own. Each rewrite must match exactly once,
 * so a change in the manifest's shape fails here instead of silently testing something else.
 */
export function renderLoopbackConfig(nodes: readonly LoopbackNode[], index: number, dir: string): string {
  const node = nodes[index];
  if (!node) throw new Error(`no node ${index}`);
  let text = readFileSync(join(NATS_CONFIG_DIR, 'nats.conf'), 'utf8');
  const rewrite = (from: RegExp, to: string): void => {
    const matches = text.match(new RegExp(from.source, 'gm'));
    if (matches?.length !== 1) {
      throw new Error(`nats.conf: expected one line matching ${String(from)}, found ${matches?.length ?? 0}`);
    }
    text = text.replace(new RegExp(from.source, 'm'), to);
  };
  rewrite(/^listen: 0\.0\.0\.0:4222$/, `listen: 127.0.0.1:${node.clientPort}`);
  rewrite(/^http: 0\.0\.0\.0:8222$/, `http: 127.0.0.1:${node.httpPort}`);
  rewrite(/^pid_file: .*$/, `pid_file: "${join(dir, `nats-${index}.pid`)}"`);
  rewrite(/^ {2}store_dir: .*$/, `  store_dir: "${join(dir, `jetstream-${index}`)}"`);
  rewrite(/^ {2}listen: 0\.0\.0\.0:6222$/, `  listen: 127.0.0.1:${node.clusterPort}`);
  nodes.forEach((peer, peerIndex) =>
    rewrite(
      new RegExp(`^ {4}nats://nats-${peerIndex}\\.nats-headless:6222$`),
      `    nats://127.0.0.1:${peer.clusterPort}`,
    ),
  );
  return text;
}

/** Writes nats-<i>.conf for every node and the manifests' auth.conf beside them (the include). */
export function writeLoopbackConfigs(nodes: readonly LoopbackNode[], dir: string): string[] {
  copyFileSync(join(NATS_CONFIG_DIR, 'auth.conf'), join(dir, 'auth.conf'));
  return nodes.map((_, index) => {
    const file = join(dir, `nats-${index}.conf`);
    writeFileSync(file, renderLoopbackConfig(nodes, index, dir));
    return file;
  });
}
