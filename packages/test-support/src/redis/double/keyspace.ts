// The double's keyspace: values live in ioredis-mock's data store (the ecosystem's double); types, expiry and
// the empty-collection rule are the layer's, so each command's semantics are decided in one place.
import RedisMock from "ioredis-mock";
import { ReplyError } from "./resp.js";

/** Captured at load, so a suite's fake timers do not make the double's keys expire early or late. */
export const realNow: () => number = Date.now.bind(Date);

export type RedisType = "string" | "list" | "set" | "zset" | "hash";

/** A sorted set: member to score. */
export type ZSet = Map<string, number>;
/** A hash: field to value, in insertion order (like Redis's small hashes). */
export type Hash = Map<string, string>;

// A symbol key marks a sorted set; it survives ioredis-mock's copy-on-read and cannot collide with a member.
const ZSET_TAG = Symbol("zset");

type Stored = string | string[] | Set<string> | Map<string | symbol, string | number>;

/** What a key can hold. */
export type Value = string | string[] | Set<string> | Hash | ZSet;

export const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";

interface MockData {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  has(key: string): boolean;
  delete(key: string): void;
  keys(): string[];
  clear(): void;
}

let instances = 0;

/** One database of the double. */
export class Keyspace {
  readonly mock: InstanceType<typeof RedisMock>;
  private readonly data: MockData;
  /** Absolute expiry in ms by key; kept here rather than in ioredis-mock so one clock decides. */
  private readonly expires = new Map<string, number>();
  /** Called with each key a write changed, for blocked clients. */
  onWrite: ((key: string) => void) | undefined;

  constructor() {
    // ioredis-mock shares data between instances with the same host and port; a host per keyspace isolates it.
    this.mock = new RedisMock({
      host: `test-support-double-${++instances}-${process.pid}`,
      lazyConnect: true,
    });
    this.data = (this.mock as unknown as { data: MockData }).data;
  }

  private expireIfDue(key: string, now = realNow()): void {
    const at = this.expires.get(key);
    if (at !== undefined && at <= now) {
      this.expires.delete(key);
      this.data.delete(key);
    }
  }

  exists(key: string): boolean {
    this.expireIfDue(key);
    return this.data.has(key);
  }

  /** The raw stored value, or undefined. */
  private raw(key: string): Stored | undefined {
    this.expireIfDue(key);
    return this.data.has(key) ? (this.data.get(key) as Stored) : undefined;
  }

  type(key: string): RedisType | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value === "string") return "string";
    if (Array.isArray(value)) return "list";
    if (value instanceof Set) return "set";
    return (value as Map<string | symbol, unknown>).has(ZSET_TAG) ? "zset" : "hash";
  }

  private expect(key: string, type: RedisType): Stored | undefined {
    const found = this.type(key);
    if (found === undefined) return undefined;
    if (found !== type) throw new ReplyError(WRONGTYPE);
    return this.raw(key);
  }

  getString(key: string): string | undefined {
    return this.expect(key, "string") as string | undefined;
  }
  getList(key: string): string[] | undefined {
    return this.expect(key, "list") as string[] | undefined;
  }
  getSet(key: string): Set<string> | undefined {
    return this.expect(key, "set") as Set<string> | undefined;
  }
  getHash(key: string): Hash | undefined {
    return this.expect(key, "hash") as unknown as Hash | undefined;
  }
  getZSet(key: string): ZSet | undefined {
    const stored = this.expect(key, "zset") as Map<string | symbol, number> | undefined;
    if (!stored) return undefined;
    const copy = new Map(stored);
    copy.delete(ZSET_TAG);
    return copy as ZSet;
  }

  /**
   * Stores a value, keeping the key's expiry; an empty collection deletes the key as Redis does. Maps are
   * hashes unless `asZSet`.
   */
  put(key: string, value: Value, asZSet = false): void {
    const empty = typeof value !== "string" && (Array.isArray(value) ? value.length === 0 : value.size === 0);
    if (empty) {
      this.delete(key);
      return;
    }
    this.expireIfDue(key);
    this.data.set(
      key,
      asZSet ? new Map<string | symbol, number>([[ZSET_TAG, 0], ...(value as ZSet)]) : value,
    );
    this.onWrite?.(key);
  }

  putZSet(key: string, value: ZSet): void {
    this.put(key, value, true);
  }

  /** Stores a new value and clears the key's expiry (SET, RENAME targets, *STORE). */
  replace(key: string, value: Value, asZSet = false): void {
    this.expires.delete(key);
    this.put(key, value, asZSet);
  }

  delete(key: string): boolean {
    const existed = this.exists(key);
    this.expires.delete(key);
    if (existed) this.data.delete(key);
    return existed;
  }

  /** Every live key. */
  keys(): string[] {
    const now = realNow();
    return this.data.keys().filter((key) => {
      this.expireIfDue(key, now);
      return this.data.has(key);
    });
  }

  /** Absolute expiry in ms, or undefined when the key has none (or does not exist). */
  expiry(key: string): number | undefined {
    this.expireIfDue(key);
    return this.expires.get(key);
  }

  /** Sets an absolute expiry; one in the past deletes the key, as Redis does. */
  setExpiry(key: string, at: number): void {
    if (at <= realNow()) {
      this.delete(key);
      return;
    }
    this.expires.set(key, at);
  }

  persist(key: string): boolean {
    this.expireIfDue(key);
    return this.expires.delete(key);
  }

  /** Copies a key's value for COPY and RENAME. */
  dump(key: string): { value: Value; zset: boolean; expiry: number | undefined } | undefined {
    const type = this.type(key);
    if (!type) return undefined;
    const expiry = this.expiry(key);
    if (type === "zset") return { value: this.getZSet(key) as ZSet, zset: true, expiry };
    return { value: this.raw(key) as Value, zset: false, expiry };
  }

  /** Removes every key (the environment owns the whole double). */
  flush(): void {
    this.data.clear();
    this.expires.clear();
  }
}
