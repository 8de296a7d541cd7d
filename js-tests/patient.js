// Options under which a client's own backoff never fires during a test, so
// the test's other actor (another tab, a worker, drain()) surely goes first.
// Backoff is full jitter, uniform in [0, maxDelayMs]: a minute's window once
// drew a wait short enough for tab B to resend before tab A did (a flaky
// test), so the window is a day and the seed fixed (the same draw each run).
export const PATIENT_MS = 86_400_000;
export const PATIENT = { maxAttempts: 1, baseDelayMs: PATIENT_MS, maxDelayMs: PATIENT_MS, seed: 1 };
