// An Internet endpoint run by a test: a plain HTTP server that accepts PoHTTP deliveries.
import { createServer } from 'node:http';

/**
 * Listens on 127.0.0.1:`port`; `received` resolves with the first parcel posted to it, as
 * `{ body, type }` (the raw bytes and the Content-Type), after answering 202.
 */
export function startEndpoint(port) {
  let resolveParcel;
  const received = new Promise((resolve) => {
    resolveParcel = resolve;
  });
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      response.writeHead(202).end();
      resolveParcel({ body: Buffer.concat(chunks), type: request.headers['content-type'] });
    });
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => resolve({ server, received }));
  });
}
