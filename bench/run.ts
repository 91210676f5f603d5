import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Runs the benchmarks named on the command line (folders of bench/), or all of them, one after the
// other so they never compete for the CPU. Usage: npm run bench [-- <name>… [-- <bench args>]]
const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(here, entry.name, `${entry.name}.bench.js`)))
  .map((entry) => entry.name)
  .sort();

const args = process.argv.slice(2);
const separator = args.indexOf('--');
const names = separator === -1 ? args : args.slice(0, separator);
const benchArgs = separator === -1 ? [] : args.slice(separator + 1);
const unknown = names.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}

let failed = 0;
for (const name of names.length > 0 ? names : available) {
  console.log(`\n## bench/${name}`);
  const run = spawnSync(process.execPath, [join(here, name, `${name}.bench.js`), ...benchArgs], {
    stdio: 'inherit',
  });
  if (run.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
