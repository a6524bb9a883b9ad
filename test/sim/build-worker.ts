/** A worker thread of the parallel build (build.ts): generates and signs the chunks it is asked for. */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { chunkBuffers, generateChunk, timeAt } from './chunk.ts';
import { EntryGenerator } from './generate.ts';
import type { WorkerInit } from './build.ts';
import { spkiOf } from './keys.ts';

const init = workerData as WorkerInit;
const privateKey = createPrivateKey({ key: Buffer.from(init.caKey), format: 'der', type: 'pkcs8' });
const publicKey = createPublicKey(privateKey);
const gen = new EntryGenerator(init.seed, init.api, { der: init.caDer, privateKey, publicKey, spki: spkiOf(publicKey), cn: init.caCn });
const injected = new Map(init.injects);

parentPort!.on('message', (m: { from: number; count: number }) => {
  const chunk = generateChunk(gen, m.from, m.count, (i) => timeAt(init.timeline, i), (i) => injected.get(i));
  parentPort!.postMessage(chunk, chunkBuffers(chunk)); // moved, not copied
});
