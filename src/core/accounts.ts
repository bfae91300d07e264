/**
 * Accounts protect names. Registering binds the current name to a password (scrypt hash in
 * the store); identifying proves you own it. Someone who takes a registered name without
 * identifying is renamed to a guest name when their grace period ends: one period per
 * person and name, which changing names back and forth does not restart. An owner can
 * take their name back from a ghost (`GHOST`/`REGAIN`, `/ghost`, or `identify` in the JSON
 * `hello`). Attempts are throttled per address and scrypt runs a few at a time, so
 * passwords cannot be guessed quickly and hashing cannot be used to load the server.
 */
import type { Core } from './context.js';
import { routeOf } from './context.js';
import { ChatError, ErrorCode } from './errors.js';
import { fold } from './names.js';
import type { NoticeOptions } from './messaging.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { Session } from './session.js';
import { Semaphore, Throttle } from './throttle.js';
import { announce } from './watchlist.js';

/** What accounts need from the other modules (identity, moderation, messaging). */
export interface AccountHooks {
  rename(s: Session, name: string): Promise<void>;
  /** Ends a session wherever it is; resolves once its node has. */
  end(target: string, reason: string): Promise<void>;
  notice(text: string, opts: NoticeOptions): Promise<void>;
}

export class Accounts {
  private readonly logins: Throttle;
  private readonly registrations: Throttle;
  private readonly hashing: Semaphore;
  /** Sessions using someone's registered name: folded name → when their grace ends. */
  private readonly grace = new Map<Session, Map<string, number>>();
  /** Renames under way (a rename is asynchronous; the sweep must not start a second). */
  private readonly renaming = new Set<Session>();
  private guestSeq = 0;

  constructor(
    private readonly core: Core,
    private readonly hooks: AccountHooks,
  ) {
    const o = core.options;
    this.logins = new Throttle(o.loginBurst, o.loginPerMinute, core.clock);
    this.registrations = new Throttle(o.registerBurst, o.registerPerMinute, core.clock);
    this.hashing = new Semaphore(o.hashConcurrency, o.hashQueue);
  }

  /** Registers the session's current name as an account and logs it in. */
  async register(s: Session, password: string): Promise<void> {
    const { core } = this;
    if (!s.registered) throw new ChatError(ErrorCode.NotRegistered, 'Choose a name first');
    if (password.length < core.options.minPasswordLength) {
      throw new ChatError(
        ErrorCode.BadRequest,
        `A password needs at least ${core.options.minPasswordLength} characters`,
      );
    }
    if (s.account) {
      throw new ChatError(ErrorCode.BadRequest, `You are already identified as ${s.account}`);
    }
    this.registrations.take(s.conn.remoteAddress, 'registrations');
    const now = core.clock.now();
    const passwordHash = await this.hashing.run(() => hashPassword(password));
    const created = await core.store.createAccount({
      name: s.name,
      passwordHash,
      createdAt: now,
      lastSeen: now,
    });
    if (!created) {
      throw new ChatError(
        ErrorCode.NameInUse,
        `${s.name} is already registered: /identify PASSWORD`,
        s.name,
      );
    }
    await this.loggedIn(s, s.name);
  }

  /**
   * Checks a name and password (SASL, IDENTIFY). Returns the account's name on success,
   * null on a wrong password or unknown account. Throws when the address is throttled.
   */
  async authenticate(address: string, name: string, password: string): Promise<string | null> {
    this.logins.take(address, 'login attempts');
    const account = await this.core.store.getAccount(name);
    // Hash even for unknown accounts so timing does not tell which names exist.
    const ok = await this.hashing.run(() =>
      verifyPassword(password, account?.passwordHash ?? DUMMY_HASH),
    );
    return ok && account ? account.name : null;
  }

  /** Identifies the session as `name` (default: its current name). */
  async identify(s: Session, password: string, name = s.name): Promise<string> {
    const account = await this.authenticate(s.conn.remoteAddress, name, password);
    if (!account) throw new ChatError(ErrorCode.PermissionDenied, 'Wrong account name or password');
    await this.loggedIn(s, account);
    return account;
  }

  /** Marks the session as logged in to `account` (also used by SASL). */
  async loggedIn(s: Session, account: string): Promise<void> {
    const { core } = this;
    s.account = account;
    s.identityChanged();
    core.sessions.changed(s);
    core.store.touchAccount(account, core.clock.now());
    if (!s.registered) return;
    await core.emit(
      {
        type: 'account',
        ts: core.clock.now(),
        origin: s.id,
        who: s.actor(),
        rooms: [...s.rooms].map((r) => r.name),
      },
      routeOf(core, s),
    );
    announce(core, s, 'account');
  }

  /**
   * Takes `name` back for its owner from whoever holds it: `s` proves the password, the
   * holder (a ghost, an impostor) is disconnected, and with `take` `s` is renamed to it.
   */
  async reclaim(s: Session, name: string, password: string, take: boolean): Promise<string> {
    const account = await this.authenticate(s.conn.remoteAddress, name, password);
    if (!account) throw new ChatError(ErrorCode.PermissionDenied, 'Wrong account name or password');
    if (take) await this.takeOver(s, account);
    else {
      const holder = await this.core.presence.holder(account);
      if (holder && holder !== s.id) {
        await this.hooks.end(holder, `GHOST command used by ${s.name || account}`);
      }
    }
    if (s.account === null || fold(s.account) !== fold(account)) await this.loggedIn(s, account);
    if (take && fold(s.name) !== fold(account)) await this.hooks.rename(s, account);
    return account;
  }

  /**
   * Before registration: proves `password` for `name`'s account and takes the name for
   * `s`, ending a ghost that holds it (JSON `hello` with `identify`, IRC SASL). Returns the
   * account; `s` is logged in to it once registered.
   */
  async takeName(s: Session, name: string, password: string): Promise<string> {
    const account = await this.authenticate(s.conn.remoteAddress, name, password);
    if (!account) throw new ChatError(ErrorCode.PermissionDenied, 'Wrong account name or password');
    await this.takeOver(s, account);
    // Held as registered ('force'): registering does not claim it again.
    if (!s.registered) s.heldRegistered = fold(account);
    this.core.sessions.rename(s, account);
    s.account = account;
    return account;
  }

  /** Makes `s` the holder of `account`'s name, ending whoever else holds it. */
  async takeOver(s: Session, account: string): Promise<void> {
    const holder = await this.core.presence.holder(account);
    if (holder && holder !== s.id) {
      await this.hooks.end(holder, `GHOST command used by ${s.name || account}`);
    }
    // The ghost's node releases its name as it ends it; a claim made with the password
    // does not wait for that.
    await this.core.presence.claim(account, s.id, 'force');
  }

  /**
   * Called whenever a registered session takes a name: if an account owns it and the
   * session is not identified as that account, its grace period runs (from the first time
   * this session took this name: changing names does not restart it).
   */
  async checkName(s: Session): Promise<void> {
    const { core } = this;
    if (!s.registered || (s.account && fold(s.account) === fold(s.name))) return;
    const name = s.name;
    const account = await core.store.getAccount(name);
    if (!account || s.closed || fold(s.name) !== fold(name)) return;
    if (s.account && fold(s.account) === fold(account.name)) return;
    let names = this.grace.get(s);
    if (!names) {
      names = new Map();
      this.grace.set(s, names);
    }
    const key = fold(name);
    const now = core.clock.now();
    const deadline = names.get(key) ?? now + core.options.accountGraceMs;
    names.set(key, deadline);
    const seconds = Math.max(0, Math.round((deadline - now) / 1000));
    await this.hooks.notice(
      `The name ${name} belongs to a registered account. Identify within ${seconds} seconds (/identify PASSWORD) or you will be renamed.`,
      { to: s.name },
    );
  }

  /** Renames those whose grace period for the name they use has ended (from the sweep). */
  sweep(now: number): void {
    for (const [s, names] of this.grace) {
      if (s.closed) {
        this.grace.delete(s);
        continue;
      }
      const deadline = names.get(fold(s.name));
      if (deadline === undefined || deadline > now || this.renaming.has(s)) continue;
      if (s.account && fold(s.account) === fold(s.name)) continue;
      const from = s.name;
      const guest = this.guestName();
      this.renaming.add(s);
      this.hooks
        .rename(s, guest)
        .finally(() => this.renaming.delete(s))
        .then(() =>
          this.hooks.notice(`You did not identify for ${from}; you are now ${guest}`, {
            to: guest,
          }),
        )
        .catch((err: unknown) => this.core.log.warn({ err, id: s.id }, 'guest rename failed'));
    }
  }

  /** A session is gone. */
  forget(s: Session): void {
    this.grace.delete(s);
  }

  private guestName(): string {
    for (;;) {
      const name = `Guest${(++this.guestSeq + Math.floor(Math.random() * 9000) + 1000) % 100000}`;
      if (!this.core.localPresence.holderNow(name)) return name;
    }
  }
}

// A well-formed hash that no password matches: failed lookups cost the same as real ones.
const DUMMY_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$6Ukz8sSxjQf4yOdW4ZcXl3k3Lx2Yp9nEAhFsgxGZqxw=';
