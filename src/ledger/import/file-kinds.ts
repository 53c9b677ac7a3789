import type { FileKind } from './file-kind.js';
import { linksFile } from './links-file.js';
import { participantsFile } from './participants-file.js';
import { postingsFile } from './postings-file.js';

/** The three data files by the name the CLI takes (`jht-switch import participants|links|postings`). */
export const FILE_KINDS: Readonly<Record<FileKind['name'], FileKind>> = {
  participants: participantsFile,
  links: linksFile,
  postings: postingsFile,
};
