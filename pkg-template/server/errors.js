// One error class for what durafetch/server refuses; `kind` says which.
// Store failures are never thrown at the caller: they become 503 answers.

function describe(value) {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null || typeof value !== 'object') return String(value);
  return 'an object';
}

export class IdempotencyError extends Error {
  /**
   * kinds: 'invalid-option' (with `option`, `expected`, `value`),
   * 'invalid-handler', 'invalid-response', 'invalid-scope', 'invalid-fingerprint',
   * 'invalid-store' (a store or client that cannot work as given: the message
   * says what to change; thrown at construction or at the first request).
   */
  constructor(kind, message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'IdempotencyError';
    this.kind = kind;
    for (const [name, value] of Object.entries(details)) if (name !== 'cause') this[name] = value;
  }

  /** Also true for an IdempotencyError from another realm or copy of the package. */
  static is(error) {
    return error instanceof IdempotencyError || (error !== null && typeof error === 'object' && error.name === 'IdempotencyError');
  }

  static invalidOption(option, expected, value) {
    return new IdempotencyError('invalid-option', `Invalid option ${option}: expected ${expected}, got ${describe(value)}`,
      { option, expected, value });
  }
}
