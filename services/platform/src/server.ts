import http2 from "node:http2";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { PlatformService } from "./gen/platform/v1/platform_pb.js";
import { createPlatformService, type PlatformDependencies } from "./service.js";

/** A cleartext HTTP/2 server serving the platform over gRPC and Connect, with GET /healthz. */
export function createPlatformServer(deps: PlatformDependencies): http2.Http2Server {
  const connect = connectNodeAdapter({
    routes: (router) => router.service(PlatformService, createPlatformService(deps)),
  });
  return http2.createServer((request, response) => {
    if (request.url === "/healthz") {
      response.writeHead(200, { "content-type": "text/plain" });
      response.end("ok");
      return;
    }
    connect(request, response);
  });
}
