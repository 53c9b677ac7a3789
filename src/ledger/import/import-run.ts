import type { Pool } from 'pg';
import type { FileKind } from './file-kind.js';
import { stageImport, type ImportSummary, type RunImportOptions, type StagedImport } from './importer.js';

/**
 * Several files in one run, each in a transaction of its own, committed in the order given. Three kinds of
 * work overlap, so that this process and PostgreSQL, and two PostgreSQL backends, work at once on two cores:
 * - the next file is read, hashed and staged (this process's work) while the ones before it are applied;
 * - a file waits to be checked and applied for the earlier files it depends on (lockImportsFor): every earlier
 *   file for a participants file, and the earlier participants files and files of its own kind otherwise. A
 *   links file and a postings file after the same participants are applied side by side;
 * - a file commits only after every earlier one. A file that fails stops the run: the files before it stay
 *   applied, the files after it are rolled back or never staged, and its error is the run's.
 */
export async function runImports(pool: Pool, files: readonly RunImportOptions[], onApplied: (summary: ImportSummary) => void): Promise<ImportSummary[]> {
  const outcomes: Promise<ImportSummary>[] = [];
  let stagings: Promise<unknown> = Promise.resolve();
  let stopped = false;
  for (const file of files) {
    const earlier = [...outcomes];
    const dependencies = earlier.filter((_, j) => dependsOn(file.kind, files[j]!.kind));
    const staging = stagings.then(() => (stopped ? undefined : stageImport(pool, file)));
    stagings = staging.catch(() => undefined);
    const outcome = applyInTurn(staging, dependencies, earlier);
    outcome.catch(() => {
      stopped = true; // awaited in order below
    });
    outcomes.push(outcome);
  }
  const summaries: ImportSummary[] = [];
  for (const outcome of outcomes) {
    try {
      summaries.push(await outcome);
    } catch (error) {
      await Promise.allSettled(outcomes); // no transaction of the run is left open
      throw error;
    }
    onApplied(summaries.at(-1)!);
  }
  return summaries;
}

/** Rejects with this when an earlier file failed: never the run's error, since that file's comes first. */
class NotImported extends Error {}

async function applyInTurn(staging: Promise<StagedImport | undefined>, dependencies: readonly Promise<unknown>[],
  earlier: readonly Promise<unknown>[]): Promise<ImportSummary> {
  const staged = await staging;
  if (!staged) throw new NotImported('an earlier file failed');
  const allCommitted = (): Promise<void> => Promise.all(earlier).then(() => undefined, () => {
    throw new NotImported('an earlier file failed');
  });
  try {
    await Promise.all(dependencies);
  } catch {
    await staged.abandon();
    throw new NotImported('an earlier file failed');
  }
  return staged.apply(allCommitted);
}

function dependsOn(kind: FileKind, earlier: FileKind): boolean {
  return kind.name === 'participants' || earlier.name === 'participants' || kind.name === earlier.name;
}
