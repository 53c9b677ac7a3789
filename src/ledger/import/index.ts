/** The data import (specs/DATA-FILES.md): the CLI and the demo seed import from here. */
export { importInto, lockImports, runImport, stageImport, type ImportOptions, type ImportSummary, type RunImportOptions, type StagedImport } from './importer.js';
export { runImports } from './import-run.js';
export { ImportError, MAX_ERRORS_SHOWN, formatRowError, type ImportErrorCode, type RowError } from './errors.js';
export type { ApplyCounts, FileKind, LinkMove } from './file-kind.js';
export { participantsFile } from './participants-file.js';
export { linksFile, linkNumber } from './links-file.js';
export { postingsFile } from './postings-file.js';
export { FILE_KINDS } from './file-kinds.js';
