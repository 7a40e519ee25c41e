import Fastify from 'fastify';

// The baseline of `npm run bench`: the same framework with a validated JSON route and no database.
const app = Fastify({ logger: false });
app.post(
  '/hello',
  {
    schema: {
      body: {
        type: 'object',
        properties: { name: { type: 'string' } },
        required: ['name'],
        additionalProperties: false,
      },
      response: { 200: { type: 'object', properties: { hello: { type: 'string' } } } },
    },
  },
  async (request) => ({ hello: (request.body as { name: string }).name }),
);
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${address}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
