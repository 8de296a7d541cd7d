// Types for durafetch/workflows: everything `durafetch` has, and durable
// multi-step workflows (the full module: a page that imports 'durafetch'
// never downloads them).
import type { DurafetchClient, DurafetchOptions, DurafetchRequestInit, StepResponse } from '../index.js';

export * from '../index.js';

/** Loads the full module once, validates `options` and returns a client that runs workflows. */
export function createClient(options?: WorkflowClientOptions): Promise<WorkflowClient>;

export interface WorkflowClientOptions extends Omit<DurafetchOptions, 'workflows'> {
  /**
   * Durable multi-step workflows this client runs, by name. A run of one of
   * these names left unfinished by an earlier page (or process) is resumed by
   * createClient at the step that was interrupted.
   */
  workflows?: Record<string, Workflow>;
}

/** A step's fetch: durafetch's, each request under a key fixed by the run, the step and its place in the step. */
export type StepFetch = (input: RequestInfo | URL, init?: Omit<DurafetchRequestInit, 'idempotencyKey'>) => Promise<Response>;

/** What a step's value is journaled as: a Response becomes a StepResponse. */
export type Journaled<T> = Awaited<T> extends Response ? StepResponse : Awaited<T>;

export interface StepOptions<T> {
  /** Compensates this step if a later step fails the run: a durable step of its own, with the step's journaled result. */
  undo?: (fetch: StepFetch, result: Journaled<T>) => unknown;
}

/**
 * Runs one step: `body` runs once (again only if it was interrupted, with
 * the same keys); a completed step returns its journaled result. A Response
 * resolves as a StepResponse (a status of 400 or more fails the step, kind
 * 'step-status'); other values must be structured-cloneable.
 */
export type Step = <T>(name: string, body: (fetch: StepFetch) => T | Promise<T>, options?: StepOptions<T>) =>
  Promise<Journaled<T>>;

/** A workflow: deterministic code over steps. Its return value is structured-cloneable. */
export type Workflow = (step: Step, input: any) => unknown;

export type RunState = 'running' | 'completed' | 'failed';

/** A run of a workflow, started here or by an earlier page. */
export interface WorkflowRun<T = unknown> {
  readonly id: string;
  readonly name: string | null;
  /** As this client last saw it (another tab's runner reports no progress here until it ends). */
  readonly state: RunState;
  /** How many steps its journal holds completed, as this client last saw it. */
  readonly steps: number;
  /** The workflow's return value; rejects with kind 'workflow-failed' or 'workflow-mismatch'. */
  result(): Promise<T>;
}

export interface WorkflowClient extends DurafetchClient {
  /** Starts workflow `name`, persisted before any step runs; the same `id` again joins the run (another input: 'key-reuse'). */
  start<T = unknown>(name: string, input?: unknown, options?: { id?: string }): Promise<WorkflowRun<T>>;
  /** The run `id` this client knows (started here, or left by an earlier page), or null. */
  run<T = unknown>(id: string): WorkflowRun<T> | null;
  /** The runs not yet finished, as stored. */
  runs(): Promise<WorkflowRun[]>;
}
