// RESP2 as the in-process double speaks it: requests are arrays of bulk strings (what ioredis sends), replies
// are typed values. Strings are "binary" (latin1) JS strings, so every byte survives the round trip.

/** A status reply (+OK). */
export class Status {
  constructor(readonly value: string) {}
}

/** An error reply (-ERR ...). */
export class ReplyError extends Error {
  constructor(message: string) {
    super(message);
  }
  /** The first word, e.g. "ERR" or "WRONGTYPE". */
  get prefix(): string {
    return this.message.split(" ")[0] ?? "";
  }
}

/** What a command answers: integers, bulk strings (latin1), nil, arrays, statuses and errors. */
export type Reply = number | bigint | string | null | Status | ReplyError | Reply[];

export const OK = new Status("OK");
export const QUEUED = new Status("QUEUED");

function bulk(value: string): Buffer {
  const data = Buffer.from(value, "latin1");
  return Buffer.concat([Buffer.from(`$${data.length}\r\n`), data, Buffer.from("\r\n")]);
}

/** Encodes one reply in RESP2. */
export function encodeReply(reply: Reply, out: Buffer[] = []): Buffer[] {
  if (reply === null) out.push(Buffer.from("$-1\r\n"));
  else if (typeof reply === "number") {
    if (!Number.isInteger(reply)) throw new Error(`internal: integer reply ${reply} is not an integer`);
    out.push(Buffer.from(`:${reply}\r\n`));
  } else if (typeof reply === "bigint") out.push(Buffer.from(`:${reply}\r\n`));
  else if (typeof reply === "string") out.push(bulk(reply));
  else if (reply instanceof Status) out.push(Buffer.from(`+${reply.value}\r\n`));
  else if (reply instanceof ReplyError)
    out.push(Buffer.from(`-${reply.message.replace(/[\r\n]+/g, " ")}\r\n`));
  else {
    out.push(Buffer.from(`*${reply.length}\r\n`));
    for (const item of reply) encodeReply(item, out);
  }
  return out;
}

/** Parses requests (arrays of bulk strings) from a byte stream, however it is chunked. */
export class RequestParser {
  private buffer: Buffer = Buffer.alloc(0);

  /** Adds bytes and returns every complete request, each as latin1 strings. */
  push(chunk: Buffer): string[][] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const requests: string[][] = [];
    for (;;) {
      const parsed = this.parseOne();
      if (!parsed) break;
      requests.push(parsed);
    }
    return requests;
  }

  private parseOne(): string[] | undefined {
    const buf = this.buffer;
    if (buf.length === 0) return undefined;
    if (buf[0] !== 0x2a /* * */) {
      // An inline command (telnet style); ioredis never sends one, but answer it like Redis does.
      const end = buf.indexOf("\r\n");
      if (end < 0) return undefined;
      const line = buf.subarray(0, end).toString("latin1");
      this.buffer = buf.subarray(end + 2);
      return line.split(/\s+/).filter((part) => part.length > 0);
    }
    let pos = 0;
    const line = (): string | undefined => {
      const end = buf.indexOf("\r\n", pos);
      if (end < 0) return undefined;
      const value = buf.subarray(pos, end).toString("latin1");
      pos = end + 2;
      return value;
    };
    const header = line();
    if (header === undefined) return undefined;
    const count = Number(header.slice(1));
    const args: string[] = [];
    for (let i = 0; i < count; i++) {
      const size = line();
      if (size === undefined) return undefined;
      const length = Number(size.slice(1));
      if (buf.length < pos + length + 2) return undefined;
      args.push(buf.subarray(pos, pos + length).toString("latin1"));
      pos += length + 2;
    }
    this.buffer = buf.subarray(pos);
    return args;
  }
}
