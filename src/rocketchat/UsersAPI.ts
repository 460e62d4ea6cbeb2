import DataLoader from 'dataloader';
import { badResponse, missingCredentials } from '../errors.js';
import { eachWithinBudget } from './callBudget.js';
import type { CallOptions, LoaderOptions } from './client.js';
import type { WireUser } from './models.js';

/** A user as the resolvers see it: Rocket.Chat's fields, and where its avatar is served. */
export interface AgentModel extends WireUser {
  avatarUrl: string | null;
}

export type UsersAPIOptions = LoaderOptions;

/**
 * One caller's view of Rocket.Chat users (the agents and contact managers around visitors) for one
 * operation: each distinct user costs one `users.info` call however often the operation names it
 * (the last agent of many visitors, a chat's agent). Rocket.Chat has no multi-user route, so a
 * batch is parallel calls. Built per request: what `users.info` shows depends on the caller.
 */
export class UsersAPI {
  readonly #loader: DataLoader<string, AgentModel>;
  readonly #options: UsersAPIOptions;
  readonly #call: CallOptions | undefined;

  constructor(options: UsersAPIOptions) {
    this.#options = options;
    const { credentials, call } = options;
    this.#call = 'refused' in credentials ? undefined : { ...call, credentials };
    this.#loader = new DataLoader((keys) => this.#fetchAll(keys));
  }

  /**
   * One user by id or username (users.info matches either); rejects with a catalogue error
   * (NOT_FOUND for a user Rocket.Chat no longer has). The keys come from Rocket.Chat's own records
   * (a visitor's last agent, its contact manager); one it could not have issued is a bad response,
   * without a call.
   */
  load(idOrUsername: string): Promise<AgentModel> {
    const { credentials } = this.#options;
    if ('refused' in credentials) return Promise.reject(missingCredentials(credentials.refused));
    // Checked before batching, so a malformed key costs no call and none of the operation's budget.
    if (!USER_KEY.test(idOrUsername)) return Promise.reject(badResponse(200, 'a user id or username in the visitor is malformed'));
    return this.#loader.load(idOrUsername);
  }

  /** As `load`, for a record that may name no user (a contact manager with neither id nor username): null then. */
  loadIfNamed(idOrUsername: string | undefined): Promise<AgentModel | null> {
    return idOrUsername ? this.load(idOrUsername) : Promise.resolve(null);
  }

  /** DataLoader's contract: one value or one Error per key, in the keys' order. */
  #fetchAll(keys: readonly string[]): Promise<(AgentModel | Error)[]> {
    const { client, budget } = this.#options;
    return eachWithinBudget(
      keys,
      budget,
      (key) => client.getUser(key, this.#call!),
      (user) => ({ ...user, avatarUrl: user.username ? client.avatarUrl(user.username, user.avatarETag) : null }),
    );
  }
}

/** Meteor ids, and usernames, which add dots (`agent.smith`) and `@` (federated users). */
const USER_KEY = /^[A-Za-z0-9._@-]{1,120}$/;
