import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * The integration suite drives real programs from Debian's packages (promtool, HAProxy, Postfix, swaks,
 * Net::SMPP). A developer without one sees the test skipped, naming the package to install; CI installs them
 * all (.ci/run) and fails when any integration test was skipped.
 */
export function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The binary's path, or skips the calling test or hook: `before(function () { bin = requireBinary(this, ...) })`. */
export function requireBinary(context: Mocha.Context, name: string, debianPackage: string): string {
  const found = findBinary(name);
  if (!found) {
    process.stderr.write(`  skipped: ${name} not found; install it with: apt-get install ${debianPackage}\n`);
    context.skip();
  }
  return found as string;
}
