import { z } from 'zod';

/**
 * `keys:` in the switch configuration: where the data keys are, never the keys themselves (SECURITY.md,
 * "Key loading"). Without `dataKeyFile`, the data key comes from $CREDENTIALS_DIRECTORY/data-key (systemd's
 * LoadCredential=data-key:…), JHT_DATA_KEY_FILE or JHT_DATA_KEY (hex; removed from the environment once read).
 */
export const keysConfigSchema = z.object({
  /** The current data key: every new hash and request digest is made under it. */
  dataKeyFile: z.string().min(1).optional(),
  /** During a rotation window only: the key being replaced, still tried by lookups. */
  previousDataKeyFile: z.string().min(1).optional(),
  /** Retired from lookups, still verifying what was written under them (request digests, 3 days). */
  verifyOnlyKeyFiles: z.array(z.string().min(1)).default([]),
}).strict().default({ verifyOnlyKeyFiles: [] });

export type KeysConfig = z.output<typeof keysConfigSchema>;
