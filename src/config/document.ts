import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import { ConfigError, type ConfigPosition } from './config-error.js';

/** A configuration file as read: its content, and where each of its keys is, for error messages. */
export interface ConfigDocument {
  readonly content: Record<string, unknown>;
  /** Line and column of the key at `path`, or of its nearest ancestor present in the file. */
  locate(path: readonly PropertyKey[]): ConfigPosition | undefined;
}

/**
 * Reads a JSON or YAML configuration file. A syntax error is reported by file, line, column and the
 * parser's error code only: the parsers' own messages quote the offending line, which may be the line that
 * holds a MAC key or a password.
 */
export function readConfigDocument(file: string): ConfigDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, '', `cannot read: ${(error as NodeJS.ErrnoException).code ?? 'unknown error'}`);
  }
  const json = extname(file) === '.json';
  // YAML 1.2 is a superset of JSON, so the YAML parser also gives positions in a JSON file.
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number): ConfigPosition => lineCounter.linePos(offset);
  let content: unknown;
  if (json) {
    try {
      content = JSON.parse(text);
    } catch {
      const syntax = doc.errors[0];
      throw new ConfigError(file, '', 'not valid JSON', syntax ? at(syntax.pos[0]) : undefined);
    }
  } else {
    const syntax = doc.errors[0];
    if (syntax) throw new ConfigError(file, '', `not valid YAML (${syntax.code})`, at(syntax.pos[0]));
    try {
      content = doc.toJS();
    } catch (error) {
      throw new ConfigError(file, '', `not valid YAML (${(error as Error).name})`);
    }
  }
  if (content === null || typeof content !== 'object' || Array.isArray(content)) {
    throw new ConfigError(file, '', 'the top level must be an object', { line: 1, col: 1 });
  }
  return { content: content as Record<string, unknown>, locate: (path) => locate(doc, path, at) };
}

function locate(doc: Document, path: readonly PropertyKey[], at: (offset: number) => ConfigPosition): ConfigPosition | undefined {
  // A key the file does not have (a required one left out) is reported at the object that lacks it.
  for (let length = path.length; length > 0; length--) {
    const node: unknown = doc.getIn(path.slice(0, length).map((p) => (typeof p === 'number' ? p : String(p))), true);
    if (isNode(node) && node.range) return at(node.range[0]);
  }
  return undefined;
}
