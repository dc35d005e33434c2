import { request as httpRequest } from "node:http";

/**
 * A `fetch` that sends every request to `address` ("host:port") while the URL's host goes in
 * the Host header, like `curl --connect-to`. Only for Node on systems that do not resolve
 * `*.localhost` (browsers always do); plain HTTP.
 */
export function fetchConnectingTo(address: string): (input: Request) => Promise<Response> {
  const [hostname, port] = address.split(":");
  return async (input: Request): Promise<Response> => {
    const url = new URL(input.url);
    const body = input.body === null ? null : new Uint8Array(await input.arrayBuffer());
    const headers: Record<string, string> = { ...Object.fromEntries(input.headers), host: url.host };
    if (body !== null) {
      headers["content-length"] = String(body.byteLength); // not chunked: WSGI servers want a length
    }
    return new Promise((resolve, reject) => {
      const sent = httpRequest(
        { host: hostname, port: Number(port), method: input.method, path: url.pathname + url.search, headers },
        (answer) => {
          const chunks: Uint8Array[] = [];
          answer.on("data", (chunk: Uint8Array) => chunks.push(chunk));
          answer.on("end", () => {
            const status = answer.statusCode ?? 502;
            const received = new Headers();
            for (const [name, value] of Object.entries(answer.headers)) {
              for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
                received.append(name, one);
              }
            }
            const content = status === 204 || status === 304 ? null : new Uint8Array(Buffer.concat(chunks));
            resolve(new Response(content, { status, headers: received }));
          });
        },
      );
      sent.on("error", reject);
      if (body !== null) {
        sent.write(body);
      }
      sent.end();
    });
  };
}
