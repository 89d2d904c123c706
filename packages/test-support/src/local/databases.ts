// Local mode's databases: per set of migrations, one template database holding them and the reset
// machinery, and a few databases copied from it ahead of time, so an environment's set-up is a rename of
// a ready copy rather than a CREATE DATABASE (about 56 ms on the run's server) or a migration run. Copies keep
// the default STRATEGY WAL_LOG: FILE_COPY copies faster alone (17 ms) but forces a checkpoint each time, which
// stalled the renames and drops beside it (set-up went from about 50 ms to about 200 ms).
import { createHash } from "node:crypto";
import pg from "pg";
import { errorText, TestSupportError } from "../errors.js";
import { applyMigrations } from "../postgres/migrations.js";
import { installReset, quoteIdent } from "../postgres/reset-sql.js";
import type { DatabaseLease, TemplateMigration } from "./protocol.js";

/** The schema the migrations are in, in every local database (a name no message contains by chance). */
export const LOCAL_SCHEMA = "it_local";
/** Copies kept ready per template. */
const READY = 2;

/** A copy of a template: made, or still being made (copies are made one after another). */
interface Copy {
  readonly name: Promise<string>;
  made: boolean;
}

interface Template {
  name: string;
  /** Copies made or under way, oldest first. */
  ready: Copy[];
  /** The latest copy under way: the next one starts after it, so two copies never compete for the disk. */
  last: Promise<unknown>;
}

export class LocalDatabases {
  private readonly templates = new Map<string, Promise<Template>>();
  private readonly drops = new Set<Promise<unknown>>();
  /** Connections to the `postgres` database for the statements above, kept open: a new one costs ~14 ms. */
  private adminPool: pg.Pool | undefined;
  private counter = 0;
  handedOut = 0;
  fromPool = 0;

  constructor(
    private readonly url: (database: string) => string,
    private readonly implementation: string,
  ) {}

  get templateCount(): number {
    return this.templates.size;
  }

  private async admin<T>(action: (client: pg.ClientBase) => Promise<T>, database = "postgres"): Promise<T> {
    if (database === "postgres") {
      if (!this.adminPool) {
        this.adminPool = new pg.Pool({ connectionString: this.url(database), max: 3 });
        // An idle connection the server drops (it stops at the end of the run) must not crash the supervisor.
        this.adminPool.on("error", () => {});
      }
      const pooled = await this.adminPool.connect();
      try {
        const result = await action(pooled);
        pooled.release();
        return result;
      } catch (error) {
        pooled.release(error as Error);
        throw error;
      }
    }
    const client = new pg.Client({ connectionString: this.url(database) });
    client.on("error", () => {});
    await client.connect();
    try {
      return await action(client);
    } finally {
      await client.end().catch(() => {});
    }
  }

  /** The template of a set of migrations, built the first time it is asked for (one build at a time per set). */
  private template(migrations: TemplateMigration[]): Promise<Template> {
    const key = createHash("sha256");
    for (const m of migrations) key.update(`${m.name}\0${m.sql}\0`);
    const id = key.digest("hex").slice(0, 16);
    let template = this.templates.get(id);
    if (!template) {
      template = this.buildTemplate(`it_template_${id}`, migrations);
      this.templates.set(id, template);
      // A failed build is not kept: the next environment gets the same, fresh error.
      template.catch(() => this.templates.delete(id));
    }
    return template;
  }

  private async buildTemplate(name: string, migrations: TemplateMigration[]): Promise<Template> {
    await this.admin((c) => c.query(`create database ${quoteIdent(name)}`));
    try {
      await this.admin(async (client) => {
        await client.query(`create schema ${quoteIdent(LOCAL_SCHEMA)}`);
        await client.query(`set search_path to ${quoteIdent(LOCAL_SCHEMA)}`);
        await applyMigrations(
          client,
          migrations,
          (migration, error) =>
            new TestSupportError(
              "MIGRATION_FAILED",
              `migration ${migration.name} failed on the local PostgreSQL: ${errorText(error)}.`,
              { cause: error },
            ),
        );
        await installReset(client, LOCAL_SCHEMA, `${LOCAL_SCHEMA}_ctl`);
      }, name);
      // Nobody connects to a template: a connection would make CREATE DATABASE ... TEMPLATE fail.
      await this.admin((c) =>
        c.query(`alter database ${quoteIdent(name)} with is_template true allow_connections false`),
      );
    } catch (error) {
      await this.admin((c) => c.query(`drop database if exists ${quoteIdent(name)} with (force)`)).catch(
        () => {},
      );
      throw error;
    }
    return { name, ready: [], last: Promise.resolve() };
  }

  private async copy(template: Template): Promise<string> {
    const name = `it_ready_${process.pid}_${++this.counter}`;
    await this.admin((c) =>
      c.query(`create database ${quoteIdent(name)} template ${quoteIdent(template.name)}`),
    );
    return name;
  }

  /** Tops the template's copies (made or under way) up to READY, one CREATE DATABASE at a time, in the background. */
  private refill(template: Template): void {
    while (template.ready.length < READY) {
      const name = template.last.then(() => this.copy(template));
      const copy: Copy = { name, made: false };
      name.then(
        () => {
          copy.made = true;
        },
        // The lease that takes this copy makes its own, and says why if it cannot.
        () => {},
      );
      template.last = name.catch(() => {});
      template.ready.push(copy);
    }
  }

  /** A database of the migrations, named `name`, for one environment. */
  async lease(migrations: TemplateMigration[], name: string): Promise<DatabaseLease> {
    const template = await this.template(migrations);
    // The oldest copy, even if it is still being made: waiting for it is quicker than a second copy beside it.
    const ready = template.ready.shift();
    this.refill(template);
    if (ready?.made) this.fromPool++;
    this.handedOut++;
    const source = (await ready?.name.catch(() => undefined)) ?? (await this.copy(template));
    await this.admin((c) => c.query(`alter database ${quoteIdent(source)} rename to ${quoteIdent(name)}`));
    return { database: name, url: this.url(name), schema: LOCAL_SCHEMA, implementation: this.implementation };
  }

  /** Drops an environment's database in the background (its connections are closed by then or forced out). */
  release(name: string): void {
    const drop = this.admin((c) => c.query(`drop database if exists ${quoteIdent(name)} with (force)`)).catch(
      () => {},
    );
    this.drops.add(drop);
    drop.finally(() => this.drops.delete(drop));
  }

  /** Waits for background work and closes the admin connections, so the server is not stopped under them. */
  async settle(): Promise<void> {
    await Promise.allSettled([
      ...this.drops,
      ...[...this.templates.values()].map((t) => t.then((x) => x.last)),
    ]);
    await this.adminPool?.end().catch(() => {});
    this.adminPool = undefined;
  }
}
