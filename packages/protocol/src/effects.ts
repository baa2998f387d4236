/** The only three outcomes a decision can have. Anything else on the wire is treated as DENY. */
export const EFFECTS = ['PERMIT', 'DEFER', 'DENY'] as const;
export type Effect = (typeof EFFECTS)[number];

/** Effects as written in policy source. */
export type PolicyEffect = 'permit' | 'defer' | 'deny';

export function toWireEffect(effect: PolicyEffect): Effect {
  return effect === 'permit' ? 'PERMIT' : effect === 'defer' ? 'DEFER' : 'DENY';
}

/** Fail closed: an unknown effect string is a DENY. */
export function parseWireEffect(value: unknown): Effect {
  return value === 'PERMIT' || value === 'DEFER' ? value : 'DENY';
}
