import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * --initial for a file whose rows can be inserted part by part (FileKind.initialSegment): the staged rows are
 * COPYed a segment at a time, and each segment is inserted while the next is read and hashed. PostgreSQL and
 * this process then work at once within one file, as runImports makes them work across files. Every segment is
 * kept in `stage` too, where the checks run after the last one: a refused file rolls every segment back with it.
 */

/** Staged chunks (CHUNK_ROWS rows each) per segment: 20,000 rows, ~6 MB of COPY text held, two segments at most. */
const SEGMENT_CHUNKS = 10;

/** COPYs `chunks` into TEMP `segment` and runs `insert` on each segment; returns the rows `insert` counted. */
export async function insertInSegments(client: PoolClient, chunks: AsyncIterable<string>, insert: () => Promise<number>): Promise<number> {
  await client.query('DROP TABLE IF EXISTS pg_temp.segment');
  await client.query('CREATE TEMP TABLE segment (LIKE stage) ON COMMIT DROP');
  const reader = new SegmentReader(chunks);
  let inserted = 0;
  try {
    let next = reader.read();
    for (let segment = await next; segment.length > 0; segment = await next) {
      next = reader.read(); // read and hashed while this one is written
      next.catch(() => undefined); // awaited above, or dropped by stop() below
      await pipeline(Readable.from(segment), client.query(copyFrom('COPY segment FROM STDIN')));
      inserted += await insert();
      await client.query('INSERT INTO stage SELECT * FROM segment');
      await client.query('TRUNCATE segment');
    }
  } finally {
    reader.stop();
  }
  return inserted;
}

/** One segment at a time from the staging generator; stop() ends the reading of a segment that will not be written. */
class SegmentReader {
  readonly #source: AsyncIterator<string>;
  #stopped = false;

  constructor(chunks: AsyncIterable<string>) {
    this.#source = chunks[Symbol.asyncIterator]();
  }

  // Held as buffers, outside the JavaScript heap: a chunk's string then dies young. Kept as strings for a
  // segment's time they were promoted: peak RSS 309 MB for 100,000 participants and 643 MB for 2 million, and
  // still 206 and 220-229 MB with the import's bounded heap growth (import-command.ts), against 177-184 and
  // 189-195 MB as buffers (README, "National scale").
  async read(): Promise<Buffer[]> {
    const segment: Buffer[] = [];
    while (!this.#stopped && segment.length < SEGMENT_CHUNKS) {
      const next = await this.#source.next();
      if (next.done) break;
      segment.push(Buffer.from(next.value));
    }
    return segment;
  }

  stop(): void {
    this.#stopped = true;
  }
}
