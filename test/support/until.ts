/**
 * Waits until `condition` holds, checking every few milliseconds, so a test
 * waits for an event instead of for a time a slow machine might not meet.
 * Only mocha's timeout bounds it.
 */
export async function until(condition: () => boolean, pollMs = 5): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, pollMs));
}
