// Just enough of the untyped `iso_8583` package (devDependency) for the interop tests and the benchmark.
declare module 'iso_8583' {
  type IsoJson = Record<string, string>;
  class Iso8583 {
    constructor(message?: IsoJson, customFormats?: Record<string, unknown>);
    getRawMessage(): Buffer | { error: string };
    getBufferMessage(): Buffer | { error: string };
    getIsoJSON(buffer: Buffer, config?: { bitmapEncoding?: 'utf8' | 'hex'; lenHeader?: boolean }): IsoJson | { error: string };
    validateMessage(): boolean | { error: string };
  }
  export default Iso8583;
}
