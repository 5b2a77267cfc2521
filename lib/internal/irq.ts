/**
 * The per-thread "preempt count" behind lib/context.ts: entered and left by the
 * expiry passes only. Kept out of the package's exports so user code cannot
 * fake a context.
 * @internal
 */
export const irq = { hard: 0, soft: 0 };

export function enterIrq(soft: boolean): void {
  if (soft) irq.soft++;
  else irq.hard++;
}

export function exitIrq(soft: boolean): void {
  if (soft) irq.soft--;
  else irq.hard--;
}
