// A deterministic OpenAI-compatible chat-completions provider (no model runs): the same answers from
// MSW handlers in repo/local and from a small HTTP process in cluster mode, plus the client the service
// uses to stream from any such provider.
import { createServer, type Server } from "node:http";

/** The marker that makes the provider fail after two chunks, for the "provider error mid-stream" case. */
export const FAIL_MID_STREAM = "[fail-mid-stream]";

interface ChatMessage {
  role: string;
  content: string;
}

/** The answer to a conversation, as the chunks it is streamed in, and whether the stream breaks. */
export function deterministicAnswer(messages: ChatMessage[]): {
  chunks: string[];
  failAfter: number | undefined;
} {
  const question = messages.at(-1)?.content ?? "";
  const context = messages.length - 1;
  const text = `You asked "${question.replace(FAIL_MID_STREAM, "").trim()}" with ${context} earlier messages in the thread.`;
  const chunks = text.split(/(?<= )/);
  return { chunks, failAfter: question.includes(FAIL_MID_STREAM) ? 2 : undefined };
}

const sse = (content: string) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;

/** The provider's answer to a chat-completions request body, as a streamed Response. */
export function completionResponse(body: { messages?: ChatMessage[]; stream?: boolean }): Response {
  const { chunks, failAfter } = deterministicAnswer(body.messages ?? []);
  if (!body.stream) {
    return Response.json({
      choices: [{ index: 0, message: { role: "assistant", content: chunks.join("") } }],
    });
  }
  const encoder = new TextEncoder();
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (failAfter !== undefined && sent === failAfter) {
        controller.error(new Error("provider connection reset"));
        return;
      }
      if (sent === chunks.length) {
        controller.enqueue(encoder.encode("data: [DONE]\n\n"));
        controller.close();
        return;
      }
      controller.enqueue(encoder.encode(sse(chunks[sent] ?? "")));
      sent++;
    },
  });
  return new Response(stream, { headers: { "content-type": "text/event-stream" } });
}

/** The provider as a process: POST /v1/chat/completions and GET /healthz on 127.0.0.1. */
export function createProviderServer(): Server {
  return createServer(async (request, response) => {
    if (request.method === "GET" && request.url === "/healthz") {
      response.writeHead(200).end("ok");
      return;
    }
    if (request.method !== "POST" || request.url !== "/v1/chat/completions") {
      response
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { message: "not found" } }));
      return;
    }
    let raw = "";
    for await (const chunk of request) raw += chunk;
    const answer = completionResponse(JSON.parse(raw || "{}"));
    response.writeHead(answer.status, Object.fromEntries(answer.headers));
    try {
      for await (const part of answer.body ?? []) {
        // Wait until each chunk is on the wire, so a break later cannot swallow what was already sent.
        await new Promise<void>((resolve, reject) =>
          response.write(part, (error) => (error ? reject(error) : resolve())),
        );
      }
      response.end();
    } catch {
      // Break the connection mid-stream, as a failing provider does.
      response.destroy();
    }
  });
}

/** Streams the deltas of a chat completion from an OpenAI-compatible provider reached through `fetchFn`. */
export async function* streamCompletion(
  fetchFn: typeof fetch,
  messages: ChatMessage[],
): AsyncGenerator<string> {
  const response = await fetchFn("/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "deterministic", stream: true, messages }),
  });
  if (!response.ok || !response.body) throw new Error(`provider answered HTTP ${response.status}`);
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end !== -1) {
      const event = buffer.slice(0, end).replace(/^data: /, "");
      buffer = buffer.slice(end + 2);
      if (event === "[DONE]") return;
      const delta = (JSON.parse(event) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]
        ?.delta?.content;
      if (delta) yield delta;
      end = buffer.indexOf("\n\n");
    }
  }
  throw new Error("provider closed the stream before [DONE]");
}
