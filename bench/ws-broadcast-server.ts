import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

// The baseline of `npm run bench -- fanout`: a plain `ws` server, no framework, no database. A POST /broadcast body
// (a JSON frame) is parsed, serialised once and sent to every connected client, the way a bare ws broadcast is
// written. A client is greeted with a `ready` frame, as Parley's stream greets it.
const server = createServer((request, response) => {
  if (request.method !== 'POST' || request.url !== '/broadcast') {
    response.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const data = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    for (const client of wss.clients) {
      client.send(data);
    }
    response.writeHead(204).end();
  });
});
const wss = new WebSocketServer({ server });
wss.on('connection', (socket) => {
  socket.send(JSON.stringify({ type: 'ready' }));
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`http://127.0.0.1:${port}\n`);
});
// The bench's HTTP client keeps its connections alive: waiting for them to close would never end.
process.on('SIGTERM', () => process.exit(0));
