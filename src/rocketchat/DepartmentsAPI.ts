import DataLoader from 'dataloader';
import { badUserInput, missingCredentials, overBudget, responseTooLarge } from '../errors.js';
import { wireSize } from './wireSize.js';
import { DEPARTMENTS_PER_CALL, type CallOptions, type LoaderOptions } from './client.js';
import type { WireDepartment } from './models.js';
import { VISITOR_ID_PATTERN } from './VisitorsAPI.js';

export type DepartmentsAPIOptions = LoaderOptions;

/**
 * One caller's view of Rocket.Chat's departments for one GraphQL operation. Every department the
 * operation needs, across all its visitors and aliases, is asked for in one `department.listByIds`
 * call per DEPARTMENTS_PER_CALL distinct ids: the DataLoader collects the ids of one tick and
 * splits them into batches of that size. Built per request, so one caller's answer (which depends
 * on their permissions) is never another's.
 */
export class DepartmentsAPI {
  readonly #loader: DataLoader<string, WireDepartment | null>;
  readonly #options: DepartmentsAPIOptions;
  readonly #call: CallOptions | undefined;

  constructor(options: DepartmentsAPIOptions) {
    this.#options = options;
    const { credentials, call } = options;
    this.#call = 'refused' in credentials ? undefined : { ...call, credentials };
    this.#loader = new DataLoader((ids) => this.#fetch(ids), { maxBatchSize: DEPARTMENTS_PER_CALL });
  }

  /** One department, or null when Rocket.Chat does not return it (it was deleted); rejects with a catalogue error. */
  load(id: string): Promise<WireDepartment | null> {
    if (!VISITOR_ID_PATTERN.test(id)) {
      return Promise.reject(badUserInput('A department id is 1 to 64 characters of A-Z, a-z, 0-9, "_" and "-".'));
    }
    const { credentials } = this.#options;
    if ('refused' in credentials) return Promise.reject(missingCredentials(credentials.refused));
    return this.#loader.load(id);
  }

  /**
   * DataLoader's contract: one value or one Error per id, in the ids' order. Rocket.Chat answers in
   * its own order and leaves unknown ids out, so the answer is keyed by `_id`; an id it left out
   * is a department that no longer exists.
   */
  async #fetch(ids: readonly string[]): Promise<(WireDepartment | null | Error)[]> {
    const { client, budget } = this.#options;
    if (budget.take(1) === 0) return ids.map(() => overBudget(budget.max, budget.max, { request: false }));
    try {
      const departments = await client.getDepartments(ids, this.#call!);
      if (!budget.spendBytes(wireSize(departments))) return ids.map(() => responseTooLarge(budget.maxBytes));
      const byId = new Map<string, WireDepartment>();
      for (const department of departments) byId.set(department._id, department);
      return ids.map((id) => byId.get(id) ?? null);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      return ids.map(() => error);
    }
  }
}
