const MB = 1024 * 1024;

/**
 * PostgreSQL's defaults (128 MB of shared buffers, 64 MB for an index build) suit a small host shared with
 * other work. The embedded cluster is this machine's ledger, so it is sized as a DBA sizes a dedicated server
 * (docs/database.md, "Sizing"): a quarter of the memory for shared buffers, half of it assumed to be cache, and
 * a 32nd for each index build, within bounds. Measured at 10 million participants (README, "National
 * scale"): with the defaults, the working set of a national ledger is read back from the kernel page by page.
 */
export function embeddedSizing(totalBytes: number): Record<string, string> {
  const mb = (bytes: number, min: number, max: number): string => `${Math.round(Math.min(max, Math.max(min, bytes / MB)))}MB`;
  return {
    shared_buffers: mb(totalBytes / 4, 128, 8192),
    effective_cache_size: mb(totalBytes / 2, 512, 65536),
    maintenance_work_mem: mb(totalBytes / 32, 64, 1024),
  };
}
