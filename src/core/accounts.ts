/**
 * Accounts protect names. Registering binds the current name to a password (scrypt hash in
 * the store); identifying proves you own it. Someone who takes a registered name without
 * identifying within the grace period is renamed to a guest name. Login attempts are
 * rate-limited per address so passwords cannot be brute-forced.
 */
import { ChatError, ErrorCode } from './errors.js';
import { TokenBucket } from './flood.js';
import type { Hub } from './hub.js';
import { fold } from './names.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { Session } from './session.js';

export interface AccountOptions {
  /** Milliseconds to identify before being renamed. */
  graceMs: number;
  /** Login attempts allowed in a burst per address, then `attemptsPerMinute`. */
  attemptBurst: number;
  attemptsPerMinute: number;
  minPasswordLength: number;
}

export const defaultAccountOptions: AccountOptions = {
  graceMs: 60_000,
  attemptBurst: 5,
  attemptsPerMinute: 5,
  minPasswordLength: 6,
};

export class AccountService {
  private readonly attempts = new Map<string, TokenBucket>();
  private readonly graceTimers = new Map<Session, NodeJS.Timeout>();
  private guestSeq = 0;

  constructor(
    private readonly hub: Hub,
    readonly options: AccountOptions = defaultAccountOptions,
  ) {}

  /** Registers the session's current name as an account and logs it in. */
  async register(s: Session, password: string): Promise<void> {
    if (!s.registered) throw new ChatError(ErrorCode.NotRegistered, 'Choose a name first');
    if (password.length < this.options.minPasswordLength) {
      throw new ChatError(
        ErrorCode.BadRequest,
        `A password needs at least ${this.options.minPasswordLength} characters`,
      );
    }
    if (s.account) {
      throw new ChatError(ErrorCode.BadRequest, `You are already identified as ${s.account}`);
    }
    const now = this.hub.clock.now();
    const created = await this.hub.store.createAccount({
      name: s.name,
      passwordHash: await hashPassword(password),
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
    this.loggedIn(s, s.name);
  }

  /**
   * Checks a name and password (SASL, IDENTIFY). Returns the account's name on success,
   * null on a wrong password or unknown account. Throws when the address is throttled.
   */
  async authenticate(address: string, name: string, password: string): Promise<string | null> {
    let bucket = this.attempts.get(address);
    if (!bucket) {
      bucket = new TokenBucket(
        this.options.attemptBurst,
        this.options.attemptsPerMinute / 60,
        this.hub.clock,
      );
      this.attempts.set(address, bucket);
    }
    if (!bucket.take()) {
      throw new ChatError(ErrorCode.Flood, 'Too many login attempts: wait a minute and try again');
    }
    const account = await this.hub.store.getAccount(name);
    // Hash even for unknown accounts so timing does not tell which names exist.
    const ok = await verifyPassword(password, account?.passwordHash ?? DUMMY_HASH);
    return ok && account ? account.name : null;
  }

  /** Identifies the session as `name` (default: its current name). */
  async identify(s: Session, password: string, name = s.name): Promise<string> {
    const account = await this.authenticate(s.conn.remoteAddress, name, password);
    if (!account) throw new ChatError(ErrorCode.PermissionDenied, 'Wrong account name or password');
    this.loggedIn(s, account);
    return account;
  }

  /** Marks the session as logged in to `account` (also used by SASL). */
  loggedIn(s: Session, account: string): void {
    s.account = account;
    s.identityChanged();
    this.cancelGrace(s);
    this.hub.store.touchAccount(account, this.hub.clock.now());
    this.hub.accountChanged(s);
  }

  /**
   * Called whenever a registered session takes a name: if an account owns it and the
   * session is not identified as that account, start the grace period.
   */
  async checkName(s: Session): Promise<void> {
    this.cancelGrace(s);
    if (s.account && fold(s.account) === fold(s.name)) return;
    const name = s.name;
    const account = await this.hub.store.getAccount(name);
    if (!account || s.closed || fold(s.name) !== fold(name)) return;
    if (s.account && fold(s.account) === fold(account.name)) return;
    const seconds = Math.round(this.options.graceMs / 1000);
    this.hub.notice(
      `The name ${name} belongs to a registered account. Identify within ${seconds} seconds (/identify PASSWORD) or you will be renamed.`,
      { to: s.name },
    );
    const timer = setTimeout(() => {
      this.graceTimers.delete(s);
      if (s.closed || fold(s.name) !== fold(name) || (s.account && fold(s.account) === fold(name)))
        return;
      const guest = this.guestName();
      this.hub.setName(s, guest);
      this.hub.notice(`You did not identify for ${name}; you are now ${guest}`, { to: guest });
    }, this.options.graceMs);
    timer.unref();
    this.graceTimers.set(s, timer);
  }

  cancelGrace(s: Session): void {
    const t = this.graceTimers.get(s);
    if (t) {
      clearTimeout(t);
      this.graceTimers.delete(s);
    }
  }

  private guestName(): string {
    for (;;) {
      const name = `Guest${(++this.guestSeq + Math.floor(Math.random() * 9000) + 1000) % 100000}`;
      if (this.hub.nameFree(name)) return name;
    }
  }
}

// A well-formed hash that no password matches: failed lookups cost the same as real ones.
const DUMMY_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$6Ukz8sSxjQf4yOdW4ZcXl3k3Lx2Yp9nEAhFsgxGZqxw=';
