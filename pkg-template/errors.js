// DurafetchError: one class for everything durafetch refuses or gives up on.
// The core reports kinds and reasons as numbers (contract.js); the words are here.
import { CAUSE_TEXTS, FIELDS } from './contract.js';

/** Why a stored value could not be read (the core's DecodeError code). */
export function unreadable(code) {
  if (code >= 16) return `field '${FIELDS[code - 16]}' is missing or malformed`;
  return ['not a durafetch record', 'unknown layout (this version reads layout 1)',
    'method, URL or body do not match the stored fingerprint'][code] ?? 'unreadable';
}

/** The core's words for a cause, with what was unreadable when that is why. */
export function causeText(text, code) {
  return CAUSE_TEXTS[text] + (code === undefined ? '' : `: ${unreadable(code)}`);
}

function describe(value) {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null || typeof value !== 'object') return String(value);
  return 'an object';
}

function messageFor(kind, d) {
  const what = d.method && d.url ? `${d.method} ${d.url}` : 'The request';
  const tries = `${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`;
  const why = d.cause && d.cause.message ? ` (last error: ${d.cause.message})` : '';
  switch (kind) {
    case 'invalid-option':
      return `Invalid option ${d.option}: expected ${d.expected}, got ${describe(d.value)}`;
    case 'key-reuse':
      return `Idempotency key ${JSON.stringify(d.key)} is already in use by a different request ` +
        '(method, URL or body differ): use a new key for a new operation';
    case 'not-replayable':
      return 'A ReadableStream body can be read only once, so it cannot be resent: pass a string, ' +
        'ArrayBuffer, typed array, Blob, FormData or URLSearchParams instead';
    case 'invalid-request':
      return `Invalid request: ${d.cause && d.cause.message ? d.cause.message : String(d.cause)}`;
    case 'aborted':
      return `${what} was aborted by the caller after ${tries}`;
    case 'circuit-open':
      return `Circuit open for ${d.origin} after repeated failures: failing fast without sending; ` +
        `next probe in ${d.retryAfterMs} ms`;
    case 'exhausted':
      return `${what} got no answer after ${tries}${d.reason === 'budget'
        ? ` (${d.origin}'s retry budget is spent: no more retries until it refills or something succeeds; see retryBudget)` : ''}${why}`;
    case 'deadline':
      return `${what} got no answer within deadlineMs (${tries})${why}`;
    case 'closed':
      return 'This durafetch client is closed';
    case 'queued':
      return `${what} has no definitive answer yet (${d.reason}, ${tries}): it stays in the outbox and will be ` +
        `resent with the same key ${JSON.stringify(d.key)}; its outcome arrives as a 'settled' event`;
    case 'storage':
      return `Storage failed (${d.action})${d.sent === false ? ', so nothing was sent' : ''}: ` +
        `${d.cause && d.cause.message ? d.cause.message : String(d.cause)}`;
    case 'before-replay':
      return `beforeReplay threw for ${JSON.stringify(d.key)}: ${d.cause && d.cause.message ? d.cause.message : String(d.cause)}`;
    case 'workflow-failed':
      return `Workflow run ${JSON.stringify(d.key)} failed${d.step ? ` at step '${d.step}'` : ''}: ` +
        `${d.cause && d.cause.message ? d.cause.message : String(d.cause)}` +
        (d.compensated?.length ? `; compensated: ${d.compensated.map((s) => `'${s}'`).join(', ')}` : '; nothing to compensate');
    case 'workflow-mismatch':
      return `Workflow run ${JSON.stringify(d.key)} stopped: its code reached step '${d.step}' as step ${d.index}, ` +
        'which its journal does not have there (the code changed while the run was pending, or a step name is used ' +
        'twice); completed steps are not run again or guessed at';
    case 'step-status':
      return `Step '${d.step}' got status ${d.status}: a step fails on a Response of 400 or more (check the status ` +
        'inside the step and return something else to accept it)';
    case 'unsupported-runtime':
      return `This runtime refused ${d.missing}, which durafetch needs (in Cloudflare workerd, randomness is ` +
        'only available inside a request: call createClient() in your fetch handler, not at module top level)';
    default:
      return `durafetch: ${kind}`;
  }
}

/** One error class for everything durafetch refuses or gives up on; `kind` says which. */
export class DurafetchError extends Error {
  constructor(kind, details = {}) {
    super(messageFor(kind, details), 'cause' in details ? { cause: details.cause } : undefined);
    this.name = 'DurafetchError';
    this.kind = kind;
    this.key = details.key ?? null;
    this.attempts = details.attempts ?? 0;
    for (const field of ['option', 'expected', 'value', 'origin', 'retryAfterMs', 'method', 'url', 'reason', 'status', 'action', 'missing', 'sent',
      'step', 'index', 'compensated', 'response', 'settled', 'remaining']) {
      if (details[field] !== undefined) this[field] = details[field];
    }
  }

  /** Works across realms (iframes, workers' structured clones), unlike instanceof. */
  static is(value) {
    return value instanceof DurafetchError ||
      (value != null && value.name === 'DurafetchError' && typeof value.kind === 'string');
  }
}
