/**
 * The REST benchmark's baseline (scripts/bench/rest.ts): a bare fastify 5 server whose one route answers a
 * constant JSON body of the same shape as a balance answer, with a response schema as the real route has.
 * Prints {"port": N} once listening.
 */
import Fastify from 'fastify';

const ANSWER = { kpj: '12000000001', name: 'BUDI SANTOSO', balance: { amount: '15250000.00', currency: 'IDR' }, asOf: '2026-10-31', reference: '00000000-0000-4000-8000-000000000000' };

const app = Fastify();
app.post('/bare', {
  schema: {
    response: {
      200: {
        type: 'object',
        properties: {
          kpj: { type: 'string' }, name: { type: 'string' },
          balance: { type: 'object', properties: { amount: { type: 'string' }, currency: { type: 'string' } } },
          asOf: { type: 'string' }, reference: { type: 'string' },
        },
      },
    },
  },
}, () => ANSWER);
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
