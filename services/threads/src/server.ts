import http2 from "node:http2";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ThreadsService } from "./gen/threads/v1/threads_pb.js";
import { createThreadsService, type ThreadsDependencies } from "./service.js";

/** A cleartext HTTP/2 server serving threads over gRPC and Connect, with GET /healthz. */
export function createThreadsServer(deps: ThreadsDependencies): http2.Http2Server {
  const connect = connectNodeAdapter({
    routes: (router) => router.service(ThreadsService, createThreadsService(deps)),
  });
  return http2.createServer((request, response) => {
    if (request.url === "/healthz") {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }
    connect(request, response);
  });
}
