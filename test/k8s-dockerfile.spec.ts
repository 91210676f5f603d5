// Static checks of the image build (docker itself is not available on the test machines).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@mesh/testing';

const read = (...path: string[]): string => readFileSync(join(repoRoot(), ...path), 'utf8');
const rules = (text: string): string[] =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

describe('deploy/docker/Dockerfile', () => {
  const dockerfile = read('deploy', 'docker', 'Dockerfile');
  const instructions = rules(dockerfile.replace(/\\\n/g, ' '));
  const runtime = instructions.slice(instructions.findIndex((line) => /^FROM .* AS runtime$/.test(line)));

  it('builds on Node 24 slim, in stages, with production dependencies only at run time', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-slim$/m);
    expect(instructions.filter((line) => line.startsWith('FROM ')).length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(runtime.some((line) => line.startsWith('COPY --from=build /app/node_modules'))).toBe(false);
  });

  it('runs as a numeric non-root user, with node as PID 1 through exec (SIGTERM drains)', () => {
    const user = runtime.filter((line) => line.startsWith('USER ')).pop();
    expect(user).toMatch(/^USER [1-9]\d*:[1-9]\d*$/);
    expect(runtime.at(-2)).toMatch(/^ENTRYPOINT \[/);
    expect(read('deploy', 'docker', 'mesh-service.sh')).toMatch(/^exec node /m);
    expect(runtime.some((line) => /^(ADD|RUN .*curl)/.test(line))).toBe(false);
  });

  it('keeps the build context small and free of secrets (.dockerignore)', () => {
    const ignored = rules(read('.dockerignore'));
    expect(ignored).toEqual(rules(read('deploy', 'docker', 'Dockerfile.dockerignore')));
    for (const entry of ['**/node_modules', 'dist', '.git', '.tools', '**/.env'])
      expect(ignored).toContain(entry);
  });
});
