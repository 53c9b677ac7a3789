/** Who ran a data or key command, as the journal tables record it (link_change, data_key_retirement). */
export interface Operator {
  /** The kernel's real uid of the process (process.getuid). */
  uid: number;
  /** SUDO_UID as the environment claims it: recorded, never trusted. */
  sudoUid: string | undefined;
}

/** SUDO_UID as stored beside the real uid: a number, or null when absent or not one. */
export function claimedSudoUid(operator: Operator): string | null {
  return operator.sudoUid !== undefined && /^[0-9]{1,10}$/.test(operator.sudoUid) ? operator.sudoUid : null;
}

/** The operator of this process: its real uid, and the SUDO_UID its environment claims. */
export function currentOperator(): Operator {
  return { uid: process.getuid?.() ?? -1, sudoUid: process.env.SUDO_UID };
}
