/** A CLI command was called wrongly: bin/crest.ts prints the message (no stack) and exits 1. */
export class CommandUsageError extends Error {
  override name = 'CommandUsageError';
}
