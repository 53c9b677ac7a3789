/**
 * Codec benchmark: pack + unpack of the contract's 0200 and 0210, our codec (both profiles) against the
 * iso_8583 package, in one run. Run by hand:
 *
 *   npm run bench:codec
 *
 * Prints the median µs per pack+unpack (p10-p90 in brackets), heap bytes allocated per message, and the
 * ratio iso_8583 / ours.
 */
import Iso8583 from 'iso_8583';
import { IsoMessage, Packager, loadProfile } from '../../src/iso8583/index.js';
import { INQUIRY_0200, INQUIRY_0210, type GoldenMessage } from '../../test/fixtures/contract-messages.js';
import { formatUs, measure, type Measurement } from './measure.js';

const ascii = new Packager(loadProfile('iso87-ascii'));
const binary = new Packager(loadProfile('iso87-binary'));

function oursRoundTrip(packager: Packager, golden: GoldenMessage): () => void {
  const message = new IsoMessage(golden.mti, golden.fields);
  return () => {
    packager.unpack(packager.pack(message));
  };
}

function theirsRoundTrip(golden: GoldenMessage): () => void {
  const json: Record<string, string> = { '0': golden.mti };
  for (const [k, v] of Object.entries(golden.fields)) json[k] = v;
  const decoder = new Iso8583();
  return () => {
    const packed = new Iso8583(json).getBufferMessage();
    if (!Buffer.isBuffer(packed)) throw new Error(packed.error);
    decoder.getIsoJSON(packed, {});
  };
}

function row(label: string, m: Measurement): string {
  const bytes = m.bytesPerOp === undefined ? '     n/a' : String(Math.round(m.bytesPerOp)).padStart(8);
  return `  ${label.padEnd(30)} ${formatUs(m.medianNs)} µs  [${formatUs(m.p10Ns).trim()}-${formatUs(m.p90Ns).trim()}]  ${bytes} B/msg`;
}

console.log(`node ${process.version}, ${process.arch}; pack+unpack per message, median of 41 batches`);
for (const golden of [INQUIRY_0200, INQUIRY_0210]) {
  const oursAscii = measure(oursRoundTrip(ascii, golden));
  const oursBinary = measure(oursRoundTrip(binary, golden));
  const theirs = measure(theirsRoundTrip(golden), { batch: 100, warmup: 500 });
  console.log(`\n${golden.mti} (${golden.title})`);
  console.log(row('jht-switch iso87-ascii', oursAscii));
  console.log(row('jht-switch iso87-binary', oursBinary));
  console.log(row('iso_8583 (its default format)', theirs));
  console.log(`  ratio iso_8583 / ours: ${(theirs.medianNs / oursAscii.medianNs).toFixed(1)}x (ascii), ${(theirs.medianNs / oursBinary.medianNs).toFixed(1)}x (binary)`);
}
