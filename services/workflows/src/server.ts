import http2 from "node:http2";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { WorkflowsService } from "./gen/workflows/v1/workflows_pb.js";
import { createWorkflowsService, type WorkflowsDependencies } from "./service.js";

/** A cleartext HTTP/2 server serving workflows over gRPC and Connect, with GET /healthz. */
export function createWorkflowsServer(deps: WorkflowsDependencies): http2.Http2Server {
  const connect = connectNodeAdapter({
    routes: (router) => router.service(WorkflowsService, createWorkflowsService(deps)),
  });
  return http2.createServer((request, response) => {
    if (request.url === "/healthz") {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }
    connect(request, response);
  });
}
