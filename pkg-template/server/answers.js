// The Responses the middleware answers with itself: problem details (400,
// 409, 422, 503) and replays of stored answers.
import { NULL_BODY_STATUSES } from './body.js';

export const REPLAYED_HEADER = 'idempotent-replayed';

/** `verdict`: the core's problem `{ status, body, retryAfter? }`. */
export function problemResponse(verdict) {
  const headers = { 'content-type': 'application/problem+json', 'cache-control': 'no-store' };
  if (verdict.retryAfter !== undefined) headers['retry-after'] = String(verdict.retryAfter);
  return new Response(verdict.body, { status: verdict.status, headers });
}

/** `verdict`: the core's replay; `stored`: the record's bytes. */
export function replayResponse(verdict, stored) {
  const headers = new Headers(verdict.headers);
  headers.set(REPLAYED_HEADER, 'true');
  const body = verdict.bodyOmitted || NULL_BODY_STATUSES.has(verdict.status) ? null : stored.subarray(verdict.bodyOffset);
  return new Response(body, { status: verdict.status, headers });
}

/** The Response for any verdict that is not "run". */
export function answerResponse(claim) {
  return claim.verdict.replayed ? replayResponse(claim.verdict, claim.reply.response) : problemResponse(claim.verdict);
}
